/*
 * rlcd4j: a whole decode step of a LLaMA-family decoder in native code, for x86-64 CPUs with AVX2, FMA and F16C.
 *
 * A decode step feeds one token per batch row. Its work is reading every weight once for a few dot products each,
 * so its speed is memory bandwidth, and in libtorch it is also some 25 ops per layer, each a native call with its own
 * fixed cost. Here a step is one call per thread: embedding, then per layer RMSNorm, the q/k/v product, RoPE, the
 * new key and value stored in the cache, attention over each row's own columns, the output product, RMSNorm, gate
 * and up, SwiGLU, down, and the final RMSNorm. The same ops in the same order as rlcd4j.engine.llama.LlamaModel's
 * forward, so the result agrees with it to rounding (LlamaModel's golden tests, NativeDecodeTest).
 *
 * Weights are read in the type they are held in: fp32 (libtorch's arrays), or bf16 or fp16 (exact 16-bit copies of a
 * checkpoint stored that way), widened to fp32 in registers (exact) and summed in fp32. Activations are fp32.
 *
 * Threads: every thread of a step calls rlcd4j_decode_step with the same arguments and its own tid; each does its
 * part of each phase (output rows of a product, claimed a few at a time while any are left; batch rows; or (row, kv
 * head) pairs of attention) and waits for the others at a barrier between phases. Built by Maven with gcc into
 * linux-x86-64/librlcd4j_kernels.so, called through JNA by rlcd4j.engine.cpu.NativeDecoder.
 *
 * Shapes (row-major):
 *   embed [V, D], qkv [(H + 2 KV) hd, D] (q, k and v stacked), o [D, H hd], gate_up [2F, D] (gate, then up),
 *   down [D, F], norms [D] fp32; cache k, v [B, KV, cap, hd] fp32, row b's history in columns [start[b], S-1) and this
 *   step's token stored at column S-1.
 */
#include <sched.h>
#include <string.h>

#include "kernels.h"

/* Weight types; W_BF16_PERMUTED (internal): bf16 read sixteen at a time against x permuted by permute16. */
enum { W_F32 = 0, W_BF16 = 1, W_F16 = 2, W_BF16_PERMUTED = 3 };

/* The plan, int64 fields: the model's sizes and the addresses of its weights, made once per model. */
enum { P_HIDDEN, P_HEADS, P_KV_HEADS, P_HEAD_DIM, P_FFN, P_LAYERS, P_WEIGHT_TYPE, P_EPS_BITS, P_EMBED, P_FINAL_NORM,
       P_INV_FREQ, P_FIRST_LAYER };
/* Per layer, from P_FIRST_LAYER + l * L_FIELDS. */
enum { L_IN_NORM, L_QKV, L_O, L_POST_NORM, L_GATE_UP, L_DOWN, L_FIELDS };

#define INLINE static inline __attribute__((always_inline))

/* Eight weights from element i, widened to fp32 (bf16: the same bits shifted into the high half, exact). */
INLINE __m256 load8(const void *w, size_t i, int wt) {
    if (wt == W_F32) return _mm256_loadu_ps((const float *) w + i);
    __m128i h = _mm_loadu_si128((const __m128i *) ((const uint16_t *) w + i));
    if (wt == W_BF16) return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    return _mm256_cvtph_ps(h);
}

/* y[m, n + r] (+)= x[m] . W[n + r] for m < MB, r < RB: RB weight rows read once for MB input rows; the call `part`
   of the `parts` that sum these RB rows against a batch's groups of input rows. */
INLINE void tile(const float *x, long ldx, const void *w, long K, long n, float *y, long ldy, int add, int MB, int RB,
                 int wt, int part, int parts) {
    __m256 a[4][4];
#pragma GCC unroll 4
    for (int m = 0; m < MB; m++)
#pragma GCC unroll 4
        for (int r = 0; r < RB; r++) a[m][r] = _mm256_setzero_ps();
    /* the next RB rows, fetched while these are summed: each of the parts fetches its share of them, a line every
       few steps, so that the fetches spread over all the parts' sums instead of crowding into the first part while
       the memory idles in the others (docs/perf/engine.md, "Fetches spread over a tile"). A prefetch past the
       matrix's end is harmless: prefetches never fault. */
    const int bytes = wt == W_F32 ? 4 : 2;
    const long lines = ((long) RB * K * bytes + 64L * parts - 1) / (64L * parts), steps = K / 8;
    const char *next = (const char *) w + (size_t) (n + RB) * K * bytes + (size_t) part * lines * 64;
    long credit = 0;
    for (long k = 0; k < K; k += 8) {
        for (credit += lines; credit >= steps; credit -= steps, next += 64) _mm_prefetch(next, _MM_HINT_T0);
        __m256 wv[4];
#pragma GCC unroll 4
        for (int r = 0; r < RB; r++) wv[r] = load8(w, (size_t) (n + r) * K + k, wt);
#pragma GCC unroll 4
        for (int m = 0; m < MB; m++) {
            __m256 xv = _mm256_loadu_ps(x + m * ldx + k);
#pragma GCC unroll 4
            for (int r = 0; r < RB; r++) a[m][r] = _mm256_fmadd_ps(xv, wv[r], a[m][r]);
        }
    }
#pragma GCC unroll 4
    for (int m = 0; m < MB; m++)
#pragma GCC unroll 4
        for (int r = 0; r < RB; r++) {
            float s = sum_lanes(a[m][r]), *d = y + m * ldy + n + r;
            *d = add ? *d + s : s;
        }
}

/*
 * y[n] (+)= x . W[n] for one input row: the row alone, in tile's order (one sum, k increasing), while the next row is
 * fetched a line every 64 bytes read here. So memory sees one sequential stream per thread, which it serves faster
 * than four rows read side by side (docs/perf/engine.md, "One row at a time").
 */
INLINE void row_dot(const float *x, const void *w, long K, long n, float *y, int add, int wt) {
    __m256 a = _mm256_setzero_ps();
    const int bytes = wt == W_F32 ? 4 : 2;
    const size_t base = (size_t) n * K;
    const char *next = (const char *) w + (base + K) * bytes;
    for (long k = 0; k < K; k += 8) {
        if (k * bytes % 64 == 0) _mm_prefetch(next + k * bytes, _MM_HINT_T0);
        a = _mm256_fmadd_ps(_mm256_loadu_ps(x + k), load8(w, base + k, wt), a);
    }
    float s = sum_lanes(a);
    y[n] = add ? y[n] + s : s;
}

/*
 * The same for bf16 weights, sixteen at a time: one 32-byte load, and two unpacks that put each weight in the high
 * half of a zeroed 32-bit lane, which is its fp32 value. The unpacks work within 128-bit halves, so the lanes hold
 * weights k+0..3, k+8..11 and k+4..7, k+12..15: x comes permuted to match ({@code permute16}). K is a multiple of 16.
 */
INLINE void tile_bf16(const float *xp, long ldx, const void *w, long K, long n, float *y, long ldy, int add, int MB,
                      int RB) {
    const __m256i zero = _mm256_setzero_si256();
    __m256 a[4][4];
#pragma GCC unroll 4
    for (int m = 0; m < MB; m++)
#pragma GCC unroll 4
        for (int r = 0; r < RB; r++) a[m][r] = _mm256_setzero_ps();
    const char *next = (const char *) ((const uint16_t *) w + (size_t) (n + RB) * K); /* as in tile */
    for (long k = 0; k < K; k += 16) {
        for (int b = 0; b < RB * 32; b += 64) _mm_prefetch(next + k * 2 * RB + b, _MM_HINT_T0);
        __m256 lo[4], hi[4];
#pragma GCC unroll 4
        for (int r = 0; r < RB; r++) {
            __m256i raw = _mm256_loadu_si256((const __m256i *) ((const uint16_t *) w + (size_t) (n + r) * K + k));
            lo[r] = _mm256_castsi256_ps(_mm256_unpacklo_epi16(zero, raw));
            hi[r] = _mm256_castsi256_ps(_mm256_unpackhi_epi16(zero, raw));
        }
#pragma GCC unroll 4
        for (int m = 0; m < MB; m++) {
            __m256 x0 = _mm256_loadu_ps(xp + m * ldx + k), x1 = _mm256_loadu_ps(xp + m * ldx + k + 8);
#pragma GCC unroll 4
            for (int r = 0; r < RB; r++) a[m][r] = _mm256_fmadd_ps(x1, hi[r], _mm256_fmadd_ps(x0, lo[r], a[m][r]));
        }
    }
#pragma GCC unroll 4
    for (int m = 0; m < MB; m++)
#pragma GCC unroll 4
        for (int r = 0; r < RB; r++) {
            float s = sum_lanes(a[m][r]), *d = y + m * ldy + n + r;
            *d = add ? *d + s : s;
        }
}

/* tile_bf16 for one input row, one weight row at a time as row_dot reads them (fetching the next row), with four
   sums per row so that no FMA waits for another: the low and the high unpacked halves, of even and of odd 16-weight
   blocks. (Unlike fp32, bf16 rows are not summed in one order across kernels: tile_bf16 keeps one sum.) */
static inline void row_dot_bf16(const float *xp, const void *w, long K, long n, float *y, int add) {
    const __m256i zero = _mm256_setzero_si256();
    __m256 a0 = _mm256_setzero_ps(), b0 = a0, a1 = a0, b1 = a0;
    const uint16_t *row = (const uint16_t *) w + (size_t) n * K;
    const char *next = (const char *) (row + K);
    long k = 0;
    for (; k + 32 <= K; k += 32) {
        _mm_prefetch(next + k * 2, _MM_HINT_T0);
        __m256i r0 = _mm256_loadu_si256((const __m256i *) (row + k));
        __m256i r1 = _mm256_loadu_si256((const __m256i *) (row + k + 16));
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(xp + k), _mm256_castsi256_ps(_mm256_unpacklo_epi16(zero, r0)), a0);
        b0 = _mm256_fmadd_ps(_mm256_loadu_ps(xp + k + 8), _mm256_castsi256_ps(_mm256_unpackhi_epi16(zero, r0)), b0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(xp + k + 16), _mm256_castsi256_ps(_mm256_unpacklo_epi16(zero, r1)), a1);
        b1 = _mm256_fmadd_ps(_mm256_loadu_ps(xp + k + 24), _mm256_castsi256_ps(_mm256_unpackhi_epi16(zero, r1)), b1);
    }
    if (k < K) { /* K is a multiple of 16 */
        __m256i r0 = _mm256_loadu_si256((const __m256i *) (row + k));
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(xp + k), _mm256_castsi256_ps(_mm256_unpacklo_epi16(zero, r0)), a0);
        b0 = _mm256_fmadd_ps(_mm256_loadu_ps(xp + k + 8), _mm256_castsi256_ps(_mm256_unpackhi_epi16(zero, r0)), b0);
    }
    float s = sum_lanes(_mm256_add_ps(_mm256_add_ps(a0, b0), _mm256_add_ps(a1, b1)));
    y[n] = add ? y[n] + s : s;
}

/* Rows of x [M, K] (ldx apart) into xp [M, K] in the lane order tile_bf16 reads: per 16, 0-3 8-11 4-7 12-15. */
static void permute16(const float *x, long ldx, int M, long K, float *xp) {
    for (int m = 0; m < M; m++) {
        const float *src = x + m * ldx;
        float *dst = xp + m * K;
        for (long k = 0; k < K; k += 16) {
            __m128 q0 = _mm_loadu_ps(src + k), q1 = _mm_loadu_ps(src + k + 4);
            __m128 q2 = _mm_loadu_ps(src + k + 8), q3 = _mm_loadu_ps(src + k + 12);
            _mm_storeu_ps(dst + k, q0);
            _mm_storeu_ps(dst + k + 4, q2);
            _mm_storeu_ps(dst + k + 8, q1);
            _mm_storeu_ps(dst + k + 12, q3);
        }
    }
}

/* One tile of either kind; WT is a constant at every call, so the branch folds away. */
INLINE void any_tile(const float *x, long ldx, const void *w, long K, long n, float *y, long ldy, int add, int MB,
                     int RB, int wt, int part, int parts) {
    if (wt == W_BF16_PERMUTED) tile_bf16(x, ldx, w, K, n, y, ldy, add, MB, RB);
    else tile(x, ldx, w, K, n, y, ldy, add, MB, RB, wt, part, parts);
}

#define TILE_CASE(MB, RB, WT)                                                                                        \
    case MB * 4 + RB: any_tile(xm, ldx, w, K, n, ym, ldy, add, MB, RB, WT, m / 4, (M + 3) / 4); break;
#define TILES(WT)                                                                                                    \
    static void tiles_##WT(const float *x, long ldx, int M, const void *w, long K, long n0, long n1, float *y,      \
                           long ldy, int add) {                                                                     \
        /* one input row: a weight row at a time (row_dot). More rows: three weight rows against up to four input  \
           rows, twelve sums (AVX2 has 16 registers: 12 sums, 3 weight vectors, 1 input vector), the three rows      \
           re-read from L1 for each group of four; bf16's unpacked halves take two registers a row, so two rows     \
           there */                                                                                                 \
        if (M == 1) {                                                                                                \
            for (long n = n0; n < n1; n++) {                                                                         \
                if (WT == W_BF16_PERMUTED) row_dot_bf16(x, w, K, n, y, add);                                         \
                else row_dot(x, w, K, n, y, add, WT);                                                                \
            }                                                                                                        \
            return;                                                                                                  \
        }                                                                                                            \
        const int most = WT == W_BF16_PERMUTED ? 2 : 3;                                                              \
        for (long n = n0; n < n1;) {                                                                                 \
            int rb = n1 - n >= most ? most : (int) (n1 - n);                                                         \
            for (int m = 0; m < M; m += 4) {                                                                         \
                const float *xm = x + m * ldx;                                                                       \
                float *ym = y + m * ldy;                                                                             \
                switch ((M - m < 4 ? M - m : 4) * 4 + rb) {                                                          \
                    TILE_CASE(1, 1, WT) TILE_CASE(1, 2, WT) TILE_CASE(1, 3, WT)                                      \
                    TILE_CASE(2, 1, WT) TILE_CASE(2, 2, WT) TILE_CASE(2, 3, WT)                                      \
                    TILE_CASE(3, 1, WT) TILE_CASE(3, 2, WT) TILE_CASE(3, 3, WT)                                      \
                    TILE_CASE(4, 1, WT) TILE_CASE(4, 2, WT) TILE_CASE(4, 3, WT)                                      \
                }                                                                                                    \
            }                                                                                                        \
            n += rb;                                                                                                 \
        }                                                                                                            \
    }
TILES(W_F32)
TILES(W_BF16)
TILES(W_F16)
TILES(W_BF16_PERMUTED)

/*
 * Barrier for T threads on the step's shared ints: a count, a generation, and the rows claimed of the next phase's
 * product (claim), which the last thread to arrive sets back to zero while the others wait. Waiting spins
 * (the phases are microseconds to a millisecond apart), then yields the core: on a machine shared with other work
 * the thread being waited for may not be running.
 */
enum { B_COUNT, B_GENERATION, B_CLAIMED, B_INTS };

static void barrier(int *b, int T) {
    if (T == 1) {
        b[B_CLAIMED] = 0;
        return;
    }
    int gen = __atomic_load_n(&b[B_GENERATION], __ATOMIC_ACQUIRE);
    if (__atomic_add_fetch(&b[B_COUNT], 1, __ATOMIC_ACQ_REL) == T) {
        __atomic_store_n(&b[B_COUNT], 0, __ATOMIC_RELAXED);
        __atomic_store_n(&b[B_CLAIMED], 0, __ATOMIC_RELAXED);
        __atomic_store_n(&b[B_GENERATION], gen + 1, __ATOMIC_RELEASE);
    } else {
        for (int spins = 0; __atomic_load_n(&b[B_GENERATION], __ATOMIC_ACQUIRE) == gen; spins++) {
            if (spins < 4096) _mm_pause();
            else sched_yield();
        }
    }
}

/*
 * Rows of a product are claimed CLAIM at a time, by whichever thread is free, rather than cut in halves beforehand:
 * two threads that share the memory's bandwidth do not keep equal pace, and with halves the faster waited at each
 * barrier for the slower (docs/perf/engine.md, "Weights on 2 MiB pages"). A multiple of 3, the several-row kernel's
 * three rows, so that only a matrix's last claim has a shorter tile. Each row's sums run in the same order whichever
 * thread claims it, and in whichever tile.
 */
#define CLAIM 48

/* The next CLAIM rows of n not yet claimed, as [*a, *e), counting claims in *claimed (zero before the first);
   0 when none are left. */
static int claim(int *claimed, long n, long *a, long *e) {
    long c = __atomic_fetch_add(claimed, 1, __ATOMIC_RELAXED);
    *a = c * CLAIM;
    *e = *a + CLAIM < n ? *a + CLAIM : n;
    return *a < n;
}

/*
 * y[m, n] (+)= x[m] . W[n] for m < M, n in [n0, n1): x [M, K] rows ldx apart (for bf16 with K a multiple of 16, as
 * permuted by inputs()), W [N, K], y rows ldy apart.
 */
static void rows(const float *x, long ldx, int M, const void *w, int wt, long K, long n0, long n1, float *y, long ldy,
                 int add) {
    if (wt == W_F32) tiles_W_F32(x, ldx, M, w, K, n0, n1, y, ldy, add);
    else if (wt == W_BF16 && K % 16 == 0) tiles_W_BF16_PERMUTED(x, ldx, M, w, K, n0, n1, y, ldy, add);
    else if (wt == W_BF16) tiles_W_BF16(x, ldx, M, w, K, n0, n1, y, ldy, add);
    else tiles_W_F16(x, ldx, M, w, K, n0, n1, y, ldy, add);
}

/* The inputs rows() reads for x [M, K] (ldx apart): x itself, or for bf16 its permuted copy in xp (M K floats). */
static const float *inputs(const float *x, long *ldx, int M, int wt, long K, float *xp) {
    if (wt != W_BF16 || K % 16 != 0) return x;
    permute16(x, *ldx, M, K, xp);
    *ldx = K;
    return xp;
}

/* rows() over all N rows of W, claimed CLAIM at a time by the threads of a phase (claim). */
static void product(const float *x, long ldx, int M, const void *w, int wt, long K, long N, float *y, long ldy,
                    int add, float *xp, int *b) {
    const float *in = inputs(x, &ldx, M, wt, K, xp);
    for (long n0, n1; claim(&b[B_CLAIMED], N, &n0, &n1);) rows(in, ldx, M, w, wt, K, n0, n1, y, ldy, add);
}

/* y = x * rsqrt(mean(x^2) + eps) * g over D (a multiple of 8), as LlamaModel.rmsNorm computes it in fp32. */
static void rms_norm(const float *x, const float *g, float *y, long D, float eps) {
    __m256 s = _mm256_setzero_ps();
    for (long k = 0; k < D; k += 8) {
        __m256 v = _mm256_loadu_ps(x + k);
        s = _mm256_fmadd_ps(v, v, s);
    }
    __m256 r = _mm256_set1_ps(1.0f / sqrtf(sum_lanes(s) / (float) D + eps));
    for (long k = 0; k < D; k += 8)
        _mm256_storeu_ps(y + k, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + k), r), _mm256_loadu_ps(g + k)));
}

/* HF's rotate_half RoPE on one head x [hd] in place: (x1, x2) -> (x1 c - x2 s, x2 c + x1 s). */
static void rope(float *x, const float *c, const float *s, int hd) {
    int h = hd / 2;
    for (int i = 0; i < h; i++) {
        float a = x[i], b = x[i + h];
        x[i] = a * c[i] - b * s[i];
        x[i + h] = b * c[i] + a * s[i];
    }
}

/*
 * One decode step. Returns 0; -1 for unsupported sizes (hd not a multiple of 8 or over 256, D or F not multiples of
 * 8). All threads get the same answer, before their first barrier.
 *
 *   kv       per layer, the addresses of its key and value cache buffers: 2 L int64
 *   ids      [B] token ids; pos [B] positions (for RoPE); start [B] each row's first cache column
 *   S        columns after this step (this token at S - 1); cap the cache's capacity
 *   scratch  floats for B (2 D + (H + 2 KV) hd + H hd + 2 F + hd) + T (cap + 8 + B max(D, H hd, F)), shared by the
 *            threads
 *   out      [B, D]: the final RMSNorm of the last layer's output
 *   barrier  B_INTS ints, zero before the first step, shared by the threads
 */
int rlcd4j_decode_step(const int64_t *plan, const int64_t *kv, const int *ids, const int *pos, const int *start,
                       int B, int S, int64_t cap, float *scratch, float *out, int *barrier_ints, int tid, int T) {
    const long D = plan[P_HIDDEN], H = plan[P_HEADS], KV = plan[P_KV_HEADS], hd = plan[P_HEAD_DIM], F = plan[P_FFN];
    const int L = (int) plan[P_LAYERS], wt = (int) plan[P_WEIGHT_TYPE], G = (int) (H / KV);
    float eps;
    int32_t epsBits = (int32_t) plan[P_EPS_BITS];
    memcpy(&eps, &epsBits, sizeof eps);
    if (hd % 8 != 0 || hd > 256 || D % 8 != 0 || F % 8 != 0) return -1;
    const long NQKV = (H + 2 * KV) * hd, half = hd / 2;
    const float scale = 1.0f / sqrtf((float) hd);
    float *x = scratch, *h = x + B * D, *qkv = h + B * D, *att = qkv + B * NQKV, *gu = att + B * H * hd;
    float *cs = gu + B * 2 * F, *sn = cs + B * half;
    const long widest = D > F ? (D > H * hd ? D : H * hd) : (F > H * hd ? F : H * hd);
    float *p = sn + B * half + tid * (cap + 8 + B * widest); /* this thread's attention weights */
    float *xp = p + cap + 8;                                   /* and its permuted inputs */

    /* rows of this thread for row-wise work */
    long r0 = (long) B * tid / T, r1 = (long) B * (tid + 1) / T;
    const float *invFreq = (const float *) plan[P_INV_FREQ];
    for (long b = r0; b < r1; b++) {
        const void *e = (const void *) plan[P_EMBED];
        for (long k = 0; k < D; k += 8) _mm256_storeu_ps(x + b * D + k, load8(e, (size_t) ids[b] * D + k, wt));
        for (long i = 0; i < half; i++) {
            float angle = (float) pos[b] * invFreq[i];
            cs[b * half + i] = cosf(angle);
            sn[b * half + i] = sinf(angle);
        }
    }
    /* attention: (row, kv head) pairs, cut so each thread reads about as many cache columns */
    long pairs = (long) B * KV, total = 0, p0 = pairs, p1 = pairs;
    for (long b = 0; b < B; b++) total += (long) KV * (S - start[b]);
    for (long i = 0, before = 0; i < pairs; i++) { /* a pair goes to the thread whose share holds its middle */
        long w = S - start[i / KV], owner = T * (2 * before + w) / (2 * total);
        if (owner >= tid && p0 == pairs) p0 = i;
        if (owner > tid) { p1 = i; break; }
        before += w;
    }
    barrier(barrier_ints, T);

    for (int l = 0; l < L; l++) {
        const int64_t *lw = plan + P_FIRST_LAYER + (long) l * L_FIELDS;
        float *Kc = (float *) kv[2 * l], *Vc = (float *) kv[2 * l + 1];
        for (long b = r0; b < r1; b++) rms_norm(x + b * D, (const float *) lw[L_IN_NORM], h + b * D, D, eps);
        barrier(barrier_ints, T);
        product(h, D, B, (const void *) lw[L_QKV], wt, D, NQKV, qkv, NQKV, 0, xp, barrier_ints);
        barrier(barrier_ints, T);
        for (long i = p0; i < p1; i++) {
            long b = i / KV, k = i % KV;
            float *row = qkv + b * NQKV, *kh = row + (H + k) * hd, *vh = row + (H + KV + k) * hd;
            const float *c = cs + b * half, *s = sn + b * half;
            rope(kh, c, s, hd);
            for (int g = 0; g < G; g++) rope(row + (k * G + g) * hd, c, s, hd);
            size_t base = ((size_t) (b * KV + k) * cap) * hd;
            memcpy(Kc + base + (size_t) (S - 1) * hd, kh, sizeof(float) * hd);
            memcpy(Vc + base + (size_t) (S - 1) * hd, vh, sizeof(float) * hd);
            size_t from = base + (size_t) start[b] * hd;
            attend_group(row + k * G * hd, Kc + from, Vc + from, att + (b * H + k * G) * hd, G, S - start[b], (int) hd,
                         scale, p);
        }
        barrier(barrier_ints, T);
        product(att, H * hd, B, (const void *) lw[L_O], wt, H * hd, D, x, D, 1, xp, barrier_ints);
        barrier(barrier_ints, T);
        for (long b = r0; b < r1; b++) rms_norm(x + b * D, (const float *) lw[L_POST_NORM], h + b * D, D, eps);
        barrier(barrier_ints, T);
        /* gate and up rows claimed together, so the thread that has both halves of a unit applies SwiGLU to it */
        const void *gateUp = (const void *) lw[L_GATE_UP];
        long ldh = D;
        const float *in = inputs(h, &ldh, B, wt, D, xp);
        for (long f0, f1; claim(&barrier_ints[B_CLAIMED], F, &f0, &f1);) {
            rows(in, ldh, B, gateUp, wt, D, f0, f1, gu, 2 * F, 0);
            rows(in, ldh, B, gateUp, wt, D, F + f0, F + f1, gu, 2 * F, 0);
            for (long b = 0; b < B; b++) swiglu(gu + b * 2 * F + f0, gu + b * 2 * F + F + f0, f1 - f0);
        }
        barrier(barrier_ints, T);
        product(gu, 2 * F, B, (const void *) lw[L_DOWN], wt, F, D, x, D, 1, xp, barrier_ints);
        barrier(barrier_ints, T);
    }
    for (long b = r0; b < r1; b++) rms_norm(x + b * D, (const float *) plan[P_FINAL_NORM], out + b * D, D, eps);
    return 0;
}

/*
 * y[m, n] = x[m] . W[n] for m < M and n < N, rows claimed CLAIM at a time by the threads that call it with the same
 * *claimed, zero before they start (no barrier: the caller joins). W [N, K] of type wt; K a multiple of 8; scratch
 * room for T M K floats. For the LM head of decode steps. Returns 0, or -1 if K is not a multiple of 8.
 */
int rlcd4j_linear(const float *x, int M, int64_t K, const void *w, int wt, int64_t N, float *y, float *scratch,
                  int *claimed, int tid) {
    if (K % 8 != 0) return -1;
    long ldx = K;
    const float *in = inputs(x, &ldx, M, wt, K, scratch + (size_t) tid * M * K);
    for (long n0, n1; claim(claimed, N, &n0, &n1);) rows(in, ldx, M, w, wt, K, n0, n1, y, N, 0);
    return 0;
}

/*
 * dst[i] = src[i] in 16 bits (wt W_BF16 or W_F16) for i < n; returns how many values did not survive the round trip
 * exactly (0 for weights loaded from a checkpoint stored in that type). bf16 keeps the high half of the bits
 * (truncation: exact whenever the round trip is); fp16 rounds to nearest even (F16C).
 */
int64_t rlcd4j_narrow(const float *src, uint16_t *dst, int64_t n, int wt) {
    int64_t inexact = 0;
    for (int64_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, src + i, sizeof bits);
        uint16_t h;
        float back;
        if (wt == W_BF16) {
            h = (uint16_t) (bits >> 16);
            uint32_t wide = (uint32_t) h << 16;
            memcpy(&back, &wide, sizeof back);
        } else {
            h = _cvtss_sh(src[i], _MM_FROUND_TO_NEAREST_INT);
            back = _cvtsh_ss(h);
        }
        dst[i] = h;
        uint32_t backBits;
        memcpy(&backBits, &back, sizeof backBits);
        inexact += backBits != bits;
    }
    return inexact;
}
