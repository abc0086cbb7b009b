/**
 * The bottom layer, which every other package may use and which uses no other rlcd4j package: the one error for bad
 * input ({@link rlcd4j.util.RlcdException}), the one JSON instance, ports of the paper's Python helpers that must
 * match it draw for draw or byte for byte (CPython's random generator, Python's string rules, the samples'
 * post-processing, RLAIF's soft label), HTML escaping and tables, seed mixing, and small I/O helpers.
 */
package rlcd4j.util;
