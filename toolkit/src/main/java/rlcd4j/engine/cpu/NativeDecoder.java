package rlcd4j.engine.cpu;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntConsumer;

/**
 * A decode step of a LLaMA-family decoder in one native call per thread ({@code src/main/c/decode_step.c}): every
 * layer's norms, products, RoPE, cache update, attention and SwiGLU, then the final norm; and the LM head's product for
 * a few rows. libtorch runs the same step as some 25 ops per layer, each with its own fixed cost, and its
 * matrix-vector products on one core; here the step's weights are streamed by two cores
 * (docs/perf/engine.md, "Whole decode steps in native code").
 *
 * <p>The weights are read where they are: libtorch's fp32 arrays, or, for checkpoints stored in bf16 or fp16, a copy
 * of the checkpoint's own 16-bit values ({@link #narrow}). The model builds a decoder with the addresses of
 * its weights ({@link Plan}) and uses it only while those arrays are the ones it was made from
 * ({@link StackedWeights#intact()}).
 */
public final class NativeDecoder {
    /** {@code -Drlcd4j.nativeDecode=false} runs decode steps through libtorch's ops instead (for A/B runs). */
    public static final String PROPERTY = "rlcd4j.nativeDecode";
    /** The weight types the kernels read, by their code in {@code decode_step.c}. */
    public static final int F32 = 0, BF16 = 1, F16 = 2;

    private static final boolean LOADED;

    static {
        boolean loaded = NativeKernels.library() != null;
        if (loaded) Native.register(NativeDecoder.class, NativeKernels.library());
        LOADED = loaded;
    }

    private static native int rlcd4j_decode_step(
            long[] plan,
            long[] kv,
            int[] ids,
            int[] positions,
            int[] starts,
            int rows,
            int columns,
            long capacity,
            Pointer scratch,
            long out,
            Pointer barrier,
            int tid,
            int threads);

    private static native int rlcd4j_linear(
            long x,
            int rows,
            long k,
            long w,
            int weightType,
            long n,
            long y,
            Pointer scratch,
            Pointer claimed,
            int tid);

    private static native long rlcd4j_narrow(long src, Pointer dst, long n, int weightType);

    /**
     * Copies the fp32 array {@code a} into {@code dst} in 16 bits, {@link #BF16} or {@link #F16}, for a 16-bit plan.
     * Throws, naming the weight, when a value is not exact in that type: the copy is meant to give back the 16-bit
     * values of a checkpoint stored that way, which its fp32 arrays hold exactly.
     */
    public static void narrow(String name, NDArray a, int weightType, Pointer dst) {
        if (!LOADED) throw new IllegalStateException("the native kernels are not available: " + status());
        if (a.getDataType() != DataType.FLOAT32)
            throw new IllegalArgumentException(name + " is " + a.getDataType() + ", expected float32");
        long n = a.size();
        long inexact = rlcd4j_narrow(DecodeAttention.address(a), dst, n, weightType);
        if (inexact > 0) {
            throw new IllegalArgumentException(name + ": " + inexact + " of " + n + " values are not exact in "
                    + (weightType == BF16 ? "bf16" : "fp16")
                    + "; 16-bit decode weights are for checkpoints stored in that type, before any training");
        }
    }

    /**
     * What the kernels need of a model: its sizes and the native addresses of its weights. Matrices are row-major of
     * type {@code weightType}: {@code embed} [V, D], per layer {@code qkv} [(H+2KV)hd, D] (q, k, v stacked),
     * {@code o} [D, H hd], {@code gateUp} [2F, D] (gate, then up), {@code down} [D, F], {@code head} [V, D]; norms
     * and {@code invFreq} [hd/2] are fp32.
     */
    public record Plan(
            int hidden,
            int heads,
            int kvHeads,
            int headDim,
            int ffn,
            int vocab,
            float eps,
            int weightType,
            long embed,
            long finalNorm,
            long head,
            long invFreq,
            long[] inputNorm,
            long[] qkv,
            long[] o,
            long[] postNorm,
            long[] gateUp,
            long[] down) {
        int layers() {
            return qkv.length;
        }

        /** The memory of the weight matrices, where a step's bytes come from (the norms are a few KiB). */
        List<HugePages.Range> matrices() {
            long bytes = weightType == F32 ? 4 : 2,
                    D = hidden,
                    q = (long) heads * headDim,
                    kv = (long) kvHeads * headDim;
            List<HugePages.Range> out = new ArrayList<>();
            out.add(new HugePages.Range(embed, bytes * vocab * D));
            if (head != embed) out.add(new HugePages.Range(head, bytes * vocab * D));
            for (int l = 0; l < layers(); l++) {
                out.add(new HugePages.Range(qkv[l], bytes * (q + 2 * kv) * D));
                out.add(new HugePages.Range(o[l], bytes * D * q));
                out.add(new HugePages.Range(gateUp[l], bytes * 2 * ffn * D));
                out.add(new HugePages.Range(down[l], bytes * D * ffn));
            }
            return out;
        }

        long[] encode() {
            int L = layers();
            long[] p = new long[11 + 6 * L];
            long[] fields = {
                hidden,
                heads,
                kvHeads,
                headDim,
                ffn,
                L,
                weightType,
                Float.floatToIntBits(eps),
                embed,
                finalNorm,
                invFreq
            };
            System.arraycopy(fields, 0, p, 0, fields.length);
            for (int l = 0; l < L; l++) {
                long[] f = {inputNorm[l], qkv[l], o[l], postNorm[l], gateUp[l], down[l]};
                System.arraycopy(f, 0, p, 11 + 6 * l, 6);
            }
            return p;
        }
    }

    private final Plan plan;
    private final List<Memory> owned; // the 16-bit copies a plan points into
    private final long[] encoded;
    private final int threads;
    private final Memory barrier = new Memory(64); // the step's shared ints (decode_step.c's barrier)
    private final Memory headClaims = new Memory(64); // rows of the head claimed so far
    private Memory scratch;
    private final SecondThread second = new SecondThread("rlcd4j-decode-step");
    private final CompletableFuture<Long> hugePages;

    private NativeDecoder(Plan plan, List<Memory> owned) {
        this.plan = plan;
        this.owned = List.copyOf(owned);
        this.encoded = plan.encode();
        this.threads = Runtime.getRuntime().availableProcessors() > 1 ? 2 : 1;
        barrier.clear();
        // 16-bit copies were written into 2 MiB pages already (HugePages.allocate); fp32 arrays are libtorch's
        this.hugePages = plan.weightType() == F32
                ? HugePages.adviseInBackground(plan.matrices())
                : CompletableFuture.completedFuture(0L);
    }

    /** Whether the kernels are built here and not turned off by {@link #PROPERTY}; read at each call. */
    public static boolean enabled() {
        return LOADED && !"false".equals(System.getProperty(PROPERTY));
    }

    /** Which code runs decode steps, and why. */
    public static String status() {
        if (LOADED && "false".equals(System.getProperty(PROPERTY))) return "libtorch's ops (-D" + PROPERTY + "=false)";
        return NativeKernels.status();
    }

    /**
     * A decoder over the weights {@code plan} addresses, or null when the kernels cannot run it here; {@code owned}
     * holds memory the plan points into ({@link #narrow}), kept as long as the decoder.
     */
    public static NativeDecoder of(Plan plan, List<Memory> owned) {
        boolean sizes =
                plan.hidden() % 8 == 0 && plan.ffn() % 8 == 0 && plan.headDim() % 8 == 0 && plan.headDim() <= 256;
        return LOADED && sizes ? new NativeDecoder(plan, owned) : null;
    }

    /** What this decoder reads: the model's sizes and its weights' addresses. */
    public Plan plan() {
        return plan;
    }

    /**
     * How many bytes of the weights it reads it has moved onto 2 MiB pages, once done ({@link HugePages}): fp32
     * weights only; 16-bit copies are made on them.
     */
    public CompletableFuture<Long> hugePages() {
        return hugePages;
    }

    /** The weight type this decoder reads: {@link #F32}, {@link #BF16} or {@link #F16}. */
    public int weightType() {
        return plan.weightType();
    }

    /**
     * One decode step: token {@code ids[b]} at position {@code positions[b]} for each row b, stored at cache column
     * {@code cache.length()}, row b attending to columns {@code [starts[b], cache.length()]}. Does not advance the
     * cache. Returns the hidden states after the final norm, [B, 1, D], made by {@code manager}.
     */
    public synchronized NDArray step(NDManager manager, long[] ids, long[] positions, int[] starts, KvCache cache) {
        int B = ids.length, S = cache.length() + 1, L = plan.layers();
        if (positions.length != B || starts.length != B || cache.rows() != B)
            throw new IllegalArgumentException(B + " ids, " + positions.length + " positions, " + starts.length
                    + " row starts for a cache of " + cache.rows() + " rows");
        if (cache.kvHeads() != plan.kvHeads() || cache.headDim() != plan.headDim())
            throw new IllegalArgumentException("a cache of " + cache.kvHeads() + " kv heads of size " + cache.headDim()
                    + " for a model of " + plan.kvHeads() + " of size " + plan.headDim());
        if (S > cache.capacity())
            throw new IllegalStateException("KV cache full: " + cache.length() + " + 1 > capacity " + cache.capacity());
        int[] id = new int[B], pos = new int[B];
        for (int b = 0; b < B; b++) {
            if (ids[b] < 0 || ids[b] >= plan.vocab())
                throw new IllegalArgumentException("token id " + ids[b] + " outside the vocabulary of " + plan.vocab());
            if (starts[b] < 0 || starts[b] >= S)
                throw new IllegalArgumentException("row " + b + " starts at column " + starts[b] + " of " + S);
            id[b] = (int) ids[b];
            pos[b] = Math.toIntExact(positions[b]);
        }
        long[] kv = new long[2 * L];
        for (int l = 0; l < L; l++) {
            kv[2 * l] = cache.keysAddress(l);
            kv[2 * l + 1] = cache.valuesAddress(l);
        }
        long D = plan.hidden(), hd = plan.headDim(), H = plan.heads(), F = plan.ffn();
        long widest = Math.max(D, Math.max(H * hd, F));
        long floats = B * (2 * D + (H + 2L * plan.kvHeads()) * hd + H * hd + 2 * F + hd)
                + threads * (cache.capacity() + 8L + B * widest);
        Memory work = scratch(floats);
        NDArray out = manager.create(new Shape(B, D), DataType.FLOAT32);
        long outAddress = DecodeAttention.address(out);
        IntConsumer task = tid -> {
            int rc = rlcd4j_decode_step(
                    encoded, kv, id, pos, starts, B, S, cache.capacity(), work, outAddress, barrier, tid, threads);
            if (rc != 0) throw new IllegalStateException("native decode step failed (code " + rc + ")");
        };
        second.runOnAll(threads, task);
        return out.reshape(B, 1, D);
    }

    /** x [M, D] times the LM head's transpose: logits [M, V] made by {@code manager}. */
    public synchronized NDArray head(NDManager manager, NDArray x) {
        int M = Math.toIntExact(x.getShape().get(0));
        long D = plan.hidden(), V = plan.vocab();
        if (x.getShape().dimension() != 2 || x.getShape().get(1) != D || x.getDataType() != DataType.FLOAT32)
            throw new IllegalArgumentException("expected fp32 rows [M, " + D + "], got " + x.getShape());
        long xAddress = DecodeAttention.contiguousAddress(x);
        NDArray out = manager.create(new Shape(M, V), DataType.FLOAT32);
        long outAddress = DecodeAttention.address(out);
        Memory work = scratch(threads * M * D);
        headClaims.setInt(0, 0);
        second.runOnAll(threads, tid -> {
            int rc =
                    rlcd4j_linear(xAddress, M, D, plan.head(), plan.weightType(), V, outAddress, work, headClaims, tid);
            if (rc != 0) throw new IllegalStateException("native head product failed (code " + rc + ")");
        });
        return out;
    }

    /** Scratch memory for at least {@code floats} floats, reused between calls. */
    private Memory scratch(long floats) {
        if (scratch == null || scratch.size() < 4 * floats) scratch = new Memory(4 * floats);
        return scratch;
    }
}
