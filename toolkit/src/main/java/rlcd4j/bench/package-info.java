/**
 * Benchmarks of the engine and trainers on SmolLM2-135M's shapes with random weights: decode and prefill throughput,
 * simulation throughput by batch size, training throughput and native memory over a long run (docs/performance.md).
 */
package rlcd4j.bench;
