/**
 * Data in and out: prompt sets (HH-RLHF, the outline premises, files), the pairs table and the simulation's JSONL log,
 * TRL preference JSONL and AlpacaFarm CSV exports, the project's bundled data files, and the CSV and Python float
 * formatting they share.
 */
package rlcd4j.data;
