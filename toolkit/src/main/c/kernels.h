/*
 * rlcd4j: vector helpers shared by the native decode kernels (AVX2, FMA, F16C; x86-64).
 */
#ifndef RLCD4J_KERNELS_H
#define RLCD4J_KERNELS_H
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

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

/* gate[i] = silu(gate[i]) * up[i] for i < n (a multiple of 8): SwiGLU, sigmoid from e^-|x|, which cannot overflow. */
static inline void swiglu(float *gate, const float *up, long n) {
    const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
    for (long i = 0; i < n; i += 8) {
        __m256 g = _mm256_loadu_ps(gate + i);
        __m256 e = exp_nonpositive(_mm256_or_ps(g, sign)); /* e^-|g| */
        __m256 inv = _mm256_div_ps(one, _mm256_add_ps(one, e));
        __m256 sig = _mm256_blendv_ps(_mm256_mul_ps(e, inv), inv, _mm256_cmp_ps(g, _mm256_setzero_ps(), _CMP_GE_OQ));
        _mm256_storeu_ps(gate + i, _mm256_mul_ps(_mm256_mul_ps(g, sig), _mm256_loadu_ps(up + i)));
    }
}

static inline float sum_lanes(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* The eight sums of a[0..7], lane t holding a[t]'s, each added in sum_lanes' order (so each equals it exactly). */
static inline __m256 sum_lanes8(const __m256 *a) {
    __m256 h[4]; /* h[t]: [a[t]'s lanes i + (i + 4), i < 4 | a[t + 4]'s] */
    for (int t = 0; t < 4; t++)
        h[t] = _mm256_add_ps(_mm256_permute2f128_ps(a[t], a[t + 4], 0x20),
                             _mm256_permute2f128_ps(a[t], a[t + 4], 0x31));
    /* then (i + 2) into i, two vectors a half */
    __m256 c = _mm256_add_ps(_mm256_shuffle_ps(h[0], h[1], 0x44), _mm256_shuffle_ps(h[0], h[1], 0xEE));
    __m256 d = _mm256_add_ps(_mm256_shuffle_ps(h[2], h[3], 0x44), _mm256_shuffle_ps(h[2], h[3], 0xEE));
    /* then 1 into 0 */
    return _mm256_add_ps(_mm256_shuffle_ps(c, d, 0x88), _mm256_shuffle_ps(c, d, 0xDD));
}

/*
 * One kv head's attention for its G query heads, one new token: scores (q . k_j) * scale over the len columns of K
 * and V ([len, hd] each, rows hd floats apart), softmax, weighted sum of V. Q holds the G heads [G, hd], O receives
 * them. p is scratch for len + 8 floats. hd is a multiple of 8, at most 256.
 */
static inline void attend_group(const float *Q, const float *K, const float *V, float *O, int G, int len, int hd,
                                float scale, float *p) {
    int nv = hd / 8;
    for (int g = 0; g < G; g++) {
        const float *q = Q + (size_t) g * hd;
        float *o = O + (size_t) g * hd;
        /* scores and their maximum; the group's heads re-read K from cache, not memory. Eight keys at a time, eight
           independent sums (one key's sum is a chain of hd / 8 dependent FMAs), each summed as sum_lanes would */
        __m256 mv8 = _mm256_set1_ps(-INFINITY);
        int j = 0;
        for (; j + 8 <= len; j += 8) {
            const float *k8 = K + (size_t) j * hd;
            __m256 a[8], qv = _mm256_loadu_ps(q);
            for (int t = 0; t < 8; t++) a[t] = _mm256_mul_ps(qv, _mm256_loadu_ps(k8 + (size_t) t * hd));
            for (int i = 1; i < nv; i++) {
                qv = _mm256_loadu_ps(q + 8 * i);
                for (int t = 0; t < 8; t++)
                    a[t] = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k8 + (size_t) t * hd + 8 * i), a[t]);
            }
            __m256 s8 = _mm256_mul_ps(sum_lanes8(a), _mm256_set1_ps(scale));
            _mm256_storeu_ps(p + j, s8);
            mv8 = _mm256_max_ps(s8, mv8); /* as m = s > m ? s : m, a NaN score skipped */
        }
        float m = -INFINITY, lanes[8];
        _mm256_storeu_ps(lanes, mv8);
        for (int t = 0; t < 8; t++) m = lanes[t] > m ? lanes[t] : m;
        for (; j < len; j++) {
            const float *kj = K + (size_t) j * hd;
            __m256 x = _mm256_mul_ps(_mm256_loadu_ps(q), _mm256_loadu_ps(kj));
            for (int i = 1; i < nv; i++)
                x = _mm256_fmadd_ps(_mm256_loadu_ps(q + 8 * i), _mm256_loadu_ps(kj + 8 * i), x);
            float s = sum_lanes(x) * scale;
            p[j] = s;
            m = s > m ? s : m;
        }
        /* weights e^(s - max) and their sum; the tail pads with -inf, whose weight is 0 */
        __m256 mv = _mm256_set1_ps(m), sv = _mm256_setzero_ps();
        for (j = 0; j + 8 <= len; j += 8) {
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
        for (int i = 0; i < nv; i++) _mm256_storeu_ps(o + 8 * i, _mm256_mul_ps(acc[i], inv));
    }
}
#endif
