/**
 * CPU speed tricks, kept apart from the model's math: MKL's code path, libtorch and OpenMP thread settings, a native
 * decode attention and a helper thread that splits small decode-step products. The KV cache lives here because the
 * native attention reads its preallocated memory in place.
 */
package rlcd4j.engine.cpu;
