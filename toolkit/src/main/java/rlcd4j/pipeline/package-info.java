/**
 * The end-to-end demo on the sandbox ({@link rlcd4j.pipeline.Demo}), the run folders that let a stopped run continue,
 * and the self-contained HTML report it writes.
 */
package rlcd4j.pipeline;
