package rlcd4j.engine.cpu;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * A prefill or scoring forward of a LLaMA-family decoder (many tokens, CPU fp32 inference) whose weight products run
 * in libtorch, as before, and whose other work runs in native code ({@code src/main/c/prefill.c}): per layer two fused
 * residual-add-and-RMSNorm passes, one pass that applies RoPE and lays out q, k and v for attention (k and v straight
 * into the cache), causal attention in one kernel (scores, mask, softmax and weighted values, reading only each
 * query's own keys) and SwiGLU. libtorch runs the same forward as some thirty ops per layer, each allocating its
 * output, and attention as full [T, S] products behind the mask (docs/perf/engine.md, "Native prefill").
 *
 * <p>The residual stream is feature-major, [D, B·T]: every product is then a stored weight matrix times the activations,
 * {@code W [N, K] · X [K, B·T]}, with no transposed views (the layout that libtorch's products were already measured
 * fastest in at more than a few rows). The native passes split their columns (attention: its queries) between this
 * thread and one helper thread, which parks between calls. The result agrees with {@code LlamaModel}'s libtorch ops to
 * rounding ({@code NativePrefillTest}, and the golden tests, which run through here).
 *
 * <p>Reads the norms, the embedding and RoPE's frequencies by address from the model's fp32 {@link NativeDecoder.Plan},
 * and the products' matrices as the model's arrays; valid while those arrays are the ones it was made from
 * ({@link StackedWeights#intact()}).
 */
public final class NativePrefill {
    /** {@code -Drlcd4j.nativePrefill=false} runs prefill and scoring forwards through libtorch's ops (for A/B runs). */
    public static final String PROPERTY = "rlcd4j.nativePrefill";

    private static final boolean LOADED;

    static {
        boolean loaded = NativeKernels.library() != null;
        if (loaded) Native.register(NativePrefill.class, NativeKernels.library());
        LOADED = loaded;
    }

    private static native void rlcd4j_fm_embed(long embed, long D, int[] ids, long R, long x);

    private static native void rlcd4j_fm_add_norm(
            long x,
            long y,
            long g,
            long D,
            long R,
            float eps,
            long out,
            int rowMajor,
            Pointer sums,
            int tid,
            int threads);

    private static native void rlcd4j_fm_rope_tables(int[] pos, long R, long invFreq, int half, Pointer cs, Pointer sn);

    private static native void rlcd4j_fm_split_heads(
            long qkv,
            int B,
            int T,
            int H,
            int KV,
            int hd,
            Pointer cs,
            Pointer sn,
            float qScale,
            long q,
            long k,
            long v,
            long capacity,
            int past);

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
            Pointer scratch,
            int tid,
            int threads);

    private static native void rlcd4j_fm_columns(long x, long D, int B, int T, int from, long out);

    private static native void rlcd4j_fm_swiglu(long gateUp, long n, int tid, int threads);

    private final NativeDecoder.Plan plan;
    private final NDArray[] qkv, o, gateUp, down;
    private final int threads = Runtime.getRuntime().availableProcessors() > 1 ? 2 : 1;
    private final SecondThread second = new SecondThread("rlcd4j-prefill");

    private NativePrefill(NativeDecoder.Plan plan, NDArray[] qkv, NDArray[] o, NDArray[] gateUp, NDArray[] down) {
        this.plan = plan;
        this.qkv = qkv;
        this.o = o;
        this.gateUp = gateUp;
        this.down = down;
    }

    /** Whether the kernels are built here and not turned off by {@link #PROPERTY}; read at each call. */
    public static boolean enabled() {
        return LOADED && !"false".equals(System.getProperty(PROPERTY));
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
        NDManager m = ids.getManager();
        int B = Math.toIntExact(ids.getShape().get(0)),
                T = Math.toIntExact(ids.getShape().get(1));
        int D = plan.hidden(), H = plan.heads(), KV = plan.kvHeads(), hd = plan.headDim(), F = plan.ffn();
        int half = hd / 2, R = B * T, past = cache == null ? 0 : cache.length(), S = past + T;
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
        long keysPadded = (S + 15) / 16 * 16;
        Memory tables = new Memory(4L * (2L * half * R + R + threads * (hd + 4L) * keysPadded));
        Pointer cs = tables, sn = tables.share(4L * half * R), sums = tables.share(8L * half * R);
        Pointer attentionScratch = tables.share(4L * (2L * half * R + R));
        rlcd4j_fm_rope_tables(pos, R, plan.invFreq(), half, cs, sn);
        float scale = 1.0f / (float) Math.sqrt(hd);

        NDArray x = m.create(new Shape(D, R), DataType.FLOAT32); // the residual stream, feature-major
        rlcd4j_fm_embed(plan.embed(), D, id, R, address(x));
        // With lastOnly, the last layer goes on from its attention with the last position's column of the stream.
        int L = plan.layers(), from = lastOnly ? T - 1 : 0, Rq = B * (T - from);
        NDArray stream = lastOnly ? m.create(new Shape(D, Rq), DataType.FLOAT32) : x;
        NDArray pending = null; // the last layer's MLP output, added to the stream by the next norm
        for (int l = 0; l < L; l++) {
            NDArray consumed = pending;
            boolean last = l == L - 1;
            try (NDScope scope = new NDScope()) {
                NDArray h = m.create(new Shape(D, R), DataType.FLOAT32);
                addNorm(x, pending, plan.inputNorm()[l], h, false, sums);
                if (last && lastOnly) rlcd4j_fm_columns(address(x), D, B, T, from, address(stream));
                NDArray qkvOut = qkv[l].matMul(h); // [(H + 2 KV) hd, R]
                NDArray keys, values;
                long capacity;
                if (cache != null) {
                    keys = cache.keys(l);
                    values = cache.values(l);
                    capacity = cache.capacity();
                } else {
                    keys = m.create(new Shape(B, KV, T, hd), DataType.FLOAT32);
                    values = m.create(new Shape(B, KV, T, hd), DataType.FLOAT32);
                    capacity = T;
                }
                NDArray q = m.create(new Shape(B, H, T, hd), DataType.FLOAT32);
                rlcd4j_fm_split_heads(
                        address(qkvOut),
                        B,
                        T,
                        H,
                        KV,
                        hd,
                        cs,
                        sn,
                        scale,
                        address(q),
                        address(keys),
                        address(values),
                        capacity,
                        past);
                int first = last ? from : 0, columns = last ? Rq : R;
                NDArray heads = m.create(new Shape((long) H * hd, columns), DataType.FLOAT32); // [H hd, columns]
                long qAt = address(q), keysAt = address(keys), valuesAt = address(values), headsAt = address(heads);
                long cap = capacity, maskAt = maskAddress;
                second.runOnAll(
                        threads,
                        tid -> rlcd4j_fm_attention(
                                qAt,
                                keysAt,
                                valuesAt,
                                cap,
                                B,
                                T,
                                H,
                                KV,
                                hd,
                                past,
                                first,
                                maskAt,
                                headsAt,
                                attentionScratch,
                                tid,
                                threads));
                NDArray residual = last ? stream : x;
                NDArray attended = o[l].matMul(heads); // [D, columns]
                NDArray normed = m.create(new Shape(D, columns), DataType.FLOAT32);
                addNorm(residual, attended, plan.postNorm()[l], normed, false, sums);
                NDArray gu = gateUp[l].matMul(normed); // [2F, columns]: gate rows, then up rows
                long guAt = address(gu), n = (long) F * columns;
                second.runOnAll(threads, tid -> rlcd4j_fm_swiglu(guAt, n, tid, threads));
                pending = down[l].matMul(gu.get(new NDIndex().addSliceDim(0, F))); // [D, columns]
                NDScope.unregister(pending);
            }
            if (consumed != null) consumed.close();
        }
        NDArray out = m.create(new Shape(B, T - from, D), DataType.FLOAT32);
        addNorm(stream, pending, plan.finalNorm(), out, true, sums);
        if (pending != null) pending.close();
        if (stream != x) stream.close();
        x.close();
        return out;
    }

    /** x += y (y may be null), then out = RMSNorm(x) * g, [D, R] (or [R, D] when rowMajor). */
    private void addNorm(NDArray x, NDArray y, long g, NDArray out, boolean rowMajor, Pointer sums) {
        long R = x.getShape().get(1), xAt = address(x), yAt = y == null ? 0 : address(y), outAt = address(out);
        second.runOnAll(
                threads,
                tid -> rlcd4j_fm_add_norm(
                        xAt, yAt, g, plan.hidden(), R, plan.eps(), outAt, rowMajor ? 1 : 0, sums, tid, threads));
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

    private static long address(NDArray a) {
        return DecodeAttention.address(a);
    }
}
