/*
 * Two builds of toolkit/src/main/c/decode_step.c in one process: a whole decode step plus the LM head, SmolLM2-135M
 * shapes, random weights, two threads, the builds' steps alternated (A B S S B A, S a plain two-thread streaming sum
 * of the same weights: what the memory gives this minute). Separate processes on a shared VM differ by more than the
 * changes measured here, so both builds read the same weights in the same process. Built and run by bench/step_ab.sh,
 * which compiles the old build with its functions renamed old_*, the new one new_*.
 *
 *   step_ab ROWS REPS WEIGHTS [CONTEXT]    WEIGHTS 0 fp32, 1 bf16 copies; CONTEXT cache columns before the step
 *                                          (64)
 */
#define _GNU_SOURCE
#include <immintrin.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define STEP_ARGS const int64_t *, const int64_t *, const int *, const int *, const int *, int, int, int64_t, float *, \
                  float *, int *, int, int
#define LINEAR_ARGS const float *, int, int64_t, const void *, int, int64_t, float *, float *, int *, int
int old_decode_step(STEP_ARGS);
int new_decode_step(STEP_ARGS);
int old_linear(LINEAR_ARGS);
int new_linear(LINEAR_ARGS);
int64_t new_narrow(const float *, uint16_t *, int64_t, int);

/* decode_step.c's plan layout */
enum { P_HIDDEN, P_HEADS, P_KV_HEADS, P_HEAD_DIM, P_FFN, P_LAYERS, P_WEIGHT_TYPE, P_EPS_BITS, P_EMBED, P_FINAL_NORM,
       P_INV_FREQ, P_FIRST_LAYER };
enum { L_IN_NORM, L_QKV, L_O, L_POST_NORM, L_GATE_UP, L_DOWN, L_FIELDS };

enum { D = 576, H = 9, KV = 3, HD = 64, F = 1536, L = 30, V = 49152, T = 2 };

static char *arena;
static size_t used, weightBytes;
static int64_t plan[P_FIRST_LAYER + L * L_FIELDS], kv[2 * L];
static int ids[16], pos[16], starts[16], barrierInts[4], headClaims[2][16];
static float *scratch, *hidden, *logits, *headScratch, *narrowFrom;
static int rows, weightType, context, mode, rep;
static volatile float sink[T];
static pthread_barrier_t turn;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *take(size_t bytes) {
    void *p = arena + used;
    used += (bytes + 4095) / 4096 * 4096;
    return p;
}

static float *floats(size_t n) {
    float *a = take(n * 4);
    for (size_t i = 0; i < n; i++) a[i] = (rand() / (float) RAND_MAX - 0.5f) * 0.04f;
    return a;
}

/* A weight matrix of n values: fp32, or the 16-bit copy the engine would make (values rounded to bf16 first). */
static void *weights(size_t n) {
    if (weightType == 0) return floats(n);
    for (size_t i = 0; i < n; i++) narrowFrom[i] = (rand() / (float) RAND_MAX - 0.5f) * 0.04f;
    uint16_t *w = take(n * 2);
    new_narrow(narrowFrom, w, (int64_t) n, weightType);
    return w;
}

static void stream(int tid) {
    const float *a = (const float *) arena;
    size_t n = weightBytes / 4 / 32 * 32, lo = n * tid / T / 32 * 32, hi = tid == T - 1 ? n : n * (tid + 1) / T / 32 * 32;
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (size_t i = lo; i < hi; i += 32) {
        s0 = _mm256_add_ps(s0, _mm256_load_ps(a + i));
        s1 = _mm256_add_ps(s1, _mm256_load_ps(a + i + 8));
        s2 = _mm256_add_ps(s2, _mm256_load_ps(a + i + 16));
        s3 = _mm256_add_ps(s3, _mm256_load_ps(a + i + 24));
    }
    float r[8];
    _mm256_storeu_ps(r, _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    sink[tid] = r[0] + r[7];
}

/* mode 0: the old build's step and head; 1: the new build's; 2: the streaming sum */
static void work(int tid) {
    if (mode == 2) {
        stream(tid);
        return;
    }
    int (*step)(STEP_ARGS) = mode ? new_decode_step : old_decode_step;
    int (*linear)(LINEAR_ARGS) = mode ? new_linear : old_linear;
    if (step(plan, kv, ids, pos, starts, rows, context + 1, context + 8, scratch, hidden, barrierInts, tid, T) != 0 ||
        linear(hidden, rows, D, (void *) plan[P_EMBED], weightType, V, logits, headScratch, headClaims[rep % 2], tid))
        abort();
}

static void *helper(void *arg) {
    int tid = (int) (intptr_t) arg;
    for (;;) {
        pthread_barrier_wait(&turn);
        work(tid);
        pthread_barrier_wait(&turn);
    }
    return NULL;
}

int main(int argc, char **argv) {
    rows = argc > 1 ? atoi(argv[1]) : 1;
    int reps = argc > 2 ? atoi(argv[2]) : 30;
    weightType = argc > 3 ? atoi(argv[3]) : 0;
    context = argc > 4 ? atoi(argv[4]) : 64;
    if (rows < 1 || rows > 16 || reps < 1 || weightType < 0 || weightType > 1 || context < 1 || context > 1000) {
        fprintf(stderr, "usage: step_ab ROWS (1-16) REPS WEIGHTS (0 fp32, 1 bf16) [CONTEXT (1-1000, 64)]\n");
        return 2;
    }
    size_t size = (size_t) 2 << 30; /* 2 MiB-aligned and advised, as HugePages lays out the engine's weights */
    char *m = mmap(NULL, size + (2 << 20), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return 1;
    arena = (char *) (((uintptr_t) m + (2 << 20) - 1) & ~(uintptr_t) ((2 << 20) - 1));
    madvise(arena, size, MADV_HUGEPAGE);
    narrowFrom = malloc(sizeof(float) * (size_t) V * D);

    float eps = 1e-5f;
    int32_t epsBits;
    memcpy(&epsBits, &eps, sizeof epsBits);
    int64_t sizes[] = {D, H, KV, HD, F, L, weightType, epsBits};
    memcpy(plan, sizes, sizeof sizes);
    plan[P_EMBED] = (int64_t) weights((size_t) V * D); /* tied: also the head */
    for (int l = 0; l < L; l++) {
        int64_t *lw = plan + P_FIRST_LAYER + l * L_FIELDS;
        lw[L_QKV] = (int64_t) weights((size_t) (H + 2 * KV) * HD * D);
        lw[L_O] = (int64_t) weights((size_t) D * H * HD);
        lw[L_GATE_UP] = (int64_t) weights((size_t) 2 * F * D);
        lw[L_DOWN] = (int64_t) weights((size_t) D * F);
    }
    weightBytes = used;
    plan[P_FINAL_NORM] = (int64_t) floats(D);
    float *invFreq = floats(HD / 2);
    for (int i = 0; i < HD / 2; i++) invFreq[i] = powf(100000.0f, -2.0f * i / HD);
    plan[P_INV_FREQ] = (int64_t) invFreq;
    for (int l = 0; l < L; l++) {
        int64_t *lw = plan + P_FIRST_LAYER + l * L_FIELDS;
        lw[L_IN_NORM] = (int64_t) floats(D);
        lw[L_POST_NORM] = (int64_t) floats(D);
        kv[2 * l] = (int64_t) floats((size_t) rows * KV * (context + 8) * HD);
        kv[2 * l + 1] = (int64_t) floats((size_t) rows * KV * (context + 8) * HD);
    }
    for (int b = 0; b < rows; b++) {
        ids[b] = rand() % V;
        pos[b] = context;
        starts[b] = b % 3;
    }
    scratch = floats((size_t) rows * (2 * D + (H + 2 * KV) * HD + H * HD + 2 * F + HD) + T * (context + 16 + rows * F));
    hidden = floats((size_t) rows * D);
    logits = floats((size_t) rows * V);
    headScratch = floats((size_t) T * rows * D);

    pthread_barrier_init(&turn, NULL, T);
    for (int t = 1; t < T; t++) {
        pthread_t th;
        pthread_create(&th, NULL, helper, (void *) (intptr_t) t);
    }
    static const int order[6] = {0, 1, 2, 2, 1, 0};
    double total[3] = {0, 0, 0};
    for (rep = 0; rep < 6 * (reps + 1); rep++) { /* the first round warms up */
        mode = order[rep % 6];
        memset(headClaims[(rep + 1) % 2], 0, sizeof headClaims[0]);
        double t0 = now();
        pthread_barrier_wait(&turn);
        work(0);
        pthread_barrier_wait(&turn);
        if (rep >= 6) total[mode] += now() - t0;
    }
    double n = 2.0 * reps, mb = weightBytes / 1e6;
    printf("rows %d, context %d, %s weights (%.0f MB), %d steps each: old %.2f ms, new %.2f ms, streaming sum %.2f ms (%.1f GB/s); "
           "old/new %.3f; new/streaming %.3f\n",
           rows, context, weightType ? "bf16" : "fp32", mb, 2 * reps, total[0] / n * 1e3, total[1] / n * 1e3,
           total[2] / n * 1e3, mb / 1e3 / (total[2] / n), total[0] / total[1], total[1] / total[2]);
    return 0;
}
