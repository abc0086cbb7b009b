package rlcd4j.engine.cpu;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;

/**
 * A single-token decode step's attention in native code ({@code src/main/c/decode_attention.c}, AVX2): each batch row
 * attends to its own cache columns only, {@code [start, S)}, so a batch whose rows hold histories of different lengths
 * (left padding, rows that joined a running batch) reads no padding, and the cache is read at close to the memory's
 * speed. libtorch's batched ops read every row from the batch's first column behind a mask, at about a third of it
 * (docs/perf/code-figures.md#decodeattention).
 *
 * <p>Maven builds the library with gcc where it can (Linux x86-64); without it, or on a CPU without AVX2 and FMA, or
 * with {@code -Drlcd4j.nativeAttention=false}, {@link #usable} is false and the model uses libtorch's ops, which give the
 * same result to rounding. {@link #status()} says which. A batch of two or more rows is split between the calling
 * thread and one helper thread, by columns to read; the helper parks when idle, so it takes no core from libtorch's
 * threads between calls.
 */
public final class DecodeAttention {
    /** {@code -Drlcd4j.nativeAttention=false} uses libtorch's ops instead. */
    public static final String PROPERTY = "rlcd4j.nativeAttention";

    private static final String LOAD_STATUS;
    private static final boolean LOADED;

    static {
        boolean loaded = NativeKernels.library() != null;
        if (loaded) Native.register(DecodeAttention.class, NativeKernels.library());
        LOADED = loaded;
        LOAD_STATUS = NativeKernels.status();
    }

    private DecodeAttention() {}

    private static native int rlcd4j_decode_attention(
            long q,
            long qRow,
            long k,
            long v,
            long out,
            int[] start,
            int b0,
            int b1,
            int kvHeads,
            int groups,
            long capacity,
            int headDim,
            int columns,
            float scale);

    /** Which attention decode steps use, and why. */
    public static String status() {
        if (LOADED && "false".equals(System.getProperty(PROPERTY))) return "libtorch's ops (-D" + PROPERTY + "=false)";
        return LOAD_STATUS;
    }

    /** Whether a decode step of this type and head size can use the native attention now. */
    public static boolean usable(DataType dtype, int headDim) {
        return LOADED
                && dtype == DataType.FLOAT32
                && headDim % 8 == 0
                && headDim <= 256
                && !"false".equals(System.getProperty(PROPERTY));
    }

    /**
     * Attention of one new token per row over the first {@code S} columns of layer {@code layer}'s cache, whose column
     * {@code S-1} already holds this step's keys and values ({@link KvCache#store}): row b attends to columns
     * {@code [starts[b], S)}.
     *
     * @param q      query heads, a contiguous array whose row b holds the H = KV*G heads [H, hd] at its start (further
     *               heads after them, e.g. the keys of a stacked projection, are skipped: {@code qRow} floats per row)
     * @param qRow   floats from one row of {@code q} to the next
     * @param S      columns: the cache's length before this step, plus one
     * @param scale  the factor of q.k, 1/sqrt(hd)
     * @return the heads' outputs [B, H*hd], in the cache's output buffer ({@link KvCache#attentionOutput}): use it
     *         before the next call
     */
    public static NDArray attend(
            NDArray q, long qRow, KvCache cache, int layer, int[] starts, int S, int heads, float scale) {
        boolean split = starts.length > 1
                && Runtime.getRuntime().availableProcessors() > 1
                && NativeThreads.engineThreads() > 1;
        return attend(q, qRow, cache, layer, starts, S, heads, scale, split);
    }

    /** As above; {@code split} shares the rows with the helper thread (tests set it to exercise both paths). */
    static NDArray attend(
            NDArray q,
            long qRow,
            KvCache cache,
            int layer,
            int[] starts,
            int S,
            int heads,
            float scale,
            boolean split) {
        int B = starts.length, hd = cache.headDim(), KV = cache.kvHeads();
        if (heads % KV != 0)
            throw new IllegalArgumentException(heads + " query heads do not share " + KV + " kv heads");
        if (B != cache.rows())
            throw new IllegalArgumentException(B + " row starts for a cache of " + cache.rows() + " rows");
        if (S > cache.capacity())
            throw new IllegalArgumentException(S + " columns exceed the cache's capacity " + cache.capacity());
        for (int b = 0; b < B; b++) {
            if (starts[b] < 0 || starts[b] >= S)
                throw new IllegalArgumentException("row " + b + " starts at column " + starts[b] + " of " + S);
        }
        NDArray out = cache.attentionOutput((long) heads * hd);
        ByteBuffer qb = q.toByteBuffer(true);
        try {
            if (qb.capacity() < 4 * ((B - 1) * qRow + (long) heads * hd)) {
                throw new IllegalArgumentException(
                        "q holds " + qb.capacity() / 4 + " floats, too few for " + B + " rows of " + qRow);
            }
            Call call = new Call(
                    address(qb),
                    qRow,
                    cache.keysAddress(layer),
                    cache.valuesAddress(layer),
                    cache.attentionOutputAddress(),
                    starts,
                    KV,
                    heads / KV,
                    cache.capacity(),
                    hd,
                    S,
                    scale);
            int cut = split && B > 1 ? balancedCut(starts, S) : B;
            if (cut < B) Helper.INSTANCE.run(() -> call.run(cut, B), () -> call.run(0, cut));
            else call.run(0, B);
        } finally {
            Reference.reachabilityFence(qb);
        }
        return out;
    }

    /** The native address of an array's data. */
    public static long address(NDArray a) {
        return address(a.toByteBuffer(true));
    }

    /**
     * The address of a's data, copied first when a is a view that is not contiguous (the last position of rows, a
     * slice of a mask); the copy lives in the caller's scope.
     */
    static long contiguousAddress(NDArray a) {
        try {
            return address(a);
        } catch (IllegalStateException notContiguous) {
            return address(a.duplicate());
        }
    }

    private static long address(ByteBuffer b) {
        if (!b.isDirect()) throw new IllegalStateException("libtorch gave a heap copy, not its memory");
        return Pointer.nativeValue(Native.getDirectBufferPointer(b));
    }

    /** The row where the columns to read split in two halves: rows [0, cut) and [cut, B). */
    static int balancedCut(int[] starts, int S) {
        long total = 0;
        for (int s : starts) total += S - s;
        long sum = 0;
        for (int b = 0; b < starts.length - 1; b++) {
            sum += S - starts[b];
            if (2 * sum >= total) return b + 1;
        }
        return starts.length - 1;
    }

    /** One step's arguments; {@link #run} does rows [b0, b1). */
    private record Call(
            long q,
            long qRow,
            long k,
            long v,
            long out,
            int[] starts,
            int kvHeads,
            int groups,
            long capacity,
            int headDim,
            int columns,
            float scale) {
        void run(int b0, int b1) {
            int rc = rlcd4j_decode_attention(
                    q, qRow, k, v, out, starts, b0, b1, kvHeads, groups, capacity, headDim, columns, scale);
            if (rc != 0)
                throw new IllegalStateException("native attention failed (code " + rc + ") for head size " + headDim);
        }
    }

    /** Started by the first split call. */
    private static final class Helper {
        static final SecondThread INSTANCE = new SecondThread("rlcd4j-attention-helper");
    }
}
