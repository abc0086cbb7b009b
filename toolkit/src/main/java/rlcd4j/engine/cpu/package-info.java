/**
 * CPU speed tricks, kept apart from the model's math: MKL's code path, libtorch and OpenMP thread settings, native
 * decode steps and attention, the native prefill, and a helper thread that splits small decode-step products. The KV
 * cache lives here because the native kernels read and write its preallocated memory in place.
 */
package rlcd4j.engine.cpu;
