package rlcd4j.engine.cpu;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * A prefill or scoring forward of a LLaMA-family decoder (many tokens, CPU fp32 inference) whose weight products run
 * in libtorch's MKL, as before, and whose other work runs in native code ({@code src/main/c/prefill.c}): per layer two
 * fused residual-add-and-RMSNorm passes, one pass that applies RoPE and lays out q, k and v for attention (k and v
 * straight into the cache), causal attention in one kernel (scores, mask, softmax and weighted values, reading only
 * each query's own keys) and SwiGLU. libtorch runs the same forward as some thirty ops per layer, each allocating its
 * output, and attention as full [T, S] products behind the mask (docs/perf/engine.md, "Native prefill").
 *
 * <p>The residual stream is feature-major, [D, B·T]: every product is then a stored weight matrix times the activations,
 * {@code W [N, K] · X [K, B·T]}, with no transposed views (the layout that libtorch's products were already measured
 * fastest in at more than a few rows). The products are MKL's {@code sgemm_} called straight into one workspace that
 * every layer reuses, so no layer allocates, and the passes run on OpenMP's team of threads, the workers of the
 * product before them, which are still spinning ({@link LibtorchRuntime}). The
 * result agrees with {@code LlamaModel}'s libtorch ops to rounding ({@code NativePrefillTest}, and the golden tests,
 * which run through here).
 *
 * <p>Reads the norms, the embedding and RoPE's frequencies by address from the model's fp32 {@link NativeDecoder.Plan},
 * and the products' matrices by address from the model's arrays; valid while those arrays are the ones it was made
 * from ({@link StackedWeights#intact()}).
 */
public final class NativePrefill {
    /** {@code -Drlcd4j.nativePrefill=false} runs prefill and scoring forwards through libtorch's ops (for A/B runs). */
    public static final String PROPERTY = "rlcd4j.nativePrefill";

    /** A workspace up to this size is kept for the next forward; a larger one is freed after its forward. */
    private static final long KEPT_WORKSPACE_BYTES = 32L << 20;

    private static final boolean LOADED;

    static {
        LibtorchRuntime.Symbols torch = NativeKernels.library() == null ? null : LibtorchRuntime.symbols();
        boolean loaded = torch != null && torch.sgemm() != 0;
        if (loaded) {
            Native.register(NativePrefill.class, NativeKernels.library());
            rlcd4j_fm_init(torch.sgemm(), torch.ompParallel(), torch.ompThreadNum(), torch.ompNumThreads());
        }
        LOADED = loaded;
    }

    private static native void rlcd4j_fm_init(long sgemm, long ompParallel, long ompThreadNum, long ompNumThreads);

    private static native void rlcd4j_fm_product(long w, long N, long K, long x, long R, long y);

    private static native void rlcd4j_fm_embed(long embed, long D, int[] ids, long R, long x);

    private static native void rlcd4j_fm_add_norm(
            long x, long y, long g, long D, long R, float eps, long out, int rowMajor, long sums, int threads);

    private static native void rlcd4j_fm_rope_tables(int[] pos, long R, long invFreq, int half, long cs, long sn);

    private static native void rlcd4j_fm_split_heads(
            long qkv,
            int B,
            int T,
            int H,
            int KV,
            int hd,
            long cs,
            long sn,
            float qScale,
            long q,
            long k,
            long v,
            long capacity,
            int past,
            int threads);

    private static native void rlcd4j_fm_attention(
            long q,
            long k,
            long v,
            long capacity,
            int B,
            int T,
            int H,
            int KV,
            int hd,
            int past,
            int from,
            long mask,
            long out,
            long scratch,
            int threads);

    private static native void rlcd4j_fm_columns(long x, long D, int B, int T, int from, long out);

    private static native void rlcd4j_fm_swiglu(long gateUp, long n, int threads);

    private final NativeDecoder.Plan plan;
    private final long[] qkv, o, gateUp, down; // the layers' matrices, by address
    private Memory kept; // the last workspace, when small enough to keep

    private NativePrefill(NativeDecoder.Plan plan, NDArray[] qkv, NDArray[] o, NDArray[] gateUp, NDArray[] down) {
        this.plan = plan;
        this.qkv = addresses(qkv);
        this.o = addresses(o);
        this.gateUp = addresses(gateUp);
        this.down = addresses(down);
    }

    /** Whether the kernels are built here and not turned off by {@link #PROPERTY}; read at each call. */
    public static boolean enabled() {
        return LOADED && !"false".equals(System.getProperty(PROPERTY));
    }

    /** Which products and threads the native prefill uses here, or why it is off, for benchmark headers and logs. */
    public static String status() {
        if (NativeKernels.library() == null) return NativeKernels.status();
        String found = LibtorchRuntime.symbols().status();
        return LOADED ? found : "libtorch's ops (" + found + ")";
    }

    /**
     * A prefill over {@code plan} (fp32 weights, read by address) and the layers' weight matrices, row-major as
     * stored: {@code qkv} [(H + 2 KV) hd, D] (q, k, v stacked), {@code o} [D, H hd], {@code gateUp} [2F, D] (gate,
     * then up), {@code down} [D, F]; null where the kernels cannot run it here.
     */
    public static NativePrefill of(
            NativeDecoder.Plan plan, NDArray[] qkv, NDArray[] o, NDArray[] gateUp, NDArray[] down) {
        if (!LOADED || plan == null || plan.weightType() != NativeDecoder.F32) return null;
        return new NativePrefill(plan, qkv, o, gateUp, down);
    }

    /**
     * The forward of {@code ids} [B, T] at {@code positions} [B, T], as {@code LlamaModel.forward} documents it: the
     * additive {@code mask} [B, 1, T, S] (null only when every query sees every key), keys and values stored in
     * {@code cache} at columns [length, length + T) (it is not advanced) or, without a cache, attention over these T
     * tokens alone. The mask must be causal, as {@code LlamaModel.attentionMask} makes it: no query reads the keys
     * after its own position. Returns the hidden states after the final norm, [B, T, D], or with {@code lastOnly}
     * those of the last position, [B, 1, D]: then the last layer computes its attention output and MLP for that
     * position alone (its keys and values for all of them), which is all that generation reads of a prompt.
     */
    public synchronized NDArray forward(NDArray ids, NDArray positions, NDArray mask, KvCache cache, boolean lastOnly) {
        int B = Math.toIntExact(ids.getShape().get(0)),
                T = Math.toIntExact(ids.getShape().get(1));
        int D = plan.hidden(), H = plan.heads(), KV = plan.kvHeads(), hd = plan.headDim(), F = plan.ffn();
        int R = B * T, past = cache == null ? 0 : cache.length(), S = past + T;
        int[] id = tokens(ids.toLongArray()), pos = positions(positions.toLongArray(), R);
        long maskAddress = 0;
        if (mask != null) {
            if (!mask.getShape().equals(new Shape(B, 1, T, S)) || mask.getDataType() != DataType.FLOAT32)
                throw new IllegalArgumentException(
                        "expected an fp32 mask [" + B + ", 1, " + T + ", " + S + "], got " + mask.getShape());
            maskAddress = DecodeAttention.contiguousAddress(mask);
        }
        if (cache != null) {
            if (cache.rows() != B || cache.kvHeads() != KV || cache.headDim() != hd)
                throw new IllegalArgumentException("a cache of " + cache.rows() + " rows, " + cache.kvHeads()
                        + " kv heads of size " + cache.headDim() + " for " + B + " rows of a model of " + KV
                        + " of size " + hd);
            if (S > cache.capacity())
                throw new IllegalStateException(
                        "KV cache full: " + past + " + " + T + " > capacity " + cache.capacity());
        }
        // With lastOnly, the last layer goes on from its attention with the last position's column of the stream.
        int L = plan.layers(), from = lastOnly ? T - 1 : 0, Rq = B * (T - from);
        int threads = NativeThreads.engineThreads();
        Workspace w = workspace(B, T, S, Rq, cache == null, threads);
        try {
            long qkvRows = (long) (H + 2 * KV) * hd, keys = w.keys, values = w.values, capacity = T;
            rlcd4j_fm_rope_tables(pos, R, plan.invFreq(), hd / 2, w.cos, w.sin);
            rlcd4j_fm_embed(plan.embed(), D, id, R, w.x);
            float scale = 1.0f / (float) Math.sqrt(hd);
            for (int l = 0; l < L; l++) {
                boolean last = l == L - 1;
                // the previous layer's MLP output (in y) joins the stream here, fused with this layer's first norm
                rlcd4j_fm_add_norm(
                        w.x, l == 0 ? 0 : w.y, plan.inputNorm()[l], D, R, plan.eps(), w.h, 0, w.sums, threads);
                if (last && lastOnly) rlcd4j_fm_columns(w.x, D, B, T, from, w.stream);
                rlcd4j_fm_product(qkv[l], qkvRows, D, w.h, R, w.qkv); // [(H + 2 KV) hd, R]
                if (cache != null) {
                    keys = cache.keysAddress(l);
                    values = cache.valuesAddress(l);
                    capacity = cache.capacity();
                }
                rlcd4j_fm_split_heads(
                        w.qkv, B, T, H, KV, hd, w.cos, w.sin, scale, w.q, keys, values, capacity, past, threads);
                int columns = last ? Rq : R;
                long residual = last ? w.stream : w.x;
                rlcd4j_fm_attention(
                        w.q,
                        keys,
                        values,
                        capacity,
                        B,
                        T,
                        H,
                        KV,
                        hd,
                        past,
                        last ? from : 0,
                        maskAddress,
                        w.heads,
                        w.attentionScratch,
                        threads); // [H hd, columns]
                rlcd4j_fm_product(o[l], D, (long) H * hd, w.heads, columns, w.y); // [D, columns]
                rlcd4j_fm_add_norm(residual, w.y, plan.postNorm()[l], D, columns, plan.eps(), w.h, 0, w.sums, threads);
                rlcd4j_fm_product(gateUp[l], 2L * F, D, w.h, columns, w.gateUp); // [2F, columns]: gate, then up
                rlcd4j_fm_swiglu(w.gateUp, (long) F * columns, threads); // the gate rows become the MLP's hidden units
                rlcd4j_fm_product(down[l], D, F, w.gateUp, columns, w.y); // [D, columns]
            }
            NDArray out = ids.getManager().create(new Shape(B, T - from, D), DataType.FLOAT32);
            rlcd4j_fm_add_norm(w.stream, w.y, plan.finalNorm(), D, Rq, plan.eps(), address(out), 1, w.sums, threads);
            return out;
        } finally {
            if (w.memory != kept) w.memory.close();
        }
    }

    /**
     * One forward's buffers, 64-byte aligned, in one block: the stream x [D, R] (and, with lastOnly, its columns
     * that go on, stream [D, Rq]; else stream is x), a norm's output h [D, R], the q/k/v product [(H + 2 KV) hd, R],
     * q [B, H, T, hd], the heads' outputs [H hd, R], y [D, R] (the attention's output product, then the MLP's), the
     * gate/up product [2F, R], k and v [B, KV, T, hd] when there is no cache, RoPE's cos and sin [hd / 2, R], the
     * norms' sums [R] and attention's scratch.
     */
    private record Workspace(
            Memory memory,
            long x,
            long stream,
            long h,
            long qkv,
            long q,
            long heads,
            long y,
            long gateUp,
            long keys,
            long values,
            long cos,
            long sin,
            long sums,
            long attentionScratch) {}

    private Workspace workspace(int B, int T, int S, int Rq, boolean noCache, int threads) {
        long R = (long) B * T, D = plan.hidden(), hd = plan.headDim(), H = plan.heads(), KV = plan.kvHeads();
        long keysPadded = (S + 15) / 16 * 16;
        long[] floats = {
            D * R, // x
            Rq == R ? 0 : D * Rq, // stream
            D * R, // h
            (H + 2 * KV) * hd * R, // qkv
            H * hd * R, // q
            H * hd * R, // heads
            D * R, // y
            2L * plan.ffn() * R, // gate/up
            noCache ? KV * hd * R : 0, // keys
            noCache ? KV * hd * R : 0, // values
            hd / 2 * R, // cos
            hd / 2 * R, // sin
            R, // sums
            threads * (hd + 4) * keysPadded // attention's scratch: keys transposed and a tile's weights, per thread
        };
        long bytes = 64;
        for (long n : floats) bytes += (n + 15) / 16 * 64;
        Memory memory = kept != null && kept.size() >= bytes ? kept : new Memory(bytes);
        if (memory != kept && bytes <= KEPT_WORKSPACE_BYTES) {
            if (kept != null) kept.close();
            kept = memory;
        }
        long[] at = new long[floats.length];
        long next = (Pointer.nativeValue(memory) + 63) & ~63L;
        for (int i = 0; i < floats.length; i++) {
            at[i] = floats[i] == 0 ? 0 : next;
            next += (floats[i] + 15) / 16 * 64;
        }
        return new Workspace(
                memory,
                at[0],
                Rq == R ? at[0] : at[1],
                at[2],
                at[3],
                at[4],
                at[5],
                at[6],
                at[7],
                at[8],
                at[9],
                at[10],
                at[11],
                at[12],
                at[13]);
    }

    private int[] tokens(long[] ids) {
        int[] id = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= plan.vocab())
                throw new IllegalArgumentException("token id " + ids[i] + " outside the vocabulary of " + plan.vocab());
            id[i] = (int) ids[i];
        }
        return id;
    }

    private static int[] positions(long[] positions, int R) {
        if (positions.length != R)
            throw new IllegalArgumentException(positions.length + " positions for " + R + " tokens");
        int[] pos = new int[R];
        for (int i = 0; i < R; i++) pos[i] = Math.toIntExact(positions[i]);
        return pos;
    }

    private static long[] addresses(NDArray[] arrays) {
        long[] at = new long[arrays.length];
        for (int i = 0; i < arrays.length; i++) at[i] = address(arrays[i]);
        return at;
    }

    private static long address(NDArray a) {
        return DecodeAttention.address(a);
    }
}
