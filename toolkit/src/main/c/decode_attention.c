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
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>

/* e^x for x <= 0, 8 lanes: Cephes' expf (range reduction by ln 2, degree-5 polynomial), within 2 ulp. */
static inline __m256 exp_nonpositive(__m256 x) {
    x = _mm256_max_ps(x, _mm256_set1_ps(-87.0f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(_mm256_mul_ps(p, r), r, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

static inline float sum_lanes(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Returns 0, -1 for unsupported sizes, -2 if scratch memory could not be had. */
int rlcd4j_decode_attention(const float *q, long qRow, const float *k, const float *v, float *out, const int *start,
                            int b0, int b1, int KV, int G, long cap, int hd, int S, float scale) {
    if (hd % 8 != 0 || hd > 256) return -1;
    float *p = malloc(sizeof(float) * ((size_t) S + 8)); /* one head's scores, then its weights */
    if (p == NULL) return -2;
    int H = KV * G, nv = hd / 8;
    for (int b = b0; b < b1; b++) {
        int s0 = start[b], len = S - s0;
        for (int kv = 0; kv < KV; kv++) {
            const float *K = k + ((size_t) (b * KV + kv) * cap + s0) * hd; /* [len, hd] */
            const float *V = v + ((size_t) (b * KV + kv) * cap + s0) * hd;
            for (int g = 0; g < G; g++) {
                const float *Q = q + (size_t) b * qRow + (size_t) (kv * G + g) * hd;
                float *O = out + ((size_t) b * H + kv * G + g) * hd;
                /* scores (q . k_j) * scale and their maximum; the group's heads re-read K from cache, not memory */
                float m = -INFINITY;
                for (int j = 0; j < len; j++) {
                    const float *kj = K + (size_t) j * hd;
                    __m256 x = _mm256_mul_ps(_mm256_loadu_ps(Q), _mm256_loadu_ps(kj));
                    for (int i = 1; i < nv; i++) x = _mm256_fmadd_ps(_mm256_loadu_ps(Q + 8 * i), _mm256_loadu_ps(kj + 8 * i), x);
                    float s = sum_lanes(x) * scale;
                    p[j] = s;
                    m = s > m ? s : m;
                }
                /* weights e^(s - max) and their sum; the tail pads with -inf, whose weight is 0 */
                __m256 mv = _mm256_set1_ps(m), sv = _mm256_setzero_ps();
                int j = 0;
                for (; j + 8 <= len; j += 8) {
                    __m256 e = exp_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(p + j), mv));
                    _mm256_storeu_ps(p + j, e);
                    sv = _mm256_add_ps(sv, e);
                }
                if (j < len) {
                    float tail[8];
                    for (int t = 0; t < 8; t++) tail[t] = j + t < len ? p[j + t] - m : -INFINITY;
                    __m256 e = exp_nonpositive(_mm256_loadu_ps(tail));
                    sv = _mm256_add_ps(sv, e);
                    _mm256_storeu_ps(tail, e);
                    for (int t = 0; j + t < len; t++) p[j + t] = tail[t];
                }
                __m256 inv = _mm256_set1_ps(1.0f / sum_lanes(sv));
                /* out = sum_j w_j v_j / sum_j w_j */
                __m256 acc[32];
                for (int i = 0; i < nv; i++) acc[i] = _mm256_setzero_ps();
                for (int jj = 0; jj < len; jj++) {
                    __m256 w = _mm256_set1_ps(p[jj]);
                    const float *vj = V + (size_t) jj * hd;
                    for (int i = 0; i < nv; i++) acc[i] = _mm256_fmadd_ps(w, _mm256_loadu_ps(vj + 8 * i), acc[i]);
                }
                for (int i = 0; i < nv; i++) _mm256_storeu_ps(O + 8 * i, _mm256_mul_ps(acc[i], inv));
            }
        }
    }
    free(p);
    return 0;
}
