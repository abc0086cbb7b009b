package rlcd4j.engine.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.pytorch.jni.JniUtils;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rlcd4j.engine.cpu.DecodeAttention;
import rlcd4j.engine.cpu.DecodeHelper;
import rlcd4j.engine.cpu.HugePages;
import rlcd4j.engine.cpu.KvCache;
import rlcd4j.engine.cpu.MklCpuPath;
import rlcd4j.engine.cpu.NativeDecoder;
import rlcd4j.engine.cpu.NativePrefill;
import rlcd4j.engine.cpu.NativeThreads;
import rlcd4j.engine.cpu.StackedWeights;
import rlcd4j.util.RlcdException;

/**
 * A LLaMA-family decoder (LLaMA 1/2/3, Mistral, Qwen2) on raw DJL NDArrays: its math is all in this file, the CPU
 * speed tricks it calls (stacked weights, the decode helper, native attention) are in {@code rlcd4j.engine.cpu}.
 *
 * <pre>
 * ids [B,T] -> embed [B,T,D]
 *   L x { h = x + Attention(RMSNorm(x))      q/k/v projections, RoPE, grouped-query attention, KV cache
 *         x = h + MLP(RMSNorm(h)) }          SwiGLU: down(silu(gate(x)) * up(x))
 * -> RMSNorm -> hidden [B,T,D] -> lm_head -> logits [B,T,V]
 * </pre>
 *
 * Weights keep their Hugging Face names, so a checkpoint maps one to one onto {@link #weights()} and back. The same
 * forward serves inference (with a KV cache) and training (under a GradientCollector, without cache); an active
 * {@link LoraAdapter} adds its low-rank update to the projections it targets.
 * References: HF transformers {@code modeling_llama.py}; Touvron et al. 2023.
 */
public final class LlamaModel implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LlamaModel.class);
    private final LlamaConfig config;
    private final NDManager manager;
    private final Map<String, NDArray> weights;
    private final DataType dtype;
    private final NDArray invFreq; // [hd/2], fp32
    private final NDArray halfSigns; // [hd]: -1 on the first half, +1 on the second (RoPE's rotate_half signs)
    // constants made once: a fresh scalar costs a native call per use
    private final NDArray attentionScale, rmsEps, negHalf;
    /** The stacked q/k/v and gate/up matrices inference multiplies by ({@link StackedWeights}). */
    private final StackedWeights stackedWeights;
    /**
     * From this many rows on, an inference product x·Wᵀ on the CPU runs as (W·xᵀ)ᵀ: the same numbers up to rounding,
     * but libtorch's MKL is faster in that layout for skinny x (256 rows and more alike). With the weights cold in
     * memory, as in a decode step, it also wins at 4-12 rows (figures: docs/perf/code-figures.md#llamamodel). Steps of
     * 1-3 rows go through {@link DecodeHelper}. The result is a transposed view, which element-wise ops and the next
     * product take as it is.
     */
    static final int WEIGHTS_LEFT_ROWS = NativeThreads.SMALL_STEP_ROWS;
    /** Up to this many rows, the LM head's product runs in {@link NativeDecoder} where decode steps do. */
    static final int NATIVE_HEAD_ROWS = 16;
    /** The same for the LM head, whose 49152 x 576 matrix gains from 2 rows on (docs/perf/code-figures.md). */
    static final int HEAD_WEIGHTS_LEFT_ROWS = 2;

    private final boolean weightsLeftOn; // CPU fp32, where it was measured
    private DecodeHelper helper; // started by the first decode step that uses it
    private NativeDecoder nativeDecoder; // made by the first decode step that can use it
    private boolean nativeDecoderMade;
    private NativePrefill nativePrefill; // made by the first forward that can use it
    private boolean nativePrefillMade;
    // the checkpoint's type of its layers' weights ("F32", "BF16", ...), when loaded from one
    private String storedType;
    private NativeDecoder decoder16; // over 16-bit copies of the weights, when asked for (decodeWeights)
    private LoraAdapter adapter;
    private boolean training;

    private LlamaModel(LlamaConfig config, NDManager manager, Map<String, NDArray> weights, DataType dtype) {
        MklCpuPath.apply(); // before the first matrix product, which fixes MKL's code path
        this.config = config;
        this.manager = manager;
        this.weights = weights;
        this.dtype = dtype;
        this.invFreq = manager.create(inverseFrequencies(config));
        this.halfSigns = halfSigns(manager, config.headDim(), dtype);
        this.attentionScale = manager.full(new Shape(), 1.0f / (float) Math.sqrt(config.headDim()), dtype);
        this.rmsEps = manager.full(new Shape(), (float) config.rmsNormEps(), DataType.FLOAT32);
        this.negHalf = manager.full(new Shape(), -0.5f, DataType.FLOAT32);
        // fp32 on the CPU only, where it was measured; the intactness check reads host addresses
        boolean cpuFloat32 = !manager.getDevice().isGpu() && dtype == DataType.FLOAT32;
        weightsLeftOn = cpuFloat32;
        stackedWeights =
                new StackedWeights(weights, config.numLayers(), config.attentionBias(), config.mlpBias(), cpuFloat32);
    }

    /**
     * Whether a forward of {@code rows} token rows splits its products with the {@link DecodeHelper}: inference on a
     * CPU in fp32, fewer than {@link NativeThreads#SMALL_STEP_ROWS} rows, libtorch on one thread (as
     * {@link NativeThreads#forRows} sets for such steps) and a second core free; {@code -Drlcd4j.decodeHelper=false}
     * turns it off.
     */
    private boolean useHelper(long rows) {
        return weightsLeftOn
                && rows < NativeThreads.SMALL_STEP_ROWS
                && !JniUtils.isGradMode()
                && !"false".equals(System.getProperty("rlcd4j.decodeHelper"))
                && Runtime.getRuntime().availableProcessors() >= 2
                && JniUtils.getNumThreads() == 1;
    }

    /**
     * Whether decode steps and the head of a few rows run in native code ({@link NativeDecoder}) now: plain inference
     * on a CPU in fp32, the stacked weights intact, no adapter, no biases, and the kernels built here.
     */
    boolean decodesNatively(ai.djl.Device device) {
        return weightsLeftOn
                && !device.isGpu()
                && stackedWeights.on()
                && adapter == null
                && !JniUtils.isGradMode()
                && !config.attentionBias()
                && !config.mlpBias()
                && NativeDecoder.enabled()
                && nativeDecoder() != null;
    }

    /**
     * Whether this forward runs through {@link NativePrefill} (element-wise work in native code, products in
     * libtorch): plain CPU fp32 inference of at least {@link NativeThreads#SMALL_STEP_ROWS} token rows, the stacked
     * weights intact, no adapter, no biases, positions and mask of one per row ([B, T] and [B, 1, T, S], or no mask),
     * and the kernels built here; {@code -Drlcd4j.nativePrefill=false} turns it off.
     */
    boolean prefillsNatively(NDArray ids, NDArray positions, NDArray mask, KvCache cache) {
        long B = ids.getShape().get(0), T = ids.getShape().get(1), S = (cache == null ? 0 : cache.length()) + T;
        return B * T >= NativeThreads.SMALL_STEP_ROWS
                && weightsLeftOn
                && !ids.getDevice().isGpu()
                && stackedWeights.on()
                && adapter == null
                && !JniUtils.isGradMode()
                && !config.attentionBias()
                && !config.mlpBias()
                && NativePrefill.enabled()
                && (cache != null && cache.length() > 0 || stackedWeights.intact())
                && positions.getShape().equals(ids.getShape())
                && (mask == null ? T == 1 : mask.getShape().equals(new Shape(B, 1, T, S)))
                && nativePrefill() != null;
    }

    private synchronized NativePrefill nativePrefill() {
        if (!nativePrefillMade) {
            nativePrefillMade = true;
            nativeDecoder(); // the fp32 decoder's plan: the norms, embedding and RoPE frequencies by address
            if (nativeDecoder != null) {
                int L = config.numLayers();
                NDArray[] qkv = new NDArray[L], o = new NDArray[L], gateUp = new NDArray[L], down = new NDArray[L];
                for (int l = 0; l < L; l++) {
                    String p = "model.layers." + l + ".";
                    qkv[l] = stackedWeights.qkv(l);
                    o[l] = w(p + "self_attn.o_proj.weight");
                    gateUp[l] = stackedWeights.gateUp(l);
                    down[l] = w(p + "mlp.down_proj.weight");
                }
                nativePrefill = NativePrefill.of(nativeDecoder.plan(), qkv, o, gateUp, down);
            }
        }
        return nativePrefill;
    }

    private synchronized NativeDecoder nativeDecoder() {
        if (!nativeDecoderMade) {
            nativeDecoderMade = true;
            nativeDecoder = makeNativeDecoder(NativeDecoder.F32);
        }
        return decoder16 != null ? decoder16 : nativeDecoder;
    }

    /**
     * Which copy of the weight matrices decode steps read: {@code "fp32"} (the model's arrays, the default), or
     * {@code "bf16"} or {@code "fp16"}, 16-bit copies: half the bytes a step streams from memory. The 16-bit copies
     * are exact with respect to a checkpoint stored in that type: its values were widened to fp32 exactly at load and
     * are narrowed back exactly here (a value that would not be is an error naming its weight). Prefill, scoring and
     * training keep the fp32 arrays. The copies take 2 bytes per weight more; a training forward drops them, since
     * training changes the weights (weights changed in place otherwise are not seen by the copies: call this again).
     * Returns false, changing nothing, where decode steps cannot run natively (the
     * kernels are not built here, a GPU, fp16 arrays, an adapter, a model with biases).
     */
    public synchronized boolean decodeWeights(String type) {
        int code = switch (type) {
            case "fp32" -> NativeDecoder.F32;
            case "bf16" -> NativeDecoder.BF16;
            case "fp16" -> NativeDecoder.F16;
            default -> throw new IllegalArgumentException("decode weights: expected fp32, bf16 or fp16, got " + type);
        };
        if (!decodesNatively(manager.getDevice())) return code == NativeDecoder.F32;
        decoder16 = code == NativeDecoder.F32 ? null : makeNativeDecoder(code);
        return true;
    }

    /** A training forward: the weights are about to change, so 16-bit copies of them would go stale. */
    private synchronized void dropDecodeWeights16() {
        if (decoder16 == null) return;
        LOG.info("16-bit decode weights dropped: the model is training; decode steps read the fp32 weights again");
        decoder16 = null;
    }

    /**
     * The safetensors type the checkpoint stored this model's layer weights in ("F32", "BF16", "F16"), or null for a
     * model not loaded from a checkpoint.
     */
    public String storedType() {
        return storedType;
    }

    /** The type decode steps read weights in: "fp32", "bf16" or "fp16" ({@link #decodeWeights}). */
    public synchronized String decodeWeightType() {
        if (decoder16 == null) return "fp32";
        return decoder16.weightType() == NativeDecoder.BF16 ? "bf16" : "fp16";
    }

    /** A native decoder over the weights, read as fp32 arrays or as 16-bit copies of them ({@code type}). */
    private NativeDecoder makeNativeDecoder(int type) {
        int L = config.numLayers();
        NDArray embedding = w("model.embed_tokens.weight"), head = w("lm_head.weight");
        Map<String, NDArray> matrices = new LinkedHashMap<>(); // what decode steps read, by name, in memory order
        for (int l = 0; l < L; l++) {
            String p = "model.layers." + l + ".";
            matrices.put(p + "self_attn.{q,k,v}_proj.weight", stackedWeights.qkv(l));
            matrices.put(p + "self_attn.o_proj.weight", w(p + "self_attn.o_proj.weight"));
            matrices.put(p + "mlp.{gate,up}_proj.weight", stackedWeights.gateUp(l));
            matrices.put(p + "mlp.down_proj.weight", w(p + "mlp.down_proj.weight"));
        }
        matrices.put("model.embed_tokens.weight", embedding);
        if (head != embedding) matrices.put("lm_head.weight", head);
        Map<String, Long> at = new HashMap<>();
        List<Memory> owned = new ArrayList<>();
        if (type == NativeDecoder.F32) {
            matrices.forEach((name, a) -> at.put(name, address(a)));
        } else {
            // the 16-bit copies in one block, whose first writes fault in 2 MiB pages (HugePages), 64-byte aligned
            long bytes = 0;
            for (NDArray a : matrices.values()) bytes += copyBytes(a);
            Memory block = HugePages.allocate(bytes);
            owned.add(block);
            long next = Pointer.nativeValue(block) + HugePages.alignedOffset(block);
            for (Map.Entry<String, NDArray> e : matrices.entrySet()) {
                NativeDecoder.narrow(e.getKey(), e.getValue(), type, new Pointer(next));
                at.put(e.getKey(), next);
                next += copyBytes(e.getValue());
            }
        }
        long[] inputNorm = new long[L], qkv = new long[L], o = new long[L], postNorm = new long[L];
        long[] gateUp = new long[L], down = new long[L];
        for (int l = 0; l < L; l++) {
            String p = "model.layers." + l + ".";
            inputNorm[l] = address(w(p + "input_layernorm.weight"));
            qkv[l] = at.get(p + "self_attn.{q,k,v}_proj.weight");
            o[l] = at.get(p + "self_attn.o_proj.weight");
            postNorm[l] = address(w(p + "post_attention_layernorm.weight"));
            gateUp[l] = at.get(p + "mlp.{gate,up}_proj.weight");
            down[l] = at.get(p + "mlp.down_proj.weight");
        }
        long embed = at.get("model.embed_tokens.weight");
        return NativeDecoder.of(
                new NativeDecoder.Plan(
                        config.hiddenSize(),
                        config.numHeads(),
                        config.numKvHeads(),
                        config.headDim(),
                        config.intermediateSize(),
                        config.vocabSize(),
                        (float) config.rmsNormEps(),
                        type,
                        embed,
                        address(w("model.norm.weight")),
                        head == embedding ? embed : at.get("lm_head.weight"),
                        address(invFreq),
                        inputNorm,
                        qkv,
                        o,
                        postNorm,
                        gateUp,
                        down),
                owned);
    }

    /** The bytes a 16-bit copy of {@code a} takes, rounded up to a cache line. */
    private static long copyBytes(NDArray a) {
        return (2 * a.size() + 63) / 64 * 64;
    }

    private static long address(NDArray a) {
        return DecodeAttention.address(a);
    }

    private synchronized DecodeHelper helper() {
        if (helper == null) helper = new DecodeHelper();
        return helper;
    }

    /** A stacked product: split with the helper, or in one call in the faster layout. */
    private NDArray product(NDArray x, NDArray wT, NDArray[] halves, boolean split) {
        if (!split) return times(x, wT, WEIGHTS_LEFT_ROWS);
        return helper().times(x, halves[0], halves[1], x.getShape().get(0) >= WEIGHTS_LEFT_ROWS);
    }

    /** [-1 x hd/2, +1 x hd/2]: folded into sin once per forward, so rotate_half needs no negation per layer. */
    private static NDArray halfSigns(NDManager m, int hd, DataType dtype) {
        float[] signs = new float[hd];
        for (int i = 0; i < hd; i++) signs[i] = i < hd / 2 ? -1f : 1f;
        NDArray a = m.create(signs);
        return dtype == DataType.FLOAT32 ? a : a.toType(dtype, false);
    }

    /** Loads the safetensors weights of a model folder, checking each tensor against the config. */
    public static LlamaModel load(Path dir, LlamaConfig config, NDManager parent, DataType dtype) {
        NDManager m = parent.newSubManager();
        try {
            Map<String, Safetensors.TensorInfo> index = Safetensors.indexFolder(dir);
            Map<String, long[]> expected = expectedShapes(config);
            Map<String, NDArray> w = new LinkedHashMap<>();
            String embed = "model.embed_tokens.weight", head = "lm_head.weight";
            for (var e : expected.entrySet()) {
                String name = e.getKey();
                Safetensors.TensorInfo t = index.get(name);
                // A tied checkpoint may store the shared matrix under either name.
                if (t == null && config.tieWordEmbeddings() && (name.equals(embed) || name.equals(head))) {
                    t = index.get(name.equals(embed) ? head : embed);
                }
                if (t == null) {
                    if (name.equals(head) && !config.tieWordEmbeddings()) {
                        throw new RlcdException(dir
                                + ": tensor lm_head.weight is missing and config.json has tie_word_embeddings=false");
                    }
                    throw new RlcdException(
                            dir + ": tensor " + name + " is missing; expected shape " + Arrays.toString(e.getValue()));
                }
                if (!Arrays.equals(t.shape(), e.getValue())) {
                    throw new RlcdException(t.file() + ": tensor " + t.name() + " has shape "
                            + Arrays.toString(t.shape()) + " but config.json implies " + Arrays.toString(e.getValue()));
                }
                if (config.tieWordEmbeddings() && name.equals(head)) {
                    w.put(head, w.get(embed)); // one matrix, two roles
                } else {
                    w.put(name, Safetensors.load(m, t, dtype));
                }
            }
            LlamaModel model = new LlamaModel(config, m, w, dtype);
            Safetensors.TensorInfo first = index.get("model.layers.0.self_attn.q_proj.weight");
            model.storedType = first != null ? first.dtype() : null;
            return model;
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /** A model with freshly initialised weights (normal(0, 0.02), norms at 1), seeded; for pretraining and benchmarks. */
    public static LlamaModel random(LlamaConfig config, NDManager parent, DataType dtype, long seed) {
        NDManager m = parent.newSubManager();
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, NDArray> w = new LinkedHashMap<>();
        for (var e : expectedShapes(config).entrySet()) {
            String name = e.getKey();
            if (config.tieWordEmbeddings() && name.equals("lm_head.weight")) {
                w.put(name, w.get("model.embed_tokens.weight"));
                continue;
            }
            long n = Arrays.stream(e.getValue()).reduce(1, (a, b) -> a * b);
            float[] v = new float[Math.toIntExact(n)];
            if (name.endsWith("norm.weight")) Arrays.fill(v, 1f);
            else if (!name.endsWith(".bias"))
                for (int i = 0; i < v.length; i++) v[i] = (float) (nextGaussian(rng) * 0.02);
            NDArray a = m.create(v, new Shape(e.getValue()));
            if (dtype != DataType.FLOAT32) {
                NDArray c = a.toType(dtype, false);
                a.close();
                a = c;
            }
            a.setName(name);
            w.put(name, a);
        }
        return new LlamaModel(config, m, w, dtype);
    }

    private static double nextGaussian(SplittableRandom rng) {
        // Box-Muller: SplittableRandom has no nextGaussian on Java 17.
        double u = 1.0 - rng.nextDouble(), v = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }

    /** Every weight the config calls for, with its shape, in checkpoint order. */
    public static Map<String, long[]> expectedShapes(LlamaConfig c) {
        long d = c.hiddenSize(),
                hd = c.headDim(),
                q = c.numHeads() * hd,
                kv = c.numKvHeads() * hd,
                f = c.intermediateSize();
        Map<String, long[]> s = new LinkedHashMap<>();
        s.put("model.embed_tokens.weight", new long[] {c.vocabSize(), d});
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            s.put(p + "input_layernorm.weight", new long[] {d});
            s.put(p + "self_attn.q_proj.weight", new long[] {q, d});
            s.put(p + "self_attn.k_proj.weight", new long[] {kv, d});
            s.put(p + "self_attn.v_proj.weight", new long[] {kv, d});
            if (c.attentionBias()) {
                s.put(p + "self_attn.q_proj.bias", new long[] {q});
                s.put(p + "self_attn.k_proj.bias", new long[] {kv});
                s.put(p + "self_attn.v_proj.bias", new long[] {kv});
            }
            s.put(p + "self_attn.o_proj.weight", new long[] {d, q});
            s.put(p + "post_attention_layernorm.weight", new long[] {d});
            s.put(p + "mlp.gate_proj.weight", new long[] {f, d});
            s.put(p + "mlp.up_proj.weight", new long[] {f, d});
            s.put(p + "mlp.down_proj.weight", new long[] {d, f});
            if (c.mlpBias()) {
                s.put(p + "mlp.gate_proj.bias", new long[] {f});
                s.put(p + "mlp.up_proj.bias", new long[] {f});
                s.put(p + "mlp.down_proj.bias", new long[] {d});
            }
        }
        s.put("model.norm.weight", new long[] {d});
        s.put("lm_head.weight", new long[] {c.vocabSize(), d});
        return s;
    }

    /** RoPE inverse frequencies theta^(-2i/hd), with LLaMA 3's scaling of the low frequencies when configured. */
    static float[] inverseFrequencies(LlamaConfig c) {
        int half = c.headDim() / 2;
        float[] inv = new float[half];
        for (int i = 0; i < half; i++) {
            double f = 1.0 / Math.pow(c.ropeTheta(), (2.0 * i) / c.headDim());
            LlamaConfig.RopeScaling rs = c.ropeScaling();
            if (rs != null) {
                double lowWavelen = rs.originalMaxPositions() / rs.lowFreqFactor();
                double highWavelen = rs.originalMaxPositions() / rs.highFreqFactor();
                double wavelen = 2 * Math.PI / f;
                if (wavelen > lowWavelen) {
                    f = f / rs.factor();
                } else if (wavelen >= highWavelen) {
                    double smooth = (rs.originalMaxPositions() / wavelen - rs.lowFreqFactor())
                            / (rs.highFreqFactor() - rs.lowFreqFactor());
                    f = (1 - smooth) * f / rs.factor() + smooth * f;
                }
            }
            inv[i] = (float) f;
        }
        return inv;
    }

    /**
     * The decoder.
     *
     * @param ids       token ids [B, T], int64
     * @param positions position of each token [B, T], int64 (with left padding, counted from the first real token)
     * @param mask      additive attention mask [B, 1, T, S], 0 where allowed and a large negative number elsewhere,
     *                  S = cached positions + T; null lets every query see every key, which is right only for a
     *                  single-token step over a cache without padding (the common decode step, spared the mask ops);
     *                  causal, as {@link #attentionMask} builds it: a long forward skips the keys after each block of
     *                  queries
     * @param cache     keys and values of earlier positions, updated in place; null for a plain full forward
     * @return hidden states after the final norm [B, T, D]
     */
    public NDArray forward(NDArray ids, NDArray positions, NDArray mask, KvCache cache) {
        return forward(ids, positions, mask, null, cache);
    }

    /**
     * A prompt's forward for generation: as {@link #forward}, but returns only the hidden state of each row's last
     * position after the final norm, [B, D], which is all that choosing the next token reads. On the CPU's native
     * prefill the last layer then computes its attention output and MLP for that position alone.
     */
    public NDArray forwardLast(NDArray ids, NDArray positions, NDArray mask, KvCache cache) {
        if (prefillsNatively(ids, positions, mask, cache)) {
            return nativeForward(ids, positions, mask, cache, true)
                    .reshape(ids.getShape().get(0), config.hiddenSize());
        }
        return forward(ids, positions, mask, cache).get(":, -1, :");
    }

    private NDArray nativeForward(NDArray ids, NDArray positions, NDArray mask, KvCache cache, boolean lastOnly) {
        NDArray out = nativePrefill().forward(ids, positions, mask, cache, lastOnly);
        if (cache != null) cache.advance((int) ids.getShape().get(1));
        return out;
    }

    /**
     * A decode step: one new token per row [B, 1] at cache column {@code cache.length()}, row b attending to columns
     * {@code [rowStarts[b], cache.length()]} (its own history: left padding and a shorter row's older columns are
     * skipped). Uses {@link DecodeAttention}'s native kernel where it can, which reads only those columns, and
     * libtorch's ops behind the equivalent mask otherwise.
     *
     * @return hidden states after the final norm [B, 1, D]
     */
    public NDArray step(NDArray ids, NDArray positions, int[] rowStarts, KvCache cache) {
        long B = ids.getShape().get(0), T = ids.getShape().get(1);
        if (T != 1 || rowStarts.length != B || cache == null) {
            throw new IllegalArgumentException("a step feeds one token per row over a cache: ids " + ids.getShape()
                    + ", " + rowStarts.length + " row starts");
        }
        int S = cache.length() + 1;
        if (decodesNatively(ids.getDevice())) {
            NDArray hidden = nativeDecoder()
                    .step(ids.getManager(), ids.toLongArray(), positions.toLongArray(), rowStarts, cache);
            cache.advance(1);
            return hidden;
        }
        if (stepsAttendNatively(ids.getDevice())) return forward(ids, positions, null, rowStarts, cache);
        boolean padded = false;
        for (int s : rowStarts) padded |= s > 0;
        NDArray mask = null; // a single-token step over unpadded rows sees every key: no mask needed
        if (padded) {
            long[] keys = new long[(int) B * S];
            for (int b = 0; b < B; b++) Arrays.fill(keys, b * S + rowStarts[b], (b + 1) * S, 1);
            mask = attentionMask(manager, ids.getManager().create(keys, new Shape(B, S)), S - 1, 1);
        }
        return forward(ids, positions, mask, null, cache);
    }

    /**
     * Whether {@link #step} on this device computes attention natively, reading each row's own columns only (else
     * libtorch's ops read every row from column 0 behind a mask).
     */
    public boolean stepsAttendNatively(ai.djl.Device device) {
        return DecodeAttention.usable(dtype, config.headDim()) && !device.isGpu() && !JniUtils.isGradMode();
    }

    /** {@code rowStarts} non-null: a decode step with native attention ({@link #step}); else {@code mask} as documented above. */
    private NDArray forward(NDArray ids, NDArray positions, NDArray mask, int[] rowStarts, KvCache cache) {
        long B = ids.getShape().get(0), T = ids.getShape().get(1);
        int H = config.numHeads(), KV = config.numKvHeads(), G = config.kvGroups(), hd = config.headDim();
        if (JniUtils.isGradMode()) dropDecodeWeights16();
        if (rowStarts == null && prefillsNatively(ids, positions, mask, cache))
            return nativeForward(ids, positions, mask, cache, false);
        // The residual stream is kept 2-D, [B*T, D]: every projection is then one plain matrix product, without the
        // reshapes that batched matmul adds around a 3-D input (measured: about a fifth of a decode step).
        NDArray x = ids.getNDArrayInternal()
                .embedding(ids, w("model.embed_tokens.weight"), SparseFormat.DENSE)
                .singletonOrThrow()
                .reshape(B * T, config.hiddenSize());

        // RoPE tables for these positions: angle = position * inv_freq, duplicated for the two halves [B,1,T,hd].
        NDArray angles =
                positions.toType(DataType.FLOAT32, false).expandDims(-1).mul(invFreq);
        NDArray emb = NDArrays.concat(new NDList(angles, angles), -1).expandDims(1);
        NDArray cos = emb.cos().toType(dtype, false);
        NDArray signedSin = emb.sin().toType(dtype, false).mul(halfSigns); // [-sin, +sin] over the two halves
        if (mask == null && rowStarts == null && T != 1)
            throw new IllegalArgumentException("a mask is needed when more than one token is fed");
        NDArray mask5 = mask == null
                ? null
                // [B,1,1,T,S]: broadcast over kv heads and the group
                : (dtype == DataType.FLOAT32 ? mask : mask.toType(dtype, false)).expandDims(1);

        // Decoding (with a cache) frees each layer's intermediates when the layer is done: at a batched prefill the
        // attention scores alone are B*H*T*S floats per layer (16 x 9 x 500 x 500 x 4 B = 144 MB at SmolLM2's shapes),
        // and kept for all 30 layers until the caller's scope closes they exhausted memory. Training forwards (no
        // cache) keep them.
        // Inference without a cache (scoring) does the same: nothing after a layer needs its intermediates unless
        // autograd records them, and a forward that keeps every layer's arrays takes fresh memory from the system for
        // each one (page faults: 1-3 s of system time per 1024-token forward, docs/perf/engine.md).
        boolean layerScopes = cache != null || (!JniUtils.isGradMode() && longPrefillOn());
        // The stacked projections carry no gradient and know nothing of adapters: only for plain inference.
        boolean stacked = stackedWeights.on()
                && adapter == null
                && !JniUtils.isGradMode()
                // a decode step follows a checked prefill
                && ((cache != null && cache.length() > 0) || stackedWeights.intact());
        boolean split = stacked && useHelper(B * T);
        for (int l = 0; l < config.numLayers(); l++) {
            NDArray layerInput = x;
            NDScope scope = layerScopes ? new NDScope() : null;
            try {
                x = layer(l, x, cos, signedSin, mask5, mask, rowStarts, cache, B, T, H, KV, G, hd, stacked, split);
                if (scope != null) NDScope.unregister(x);
            } finally {
                if (scope != null) scope.close();
            }
            if (layerScopes && l > 0) layerInput.close(); // an earlier layer's unregistered output
        }
        if (cache != null) cache.advance((int) T);
        NDArray out = rmsNorm(x, w("model.norm.weight")).reshape(B, T, config.hiddenSize());
        if (layerScopes && config.numLayers() > 0) x.close();
        return out;
    }

    private static NDArray plus(NDArray y, NDArray bias) {
        return bias == null ? y : y.add(bias);
    }

    /** One decoder layer: x + attention, then + MLP; {@code stacked} uses the stacked projections (inference only). */
    private NDArray layer(
            int l,
            NDArray x,
            NDArray cos,
            NDArray signedSin,
            NDArray mask5,
            NDArray mask,
            int[] rowStarts,
            KvCache cache,
            long B,
            long T,
            int H,
            int KV,
            int G,
            int hd,
            boolean stacked,
            boolean split) {
        {
            String p = "model.layers." + l + ".";
            NDArray h = rmsNorm(x, w(p + "input_layernorm.weight"));
            NDArray q, k, v;
            NDArray qRows; // q's memory, for native attention: [B, H+KV, T, hd] when stacked with k, else q itself
            if (stacked) {
                // one product for q, k and v; RoPE once over the q and k heads together
                NDList qkv = plus(
                                product(h, stackedWeights.qkvT(l), stackedWeights.qkvHalves(l), split),
                                stackedWeights.qkvBias(l))
                        .split(new long[] {(long) (H + KV) * hd}, 1);
                qRows = rope(heads(qkv.get(0), H + KV, B, T), cos, signedSin);
                NDList qk = qRows.split(new long[] {H}, 1);
                q = qk.get(0); // [B,H,T,hd]
                k = qk.get(1); // [B,KV,T,hd]
                v = heads(qkv.get(1), KV, B, T); // [B,KV,T,hd]
            } else {
                q = rope(heads(linear(h, p + "self_attn.q_proj"), H, B, T), cos, signedSin); // [B,H,T,hd]
                k = rope(heads(linear(h, p + "self_attn.k_proj"), KV, B, T), cos, signedSin); // [B,KV,T,hd]
                v = heads(linear(h, p + "self_attn.v_proj"), KV, B, T); // [B,KV,T,hd]
                qRows = q;
            }
            NDArray o; // the heads' outputs [B*T, H*hd]
            if (rowStarts != null) {
                // a decode step (T = 1): each row attends to its own columns in native code, reading no padding
                cache.store(l, k, v);
                o = DecodeAttention.attend(
                        qRows,
                        qRows.getShape().size() / B,
                        cache,
                        l,
                        rowStarts,
                        cache.length() + 1,
                        H,
                        1.0f / (float) Math.sqrt(hd));
            } else {
                if (cache != null) {
                    NDArray[] kv = cache.append(l, k, v); // [B,KV,S,hd]
                    k = kv[0];
                    v = kv[1];
                }
                long S = k.getShape().get(2);
                assert mask == null || S == mask.getShape().get(3)
                        : "mask covers " + mask.getShape() + " but attention sees " + S + " positions";
                int block = queryBlock(B, T, S, H);
                if (block >= T) {
                    o = attention(q, k, v, mask5, B, T, S, KV, G, hd);
                    // back to [B*T,H*hd]; with one token the head axis is already next to hd, so no transpose is needed
                    o = T == 1
                            ? o.reshape(B, (long) H * hd)
                            : o.reshape(B, H, T, hd).transpose(0, 2, 1, 3).reshape(B * T, (long) H * hd);
                } else {
                    // A long prompt: queries in blocks, each against the keys up to its last query only (the mask is
                    // causal, so later keys get exactly zero weight). This skips about half of the products, and the
                    // scores of a block stay small enough for the allocator to reuse their memory
                    // (docs/perf/engine.md, "Long-prompt prefill").
                    long past = S - T;
                    NDList blocks = new NDList();
                    for (long t0 = 0; t0 < T; t0 += block) {
                        long t1 = Math.min(T, t0 + block), keys = past + t1;
                        NDIndex rows = new NDIndex().addAllDim(2).addSliceDim(t0, t1);
                        NDIndex upto = new NDIndex().addAllDim(2).addSliceDim(0, keys);
                        NDArray m = mask5 == null
                                ? null
                                : mask5.get(new NDIndex()
                                        .addAllDim(3)
                                        .addSliceDim(t0, t1)
                                        .addSliceDim(0, keys));
                        NDArray ob = attention(q.get(rows), k.get(upto), v.get(upto), m, B, t1 - t0, keys, KV, G, hd);
                        blocks.add(ob.reshape(B, H, t1 - t0, hd).transpose(0, 2, 1, 3)); // [B, block, H, hd]
                    }
                    o = NDArrays.concat(blocks, 1).reshape(B * T, (long) H * hd);
                }
            }
            x = x.add(
                    stacked
                            ? plus(
                                    product(o, stackedWeights.oT(l), stackedWeights.oHalves(l), split),
                                    weights.get(p + "self_attn.o_proj.bias"))
                            : linear(o, p + "self_attn.o_proj"));
            return x.add(mlp(l, p, x, B * T, stacked, split));
        }
    }

    /**
     * Grouped-query attention of queries q [B,H,T,hd] over keys and values [B,KV,S,hd] with the additive mask
     * [B,1,1,T,S] (or none); returns [B,KV,G*T,hd], the G query heads of a kv head stacked as rows.
     */
    private NDArray attention(
            NDArray q, NDArray k, NDArray v, NDArray mask5, long B, long T, long S, int KV, int G, int hd) {
        // Without copying K/V: the G query heads that share a kv head are stacked as rows, [B,KV,G*T,hd] against
        // [B,KV,S,hd], so the product is a plain batched matmul (no broadcast, no expand). 1/sqrt(hd) scales q rather
        // than the scores: G*T*hd numbers instead of G*T*S (exact when it is a power of 2)
        NDArray q4 = q.reshape(B, KV, (long) G * T, hd).mul(attentionScale);
        NDArray scores = q4.matMul(k.transpose(0, 1, 3, 2)); // [B,KV,G*T,S]
        if (mask5 != null) scores = scores.reshape(B, KV, G, T, S).add(mask5);
        NDArray probs = scores.softmax(-1).reshape(B, KV, (long) G * T, S);
        return probs.matMul(v); // [B,KV,G*T,hd]
    }

    /**
     * Queries per block of {@link #attention} for a forward of T tokens over S keys (T, the whole forward in one block,
     * unless it is long). A block's scores are kept to about {@link #BLOCK_SCORES} floats and its queries to at most
     * {@link #MAX_QUERY_BLOCK}, but never fewer than {@link #MIN_QUERY_BLOCK}; a forward whose queries fit one block,
     * and training (autograd on), run in one.
     */
    static int queryBlock(long B, long T, long S, int H) {
        if (T <= MIN_QUERY_BLOCK || JniUtils.isGradMode() || !longPrefillOn()) {
            return (int) T;
        }
        long fit = BLOCK_SCORES / (B * H * S);
        return (int) Math.min(T, Math.max(MIN_QUERY_BLOCK, Math.min(MAX_QUERY_BLOCK, fit / 32 * 32)));
    }

    /**
     * {@code -Drlcd4j.longPrefill=false} goes back to the forward before the long-prompt changes (attention in one
     * block, the head over all rows at once, scoring forwards keeping every layer's arrays), for A/B measurements
     * ({@code PrefillBench}); read at each forward.
     */
    static boolean longPrefillOn() {
        return !"false".equals(System.getProperty("rlcd4j.longPrefill"));
    }

    static final int MIN_QUERY_BLOCK = 32, MAX_QUERY_BLOCK = 128;
    static final long BLOCK_SCORES = 2L << 20;

    /** The MLP block's output for the residual stream x [rows, D]: down(SwiGLU(gate(m), up(m))) of m = RMSNorm(x). */
    private NDArray mlp(int l, String p, NDArray x, long rows, boolean stacked, boolean split) {
        NDArray m = rmsNorm(x, w(p + "post_attention_layernorm.weight"));
        NDArray downBias = weights.get(p + "mlp.down_proj.bias");
        long F = config.intermediateSize();
        if (stacked && !split && weightsLeft(rows, WEIGHTS_LEFT_ROWS)) {
            // The MLP in the [features, rows] layout that W·mᵀ gives: gate and up are contiguous row blocks, SwiGLU
            // runs on contiguous memory instead of transposed views, and the down product takes its input as it is
            // (no transposes; faster at 16 and at 1032 rows: docs/perf/code-figures.md#llamamodel).
            NDArray guT = stackedWeights.gateUpT(l).transpose().matMul(m.transpose()); // [2F, rows]
            if (stackedWeights.gateUpBias(l) != null)
                guT = guT.add(stackedWeights.gateUpBias(l).reshape(2 * F, 1));
            NDList gu = guT.split(new long[] {F}, 0);
            // [rows, D]
            NDArray down = stackedWeights
                    .downT(l)
                    .transpose()
                    .matMul(swiglu(gu.get(0), gu.get(1)))
                    .transpose();
            return plus(down, downBias);
        } else if (stacked) {
            NDList gu = plus(
                            product(m, stackedWeights.gateUpT(l), stackedWeights.gateUpHalves(l), split),
                            stackedWeights.gateUpBias(l))
                    .split(new long[] {F}, 1);
            return plus(
                    product(swiglu(gu.get(0), gu.get(1)), stackedWeights.downT(l), stackedWeights.downHalves(l), split),
                    downBias);
        }
        NDArray act = swiglu(linear(m, p + "mlp.gate_proj"), linear(m, p + "mlp.up_proj"));
        return linear(act, p + "mlp.down_proj");
    }

    /** SwiGLU's gating: silu(gate) * up. */
    private static NDArray swiglu(NDArray gate, NDArray up) {
        return gate.mul(Activation.sigmoid(gate)).mul(up);
    }

    /** Next-token logits [..., V] from hidden states [..., D] ([B, D] or [B, T, D]). */
    public NDArray logits(NDArray hidden) {
        NDArray head = w("lm_head.weight");
        Shape shape = hidden.getShape();
        long rows = shape.size() / shape.tail();
        if (rows <= NATIVE_HEAD_ROWS
                && hidden.getDataType() == DataType.FLOAT32
                && decodesNatively(hidden.getDevice())) {
            long[] out = shape.getShape().clone();
            out[out.length - 1] = head.getShape().get(0);
            return nativeDecoder()
                    .head(hidden.getManager(), hidden.reshape(rows, shape.tail()))
                    .reshape(new Shape(out));
        }
        boolean split = useHelper(rows);
        if (split || weightsLeft(rows, HEAD_WEIGHTS_LEFT_ROWS)) {
            NDArray flat = hidden.reshape(rows, shape.tail()); // [rows, D]
            long[] out = shape.getShape().clone();
            out[out.length - 1] = head.getShape().get(0);
            NDArray logits; // [rows, V]
            if (split) {
                NDArray[] h = StackedWeights.halves(head);
                logits = helper().times(flat, h[0], h[1], rows >= HEAD_WEIGHTS_LEFT_ROWS);
                if (rows > 1) logits = logits.reshape(-1); // see below
            } else {
                // (W·xᵀ)ᵀ would be a transposed view, [rows,V] over a [V,rows] matrix. Every consumer reduces over V
                // (softmax, top-k, argmax), and libtorch's reductions along a strided axis are slower than a copy plus
                // row-major ones (docs/perf/code-figures.md#llamamodel), so the logits are copied to row-major once
                // and the [V,rows] matrix is freed at once (scoring makes it large: rows = batch x tokens).
                NDArray byVocab = head.matMul(flat.transpose()); // [V, rows]
                NDArray view = byVocab.transpose();
                logits = view.reshape(-1); // a copy: a transposed view cannot be flattened in place
                view.close();
                byVocab.close();
            }
            return logits.reshape(new Shape(out));
        }
        return hidden.getNDArrayInternal().linear(hidden, head, null).singletonOrThrow();
    }

    /**
     * The log-probability of every next token, {@code log P(ids[b, t+1] | ids[b, ..t])} for {@code t < T-1}, as [B, T-1] fp32, from
     * hidden states [B, T, D] ({@link #forward}) and the ids [B, T] fed to it; what scoring reads. Without autograd
     * the head runs over {@link #HEAD_BLOCK_ROWS} rows at a time, so no [B*T, V] array is made (201 MB per array for
     * 1024 tokens at a 49152-token vocabulary, each taken fresh from the system: docs/perf/engine.md).
     */
    public NDArray nextTokenLogProbs(NDArray hidden, NDArray ids) {
        long B = hidden.getShape().get(0),
                T = hidden.getShape().get(1),
                D = hidden.getShape().get(2);
        long rows = B * (T - 1);
        NDArray h = hidden.get(":, :-1, :").reshape(rows, D);
        NDArray next = ids.get(":, 1:").reshape(rows, 1);
        if (JniUtils.isGradMode() || rows <= HEAD_BLOCK_ROWS || !longPrefillOn()) {
            return tokenLogProbs(h, next).reshape(B, T - 1);
        }
        NDList parts = new NDList();
        for (long r0 = 0; r0 < rows; r0 += HEAD_BLOCK_ROWS) {
            long r1 = Math.min(rows, r0 + HEAD_BLOCK_ROWS);
            try (NDScope scope = new NDScope()) {
                NDArray part = tokenLogProbs(h.get(r0 + ":" + r1), next.get(r0 + ":" + r1));
                NDScope.unregister(part);
                parts.add(part);
            }
        }
        NDArray out = NDArrays.concat(parts).reshape(B, T - 1);
        parts.close();
        return out;
    }

    static final int HEAD_BLOCK_ROWS = 128;

    /** log-softmax(head(h))[next] for h [rows, D] and next [rows, 1]: [rows]. */
    private NDArray tokenLogProbs(NDArray h, NDArray next) {
        return logits(h)
                .toType(DataType.FLOAT32, false)
                .logSoftmax(-1)
                .gather(next, -1)
                .reshape(-1);
    }

    /** x·Wᵀ for x [M,K] and {@code wT} = Wᵀ [K,N] (a transposed view), in the faster layout (see {@link #WEIGHTS_LEFT_ROWS}). */
    private NDArray times(NDArray x, NDArray wT, int weightsLeftRows) {
        return weightsLeft(x.getShape().get(0), weightsLeftRows) ? weightsOnLeft(x, wT.transpose()) : x.matMul(wT);
    }

    /** x·Wᵀ computed as (W·xᵀ)ᵀ, for x [M,K] and W [N,K]; a transposed view [M,N]. */
    private static NDArray weightsOnLeft(NDArray x, NDArray w) {
        return w.matMul(x.transpose()).transpose();
    }

    private boolean weightsLeft(long rows, int fromRows) {
        return weightsLeftOn && rows >= fromRows && !JniUtils.isGradMode();
    }

    /**
     * x * rsqrt(mean(x^2) + eps) * g, computed in fp32 as HF does. When an fp16 model trains, DJL's casts would cut the
     * gradient (see the engine's {@code Precision}), so the norm is computed in fp16 on x divided by its row's largest
     * |x| (a constant, detached): x / rms(x) is the same function for any such constant, so the gradient is exact,
     * and the squares stay far from fp16's overflow at 65504.
     */
    private NDArray rmsNorm(NDArray x, NDArray g) {
        if (dtype != DataType.FLOAT32 && JniUtils.isGradMode()) {
            NDArray s = x.stopGradient().abs().max(new int[] {-1}, true).maximum(1e-3f); // [..., 1]
            NDArray xs = x.div(s);
            // eps / s^2 (0 if s^2 overflows)
            NDArray epsScaled = rmsEps.div(s.square());
            return xs.mul(xs.square().mean(new int[] {-1}, true).add(epsScaled).pow(negHalf))
                    .mul(g);
        }
        NDArray x32 = dtype == DataType.FLOAT32 ? x : x.toType(DataType.FLOAT32, false);
        NDArray normed =
                x32.mul(x32.square().mean(new int[] {-1}, true).add(rmsEps).pow(negHalf));
        return (dtype == DataType.FLOAT32 ? normed : normed.toType(dtype, false)).mul(g);
    }

    /** [B*T,n*hd] projections to [B,n,T,hd] heads (a plain reshape when T = 1). */
    private NDArray heads(NDArray y, int n, long B, long T) {
        int hd = config.headDim();
        return T == 1 ? y.reshape(B, n, 1, hd) : y.reshape(B, T, n, hd).transpose(0, 2, 1, 3);
    }

    /**
     * HF's rotate_half convention, x * cos + concat(-x2, x1) * sin, computed as x * cos + concat(x2, x1) * signedSin.
     * The halves are swapped by a flip of the [2, hd/2] split of the last axis, an exact copy; this replaced a matmul by
     * a signed permutation matrix, which libtorch runs through MKL's threading at a fixed cost that was larger than the
     * flip's (docs/perf/code-figures.md#llamamodel).
     */
    private NDArray rope(NDArray x, NDArray cos, NDArray signedSin) {
        long[] shape = x.getShape().getShape();
        long[] split = Arrays.copyOf(shape, shape.length + 1);
        split[shape.length - 1] = 2;
        split[shape.length] = shape[shape.length - 1] / 2;
        NDArray swapped = x.reshape(new Shape(split)).flip(shape.length - 1).reshape(x.getShape());
        return x.mul(cos).add(swapped.mul(signedSin));
    }

    /** x W^T + b, plus the active adapter's (alpha/r) dropout(x) A^T B^T on the modules it targets. */
    private NDArray linear(NDArray x, String module) {
        NDArray bias = weights.get(module + ".bias");
        NDArray weight = w(module + ".weight");
        NDArray y = weightsLeft(x.getShape().get(0), WEIGHTS_LEFT_ROWS)
                ? plus(weightsOnLeft(x, weight), bias)
                : x.getNDArrayInternal().linear(x, weight, bias).singletonOrThrow();
        NDArray[] ab = adapter == null ? null : adapter.layer(module);
        if (ab == null) return y;
        NDArray xin = x;
        if (training && adapter.config().dropout() > 0) {
            xin = x.getNDArrayInternal()
                    .dropout(x, (float) adapter.config().dropout(), true)
                    .singletonOrThrow();
        }
        NDArray a = ab[0].getDataType() == dtype ? ab[0] : ab[0].toType(dtype, false);
        NDArray b = ab[1].getDataType() == dtype ? ab[1] : ab[1].toType(dtype, false);
        NDArray low = xin.getNDArrayInternal().linear(xin, a, null).singletonOrThrow();
        NDArray delta = low.getNDArrayInternal().linear(low, b, null).singletonOrThrow();
        return y.add(delta.mul(scalar(delta, (float) adapter.config().scaling())));
    }

    /**
     * A 0-d tensor allocated by libtorch. DJL's {@code x.mul(float)} wraps the number in a tensor over a Java direct
     * buffer and closes it at once; autograd keeps that tensor for the backward pass, and once the GC frees the buffer
     * the gradient is read from freed memory (measured: d(3x)/dx came back as 1.4e-45). Scalars on the gradient path
     * therefore go through this.
     */
    static NDArray scalar(NDArray like, float v) {
        return like.getManager().full(new Shape(), v, like.getDataType());
    }

    private NDArray w(String name) {
        NDArray a = weights.get(name);
        if (a == null) throw new IllegalStateException("no weight " + name);
        return a;
    }

    /**
     * Builds the additive mask [B, 1, T, S] for queries at cache positions [past, past+T) over keys [0, S), S = past+T:
     * a query sees earlier and equal positions whose key is a real token; every query also sees itself, so rows of
     * left padding stay finite (their outputs are never used).
     *
     * @param keyMask [B, S] with 1 for real tokens and 0 for padding
     */
    public static NDArray attentionMask(NDManager m, NDArray keyMask, int past, int T) {
        long S = keyMask.getShape().get(1);
        NDArray qPos = m.arange(past, past + T, 1, DataType.INT64).reshape(T, 1); // [T,1]
        NDArray kPos = m.arange(0, (int) S, 1, DataType.INT64).reshape(1, S); // [1,S]
        NDArray causal = kPos.lte(qPos); // [T,S]
        NDArray self = kPos.eq(qPos);
        NDArray real = keyMask.toType(DataType.BOOLEAN, false)
                .reshape(keyMask.getShape().get(0), 1, 1, S); // [B,1,1,S]
        NDArray allowed = causal.logicalAnd(real).logicalOr(self); // [B,1,T,S]
        return allowed.logicalNot().toType(DataType.FLOAT32, false).mul(-1e9f);
    }

    public LlamaConfig config() {
        return config;
    }

    public DataType dtype() {
        return dtype;
    }

    public NDManager manager() {
        return manager;
    }

    /**
     * The weights under their Hugging Face names (tied models list the shared matrix under both names). Change them in
     * place ({@code subi}, {@code set(NDIndex, NDArray)}), never by putting new arrays in the map or by
     * {@code set(Buffer)}, which gives a tensor new storage: q/k/v and gate/up are views of stacked matrices.
     */
    public Map<String, NDArray> weights() {
        return weights;
    }

    /** Applies {@code adapter} in every forward until changed; null runs the bare base model (e.g. the reference). */
    public void setAdapter(LoraAdapter adapter) {
        this.adapter = adapter;
    }

    public LoraAdapter adapter() {
        return adapter;
    }

    /** Training mode enables LoRA dropout. */
    public void setTraining(boolean training) {
        this.training = training;
    }

    @Override
    public void close() {
        if (helper != null) helper.close();
        manager.close();
    }
}
