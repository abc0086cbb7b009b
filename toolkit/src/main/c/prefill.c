/*
 * rlcd4j: the element-wise work of a prefill or scoring forward, in native code (x86-64, AVX2 and FMA).
 *
 * A forward over many tokens spends most of its time in the weight products, which libtorch hands to MKL at close to
 * the cores' peak. What remains is some thirty element-wise ops per layer (norms, RoPE, head layouts, the mask and
 * softmax, SwiGLU), each a libtorch call that allocates its output and passes over memory once (their share of a
 * forward: docs/perf/engine.md, "Native prefill"). Here each of those groups is one pass, and attention (scores, mask,
 * softmax and the weighted values, which libtorch ran as batched products around them) is one kernel; called
 * through JNA by rlcd4j.engine.cpu.NativePrefill, which keeps the weight products in libtorch.
 *
 * Layout: the residual stream and every projection are feature-major, X [features, R] for R = B T token columns
 * (column r = b T + t). A product is then W [N, K] times X [K, R], both as stored, and the element-wise passes run
 * along contiguous columns. Attention reads queries [B, H, T, hd] and keys and values [B, KV, cap, hd], the cache's
 * layout, which the decode step reads too.
 *
 * Products and threads: rlcd4j_fm_init hands this file the matrix product and the OpenMP runtime that libtorch
 * loaded (MKL's sgemm_ and libgomp's entry points, found by rlcd4j.engine.cpu.LibtorchRuntime). The products write
 * into the caller's buffers, which a forward reuses from layer to layer, and the passes that take a thread count run
 * on OpenMP's team of threads, the same workers that just ran a product and are still spinning, each doing its share
 * of the token columns (attention: of the queries). Without OpenMP's entry points a pass runs on the calling thread.
 */
#include <string.h>

#include "kernels.h"

typedef void (*sgemm_fn)(const char *transa, const char *transb, const int64_t *m, const int64_t *n, const int64_t *k,
                         const float *alpha, const float *a, const int64_t *lda, const float *b, const int64_t *ldb,
                         const float *beta, float *c, const int64_t *ldc);
static sgemm_fn sgemm;
static void (*omp_parallel)(void (*fn)(void *), void *data, unsigned threads, unsigned flags);
static int (*omp_thread_num)(void);
static int (*omp_num_threads)(void);

/*
 * The BLAS sgemm_ (Fortran interface) and libgomp's GOMP_parallel, omp_get_thread_num and omp_get_num_threads that
 * libtorch loaded; the last three may be NULL (passes then run on the calling thread). The product's integer
 * arguments are passed as 64-bit values under 2^31: read as 32-bit integers (MKL's LP64 interface, libtorch's) or as
 * 64-bit ones (ILP64), they hold the same numbers on a little-endian machine.
 */
void rlcd4j_fm_init(void *blasSgemm, void *gompParallel, void *ompGetThreadNum, void *ompGetNumThreads) {
    sgemm = (sgemm_fn) blasSgemm;
    if (gompParallel != NULL && ompGetThreadNum != NULL && ompGetNumThreads != NULL) {
        omp_parallel = (void (*)(void (*)(void *), void *, unsigned, unsigned)) gompParallel;
        omp_thread_num = (int (*)(void)) ompGetThreadNum;
        omp_num_threads = (int (*)(void)) ompGetNumThreads;
    }
}

/* Y [N, R] = W [N, K] X [K, R], all row-major: in the column-major terms of BLAS, Y^T = X^T W^T. */
void rlcd4j_fm_product(const float *W, int64_t N, int64_t K, const float *X, int64_t R, float *Y) {
    const float one = 1.0f, zero = 0.0f;
    sgemm("N", "N", &R, &N, &K, &one, X, &R, W, &K, &zero, Y, &R);
}

/* A pass's body, run by each of `threads` threads with its id tid. */
typedef void (*pass_fn)(const void *args, int tid, int threads);

struct pass {
    pass_fn body;
    const void *args;
};

static void run_pass(void *p) {
    const struct pass *pass = p;
    pass->body(pass->args, omp_thread_num(), omp_num_threads());
}

/* Runs body(args, tid, n) on n <= threads threads of OpenMP's team (the caller is tid 0), or on the caller alone. */
static void parallel(pass_fn body, const void *args, int threads) {
    if (omp_parallel == NULL || threads <= 1) {
        body(args, 0, 1);
        return;
    }
    struct pass pass = {body, args};
    omp_parallel(run_pass, &pass, (unsigned) threads, 0);
}

/* Token columns are handled eight at a time where a pass turns rows into columns: reads and writes then both move
   whole 32-byte runs, through a small buffer that stays in L1. */
#define COLUMNS 8

/* dst[c][r] = src[r][c] for an 8 x 8 block: rows of src lds floats apart, rows of dst ldd apart. */
static inline void transpose8(const float *src, long lds, float *dst, long ldd) {
    __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + lds), r2 = _mm256_loadu_ps(src + 2 * lds),
           r3 = _mm256_loadu_ps(src + 3 * lds), r4 = _mm256_loadu_ps(src + 4 * lds),
           r5 = _mm256_loadu_ps(src + 5 * lds), r6 = _mm256_loadu_ps(src + 6 * lds),
           r7 = _mm256_loadu_ps(src + 7 * lds);
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),
           t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
           t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE),
           s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE),
           s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE),
           s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_storeu_ps(dst, _mm256_permute2f128_ps(s0, s4, 0x20));
    _mm256_storeu_ps(dst + ldd, _mm256_permute2f128_ps(s1, s5, 0x20));
    _mm256_storeu_ps(dst + 2 * ldd, _mm256_permute2f128_ps(s2, s6, 0x20));
    _mm256_storeu_ps(dst + 3 * ldd, _mm256_permute2f128_ps(s3, s7, 0x20));
    _mm256_storeu_ps(dst + 4 * ldd, _mm256_permute2f128_ps(s0, s4, 0x31));
    _mm256_storeu_ps(dst + 5 * ldd, _mm256_permute2f128_ps(s1, s5, 0x31));
    _mm256_storeu_ps(dst + 6 * ldd, _mm256_permute2f128_ps(s2, s6, 0x31));
    _mm256_storeu_ps(dst + 7 * ldd, _mm256_permute2f128_ps(s3, s7, 0x31));
}

/* X[d, r] = E[ids[r], d]: the embedding rows of R tokens, feature-major. */
void rlcd4j_fm_embed(const float *E, int64_t D, const int *ids, int64_t R, float *X) {
    for (int64_t r0 = 0; r0 < R; r0 += COLUMNS) {
        const int n = R - r0 < COLUMNS ? (int) (R - r0) : COLUMNS;
        const float *e[COLUMNS];
        for (int j = 0; j < n; j++) e[j] = E + (size_t) ids[r0 + j] * D;
        for (int64_t d = 0; d < D; d++)
            for (int j = 0; j < n; j++) X[d * R + r0 + j] = e[j][d];
    }
}

/* Thread tid's share [*a, *b) of n columns, cut at multiples of 16 (whole 64-byte lines of a row). */
static void column_share(int64_t n, int tid, int threads, int64_t *a, int64_t *b) {
    *a = tid == 0 ? 0 : (n * tid / threads) & ~15L;
    *b = tid == threads - 1 ? n : (n * (tid + 1) / threads) & ~15L;
}

/*
 * x += y (when y is given), then out = x * rsqrt(mean(x^2) + eps) * g per column, as LlamaModel.rmsNorm computes it in
 * fp32: the residual add that ends a block fused with the norm that starts the next. X, Y [D, R]; out [D, R], or
 * [R, D] when rowMajor (the final norm, whose result leaves in libtorch's layout). sums: room for R floats. Each
 * thread does its share of the columns.
 */
struct add_norm {
    float *X;
    const float *Y, *g;
    int64_t D, R;
    float eps;
    float *out;
    int rowMajor;
    float *sums;
};

static void add_norm_share(const void *args, int tid, int threads) {
    const struct add_norm *a = args;
    const int64_t D = a->D, R = a->R;
    float *sums = a->sums;
    int64_t c0, c1;
    column_share(R, tid, threads, &c0, &c1);
    for (int64_t r = c0; r < c1; r++) sums[r] = 0.0f;
    for (int64_t d = 0; d < D; d++) {
        float *x = a->X + d * R;
        if (a->Y != NULL) {
            const float *y = a->Y + d * R;
            for (int64_t r = c0; r < c1; r++) x[r] += y[r];
        }
        for (int64_t r = c0; r < c1; r++) sums[r] += x[r] * x[r];
    }
    for (int64_t r = c0; r < c1; r++) sums[r] = 1.0f / sqrtf(sums[r] / (float) D + a->eps);
    for (int64_t d = 0; d < D; d++) {
        const float *x = a->X + d * R;
        const float gd = a->g[d];
        if (a->rowMajor) {
            for (int64_t r = c0; r < c1; r++) a->out[r * D + d] = x[r] * sums[r] * gd;
        } else {
            float *o = a->out + d * R;
            for (int64_t r = c0; r < c1; r++) o[r] = x[r] * sums[r] * gd;
        }
    }
}

void rlcd4j_fm_add_norm(float *X, const float *Y, const float *g, int64_t D, int64_t R, float eps, float *out,
                        int rowMajor, float *sums, int threads) {
    struct add_norm a = {X, Y, g, D, R, eps, out, rowMajor, sums};
    parallel(add_norm_share, &a, threads);
}

/* RoPE's tables for R positions: cs[i, r] = cos(pos[r] inv_freq[i]), sn likewise, i < half. */
void rlcd4j_fm_rope_tables(const int *pos, int64_t R, const float *invFreq, int half, float *cs, float *sn) {
    for (int i = 0; i < half; i++)
        for (int64_t r = 0; r < R; r++) {
            float angle = (float) pos[r] * invFreq[i];
            cs[i * R + r] = cosf(angle);
            sn[i * R + r] = sinf(angle);
        }
}

/*
 * Splits the q/k/v product QKV [(H + 2 KV) hd, R] into attention's layouts, with HF's rotate_half RoPE on q and k,
 * (x1, x2) -> (x1 c - x2 s, x2 c + x1 s), and q times qScale (1/sqrt(hd), which LlamaModel applies to q too): q into
 * Q [B, H, T, hd], k and v into Kc, Vc [B, KV, cap, hd] at columns past + t. Each thread does its share of the
 * columns.
 */
struct split_heads {
    const float *QKV;
    int B, T, H, KV, hd;
    const float *cs, *sn;
    float qScale;
    float *Q, *Kc, *Vc;
    int64_t cap;
    int past;
};

static void split_heads_share(const void *args, int tid, int threads) {
    const struct split_heads *a = args;
    const int T = a->T, H = a->H, KV = a->KV, hd = a->hd, half = hd / 2;
    const int64_t R = (int64_t) a->B * T;
    float y[256 * COLUMNS]; /* one head of COLUMNS tokens, [hd, COLUMNS] */
    int64_t c0, c1;
    column_share(R, tid, threads, &c0, &c1);
    for (int64_t r0 = c0; r0 < c1; r0 += COLUMNS) {
        const int n = c1 - r0 < COLUMNS ? (int) (c1 - r0) : COLUMNS;
        for (int h = 0; h < H + 2 * KV; h++) {
            const float *x = a->QKV + (size_t) h * hd * R + r0;
            if (h < H + KV) {
                const float scale = h < H ? a->qScale : 1.0f;
                for (int i = 0; i < half; i++) {
                    const float *x1 = x + (size_t) i * R, *x2 = x + (size_t) (i + half) * R;
                    const float *c = a->cs + (size_t) i * R + r0, *s = a->sn + (size_t) i * R + r0;
                    for (int j = 0; j < n; j++) {
                        y[i * COLUMNS + j] = (x1[j] * c[j] - x2[j] * s[j]) * scale;
                        y[(i + half) * COLUMNS + j] = (x2[j] * c[j] + x1[j] * s[j]) * scale;
                    }
                }
            } else {
                for (int i = 0; i < hd; i++)
                    for (int j = 0; j < n; j++) y[i * COLUMNS + j] = x[(size_t) i * R + j];
            }
            float *dst[COLUMNS];
            for (int j = 0; j < n; j++) {
                const int b = (int) ((r0 + j) / T), t = (int) ((r0 + j) % T);
                dst[j] = h < H        ? a->Q + (((size_t) b * H + h) * T + t) * hd
                         : h < H + KV ? a->Kc + (((size_t) b * KV + (h - H)) * a->cap + a->past + t) * hd
                                      : a->Vc + (((size_t) b * KV + (h - H - KV)) * a->cap + a->past + t) * hd;
            }
            if (n == COLUMNS && dst[COLUMNS - 1] == dst[0] + (COLUMNS - 1) * hd) { /* eight tokens of one row */
                for (int i = 0; i < hd; i += 8) transpose8(y + i * COLUMNS, COLUMNS, dst[0] + i, hd);
            } else {
                for (int j = 0; j < n; j++)
                    for (int i = 0; i < hd; i++) dst[j][i] = y[i * COLUMNS + j];
            }
        }
    }
}

void rlcd4j_fm_split_heads(const float *QKV, int B, int T, int H, int KV, int hd, const float *cs, const float *sn,
                           float qScale, float *Q, float *Kc, float *Vc, int64_t cap, int past, int threads) {
    struct split_heads a = {QKV, B, T, H, KV, hd, cs, sn, qScale, Q, Kc, Vc, cap, past};
    parallel(split_heads_share, &a, threads);
}

/* Query rows per attention tile: four rows of one head share every key and value they read. */
#define TILE_ROWS 4

/* Keys per block of scores: two vectors. */
#define KEY_BLOCK 16

/* Threads take turns at groups of this many queries: whole 64-byte lines of X's rows each, and a cost that grows
   with the query's position evenly shared. */
#define SHARE_ROWS 16

/*
 * Causal attention of the queries [from, T) of a prefill over their keys and values: for each batch row b, query
 * head h and query t, softmax over keys j <= past + t of q . k_j plus the additive mask, then the weighted sum of v_j,
 * written to the heads' outputs X [H hd, B (T - from)] (column b (T - from) + t - from), ready for the output product.
 * (from = T - 1: the last position only, all that generation reads of a prompt's last layer.)
 *
 *   Q       [B, H, T, hd], RoPE applied and scaled by 1/sqrt(hd) (rlcd4j_fm_split_heads)
 *   Kc, Vc  [B, KV, cap, hd]: query head h reads kv head h / (H / KV), columns [0, past + T)
 *   mask    [B, T, past + T] additive (0 or -1e9), or NULL (every key seen); it must be causal, as LlamaModel's are:
 *           keys after a query's own position are not read at all
 *   scratch (hd + TILE_ROWS) (S + 16) floats per thread, S = past + T, for `threads` threads
 *
 * Thread tid of the n <= `threads` that run it takes every n-th group of SHARE_ROWS queries of each head.
 *
 * Each kv head's keys are first transposed to [hd, S], so that scores of a tile come from broadcasts of query values
 * against whole vectors of keys. A weight whose score is more than 87 below its row's maximum is taken as 0 (its
 * true value, under 2e-38 of the maximum's, is below what the rows' sums can resolve; the mask's -1e9 gives exactly
 * 0, as in libtorch).
 */
struct attention {
    const float *Q, *Kc, *Vc;
    int64_t cap;
    int B, T, H, KV, hd, past, from;
    const float *mask;
    float *X, *scratch;
};

static void attention_share(const void *args, int tid, int threads) {
    const struct attention *a = args;
    const float *Q = a->Q, *Kc = a->Kc, *Vc = a->Vc, *mask = a->mask;
    const int64_t cap = a->cap;
    const int B = a->B, T = a->T, H = a->H, KV = a->KV, hd = a->hd, past = a->past, from = a->from;
    float *X = a->X, *scratch = a->scratch;
    const int S = past + T, G = H / KV, Sp = (S + KEY_BLOCK - 1) / KEY_BLOCK * KEY_BLOCK, Tq = T - from;
    const int64_t R = (int64_t) B * Tq;
    /* this thread's K transposed [hd, Sp] and a tile's weights [TILE_ROWS, Sp] */
    float *kt = scratch + (size_t) tid * (hd + TILE_ROWS) * Sp, *p = kt + (size_t) hd * Sp;
    const __m256 floor = _mm256_set1_ps(-87.0f);
    for (int b = 0; b < B; b++)
        for (int kv = 0; kv < KV; kv++) {
            const float *K = Kc + ((size_t) b * KV + kv) * cap * hd, *V = Vc + ((size_t) b * KV + kv) * cap * hd;
            int j8 = S / 8 * 8;
            for (int j = 0; j < j8; j += 8)
                for (int i = 0; i < hd; i += 8) transpose8(K + (size_t) j * hd + i, hd, kt + (size_t) i * Sp + j, Sp);
            for (int i = 0; i < hd; i++) {
                for (int j = j8; j < S; j++) kt[(size_t) i * Sp + j] = K[(size_t) j * hd + i];
                for (int j = S; j < Sp; j++) kt[(size_t) i * Sp + j] = 0.0f;
            }
            for (int g = 0; g < G; g++) {
                const int h = kv * G + g;
                for (int t0 = from; t0 < T; t0 += TILE_ROWS) {
                    if ((t0 - from) / SHARE_ROWS % threads != tid) continue;
                    const int nr = T - t0 < TILE_ROWS ? T - t0 : TILE_ROWS, n = past + t0 + nr;
                    const float *q[TILE_ROWS];
                    for (int r = 0; r < TILE_ROWS; r++) /* a short tile repeats its last row, and drops it */
                        q[r] = Q + (((size_t) b * H + h) * T + t0 + (r < nr ? r : nr - 1)) * hd;
                    /* scores of the tile's rows against keys [0, n), KEY_BLOCK at a time */
                    for (int j = 0; j < n; j += KEY_BLOCK) {
                        __m256 acc[TILE_ROWS][2];
                        for (int r = 0; r < TILE_ROWS; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
                        for (int i = 0; i < hd; i++) {
                            __m256 k0 = _mm256_loadu_ps(kt + (size_t) i * Sp + j);
                            __m256 k1 = _mm256_loadu_ps(kt + (size_t) i * Sp + j + 8);
                            for (int r = 0; r < TILE_ROWS; r++) {
                                __m256 qb = _mm256_broadcast_ss(q[r] + i);
                                acc[r][0] = _mm256_fmadd_ps(qb, k0, acc[r][0]);
                                acc[r][1] = _mm256_fmadd_ps(qb, k1, acc[r][1]);
                            }
                        }
                        for (int r = 0; r < TILE_ROWS; r++) {
                            _mm256_storeu_ps(p + (size_t) r * Sp + j, acc[r][0]);
                            _mm256_storeu_ps(p + (size_t) r * Sp + j + 8, acc[r][1]);
                        }
                    }
                    /* softmax of each row over its own keys [0, past + t]; weights after them are 0 */
                    float inv[TILE_ROWS];
                    for (int r = 0; r < nr; r++) {
                        const int t = t0 + r, seen = past + t + 1;
                        float *pr = p + (size_t) r * Sp;
                        const float *mr = mask == NULL ? NULL : mask + ((size_t) b * T + t) * S;
                        __m256 mv = _mm256_set1_ps(-INFINITY);
                        int j = 0;
                        for (; j + 8 <= seen; j += 8) {
                            __m256 x = _mm256_loadu_ps(pr + j);
                            if (mr != NULL) x = _mm256_add_ps(x, _mm256_loadu_ps(mr + j));
                            _mm256_storeu_ps(pr + j, x);
                            mv = _mm256_max_ps(mv, x);
                        }
                        float max = -INFINITY;
                        for (; j < seen; j++) {
                            if (mr != NULL) pr[j] += mr[j];
                            max = pr[j] > max ? pr[j] : max;
                        }
                        float lanes[8];
                        _mm256_storeu_ps(lanes, mv);
                        for (int l = 0; l < 8; l++) max = lanes[l] > max ? lanes[l] : max;
                        mv = _mm256_set1_ps(max);
                        __m256 sv = _mm256_setzero_ps();
                        for (j = 0; j + 8 <= seen; j += 8) {
                            __m256 x = _mm256_sub_ps(_mm256_loadu_ps(pr + j), mv);
                            __m256 e = _mm256_and_ps(exp_nonpositive(x), _mm256_cmp_ps(x, floor, _CMP_GE_OQ));
                            _mm256_storeu_ps(pr + j, e);
                            sv = _mm256_add_ps(sv, e);
                        }
                        float sum = sum_lanes(sv);
                        for (; j < seen; j++) {
                            float x = pr[j] - max;
                            pr[j] = x < -87.0f ? 0.0f : expf(x);
                            sum += pr[j];
                        }
                        for (; j < n; j++) pr[j] = 0.0f;
                        inv[r] = 1.0f / sum;
                    }
                    for (int r = nr; r < TILE_ROWS; r++) {
                        for (int j = 0; j < n; j++) p[(size_t) r * Sp + j] = 0.0f;
                        inv[r] = 0.0f;
                    }
                    /* out = weights . V, sixteen dimensions at a time (then eight), straight into the tile's columns
                       of X */
                    for (int c = 0; c < hd; c += 16) {
                        const int wide = hd - c >= 16;
                        __m256 acc[TILE_ROWS][2];
                        for (int r = 0; r < TILE_ROWS; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
                        if (wide) {
                            for (int j = 0; j < n; j++) {
                                __m256 v0 = _mm256_loadu_ps(V + (size_t) j * hd + c);
                                __m256 v1 = _mm256_loadu_ps(V + (size_t) j * hd + c + 8);
                                for (int r = 0; r < TILE_ROWS; r++) {
                                    __m256 w = _mm256_broadcast_ss(p + (size_t) r * Sp + j);
                                    acc[r][0] = _mm256_fmadd_ps(w, v0, acc[r][0]);
                                    acc[r][1] = _mm256_fmadd_ps(w, v1, acc[r][1]);
                                }
                            }
                        } else {
                            for (int j = 0; j < n; j++) {
                                __m256 v0 = _mm256_loadu_ps(V + (size_t) j * hd + c);
                                for (int r = 0; r < TILE_ROWS; r++)
                                    acc[r][0] = _mm256_fmadd_ps(_mm256_broadcast_ss(p + (size_t) r * Sp + j), v0,
                                                                acc[r][0]);
                            }
                        }
                        float out[TILE_ROWS][16];
                        for (int r = 0; r < TILE_ROWS; r++) {
                            _mm256_storeu_ps(out[r], _mm256_mul_ps(acc[r][0], _mm256_set1_ps(inv[r])));
                            _mm256_storeu_ps(out[r] + 8, _mm256_mul_ps(acc[r][1], _mm256_set1_ps(inv[r])));
                        }
                        float *x = X + ((size_t) h * hd + c) * R + (int64_t) b * Tq + t0 - from;
                        for (int d = 0; d < (wide ? 16 : 8); d++)
                            for (int r = 0; r < nr; r++) x[(size_t) d * R + r] = out[r][d];
                    }
                }
            }
        }
}

void rlcd4j_fm_attention(const float *Q, const float *Kc, const float *Vc, int64_t cap, int B, int T, int H, int KV,
                         int hd, int past, int from, const float *mask, float *X, float *scratch, int threads) {
    struct attention a = {Q, Kc, Vc, cap, B, T, H, KV, hd, past, from, mask, X, scratch};
    parallel(attention_share, &a, threads);
}

/* out[d, b (T - from) + t - from] = X[d, b T + t] for t in [from, T): the columns of positions from `from` on. */
void rlcd4j_fm_columns(const float *X, int64_t D, int B, int T, int from, float *out) {
    const int64_t R = (int64_t) B * T, Rq = (int64_t) B * (T - from);
    for (int64_t d = 0; d < D; d++)
        for (int b = 0; b < B; b++)
            memcpy(out + d * Rq + (int64_t) b * (T - from), X + d * R + (int64_t) b * T + from,
                   sizeof(float) * (size_t) (T - from));
}

/*
 * SwiGLU over the gate/up product GU [2F, R]: its first F rows become silu(gate) * up; n = F R, a multiple of 8.
 * Each thread does its share.
 */
struct swiglu_rows {
    float *GU;
    int64_t n;
};

static void swiglu_share(const void *args, int tid, int threads) {
    const struct swiglu_rows *a = args;
    const int64_t n = a->n, from = (n * tid / threads) & ~15L;
    const int64_t to = tid == threads - 1 ? n : (n * (tid + 1) / threads) & ~15L;
    swiglu(a->GU + from, a->GU + n + from, to - from);
}

void rlcd4j_fm_swiglu(float *GU, int64_t n, int threads) {
    struct swiglu_rows a = {GU, n};
    parallel(swiglu_share, &a, threads);
}
