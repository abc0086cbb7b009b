/**
 * Progress reports of long toolkit calls (generation, simulation, training) and where they go: a terminal bar on the
 * CLI, or the sink a notebook installs.
 */
package rlcd4j.progress;
