/*
 * rlcd4j: a decode step's attention over the KV cache, for x86-64 CPUs with AVX2 and FMA.
 *
 * One token per batch row attends to that row's own columns of the cache only, [start[b], S): a batch whose rows
 * hold histories of different lengths (left padding, rows that joined later) reads no padding. libtorch's batched
 * ops read every row's columns from the batch's first, behind a mask, and read them at a third of the memory's speed
 * (docs/perf/engine.md). Built by Maven with gcc into linux-x86-64/librlcd4j_attention.so and called through JNA
 * (rlcd4j.engine.cpu.DecodeAttention), which falls back to libtorch's ops when the library is missing.
 *
 * Shapes (floats, row-major):
 *   q    [B, H, hd], row b at q + b * qRow; H = KV * G query heads, head kv * G + g reads kv head kv
 *   k, v [B, KV, cap, hd], the cache buffers; row b's keys are columns [start[b], S)
 *   out  [B, H, hd]
 * Scores are (q . k) * scale, softmax over the row's columns, then the weighted sum of v. Rows [b0, b1) are done by
 * this call, so two threads can share a batch. hd must be a multiple of 8 and at most 256.
 */
#include <stdlib.h>

#include "kernels.h"

/* Returns 0, -1 for unsupported sizes, -2 if scratch memory could not be had. */
int rlcd4j_decode_attention(const float *q, long qRow, const float *k, const float *v, float *out, const int *start,
                            int b0, int b1, int KV, int G, long cap, int hd, int S, float scale) {
    if (hd % 8 != 0 || hd > 256) return -1;
    float *p = malloc(sizeof(float) * ((size_t) S + 8)); /* one head's scores, then its weights */
    if (p == NULL) return -2;
    int H = KV * G;
    for (int b = b0; b < b1; b++) {
        int s0 = start[b], len = S - s0;
        for (int kv = 0; kv < KV; kv++) {
            const float *K = k + ((size_t) (b * KV + kv) * cap + s0) * hd; /* [len, hd] */
            const float *V = v + ((size_t) (b * KV + kv) * cap + s0) * hd;
            attend_group(q + (size_t) b * qRow + (size_t) kv * G * hd, K, V, out + ((size_t) b * H + kv * G) * hd, G,
                         len, hd, scale, p);
        }
    }
    free(p);
    return 0;
}
