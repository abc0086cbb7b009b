package rlcd4j.engine.cpu;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per layer, q/k/v stacked into one [q+2kv, D] matrix and gate/up into one [2F, D] (transposed views, ready for
 * x W^T), plus o/down transposed. The named q/k/v/gate/up weights in the model's map are row views of the
 * stacked matrices, so training, checkpoints and in-place updates all see one copy of the memory. Inference (no
 * autograd, no adapter) multiplies by the stacked matrices: a decode step makes 4 instead of 7 matrix-vector
 * products per layer, with fewer native calls and longer streams through memory (docs/perf/engine.md). The native
 * decode step ({@link NativeDecoder}) reads the stacked matrices and the norms by address, so {@link #intact()} watches
 * those too.
 */
public final class StackedWeights {
    private static final Logger LOG = LoggerFactory.getLogger(StackedWeights.class);
    private final Map<String, NDArray> weights;
    private final NDArray[] qkv, qkvT, qkvBias, gateUp, gateUpT, gateUpBias, oT, downT;
    /** Per layer, the transposed halves of rows of the stacked matrices, for {@link DecodeHelper#times}. */
    private final NDArray[][] qkvHalves, oHalves, gateUpHalves, downHalves;

    private final Map<String, NDArray> stackedSources = new LinkedHashMap<>();
    private final Map<String, Long> stackedAddresses = new LinkedHashMap<>();
    private boolean stackingOn;

    /**
     * Stacks the weights of {@code layers} layers of a LLaMA-family model, named as in Hugging Face checkpoints,
     * replacing the named q/k/v/gate/up entries of {@code weights} by row views; with {@code on} false, stacks nothing.
     */
    public StackedWeights(
            Map<String, NDArray> weights, int layers, boolean attentionBias, boolean mlpBias, boolean on) {
        this.weights = weights;
        int L = layers;
        qkv = new NDArray[L];
        qkvT = new NDArray[L];
        gateUp = new NDArray[L];
        qkvBias = new NDArray[L];
        gateUpT = new NDArray[L];
        gateUpBias = new NDArray[L];
        oT = new NDArray[L];
        downT = new NDArray[L];
        qkvHalves = new NDArray[L][];
        oHalves = new NDArray[L][];
        gateUpHalves = new NDArray[L][];
        downHalves = new NDArray[L][];
        stackingOn = on;
        if (stackingOn) {
            for (int l = 0; l < L; l++) {
                String p = "model.layers." + l + ".";
                qkv[l] = stack(
                        p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight", p + "self_attn.v_proj.weight");
                qkvT[l] = qkv[l].transpose();
                gateUp[l] = stack(p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight");
                gateUpT[l] = gateUp[l].transpose();
                if (attentionBias) {
                    qkvBias[l] = stack(
                            p + "self_attn.q_proj.bias", p + "self_attn.k_proj.bias", p + "self_attn.v_proj.bias");
                }
                if (mlpBias) gateUpBias[l] = stack(p + "mlp.gate_proj.bias", p + "mlp.up_proj.bias");
                oT[l] = w(p + "self_attn.o_proj.weight").transpose();
                downT[l] = w(p + "mlp.down_proj.weight").transpose();
                remember(p + "self_attn.o_proj.weight");
                remember(p + "mlp.down_proj.weight");
                remember(p + "input_layernorm.weight"); // the native decode step reads these too
                remember(p + "post_attention_layernorm.weight");
                qkvHalves[l] = halves(qkvT[l].transpose());
                oHalves[l] = halves(w(p + "self_attn.o_proj.weight"));
                gateUpHalves[l] = halves(gateUpT[l].transpose());
                downHalves[l] = halves(w(p + "mlp.down_proj.weight"));
            }
            for (String name : new String[] {"model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"}) {
                if (weights.containsKey(name)) remember(name);
            }
        }
    }

    /** Whether the stacked matrices exist and were intact at the last check ({@link #intact()}). */
    public boolean on() {
        return stackingOn;
    }

    /** Layer {@code layer}'s q, k and v weights stacked by rows, [(H+2KV)hd, D], contiguous. */
    public NDArray qkv(int layer) {
        return qkv[layer];
    }

    /** Layer {@code layer}'s gate and up weights stacked by rows, [2F, D], contiguous. */
    public NDArray gateUp(int layer) {
        return gateUp[layer];
    }

    public NDArray qkvT(int layer) {
        return qkvT[layer];
    }

    /** The stacked q/k/v bias, or null when the model has none. */
    public NDArray qkvBias(int layer) {
        return qkvBias[layer];
    }

    public NDArray gateUpT(int layer) {
        return gateUpT[layer];
    }

    /** The stacked gate/up bias, or null when the model has none. */
    public NDArray gateUpBias(int layer) {
        return gateUpBias[layer];
    }

    public NDArray oT(int layer) {
        return oT[layer];
    }

    public NDArray downT(int layer) {
        return downT[layer];
    }

    public NDArray[] qkvHalves(int layer) {
        return qkvHalves[layer];
    }

    public NDArray[] oHalves(int layer) {
        return oHalves[layer];
    }

    public NDArray[] gateUpHalves(int layer) {
        return gateUpHalves[layer];
    }

    public NDArray[] downHalves(int layer) {
        return downHalves[layer];
    }

    /** The transposed views of the first and second halves of the rows of W [N,K]: [K,N/2] and [K,N-N/2]. */
    public static NDArray[] halves(NDArray w) {
        long n = w.getShape().get(0);
        return new NDArray[] {
            w.get(new NDIndex().addSliceDim(0, n / 2)).transpose(),
            w.get(new NDIndex().addSliceDim(n / 2, n)).transpose()
        };
    }

    /** Records a weight the stacked path reads, with its memory address, for {@link #intact()}. */
    private void remember(String name) {
        NDArray a = w(name);
        stackedSources.put(name, a);
        stackedAddresses.put(name, DecodeAttention.address(a));
    }

    /**
     * Whether every weight the stacked path reads is still the array made at load, over the same memory. Updates in
     * place keep it so; {@code set(Buffer)} or {@code set(float[])} give a tensor new storage and a new map entry
     * replaces it. Then the stacked matrices are stale, and this model uses the per-module path from then on (with a
     * warning), so a forward never reads old weights. Cheap (docs/perf/code-figures.md#llamamodel), and checked once
     * per full forward, not per decode step.
     */
    public boolean intact() {
        for (var e : stackedSources.entrySet()) {
            NDArray now = weights.get(e.getKey());
            boolean same = now == e.getValue() && DecodeAttention.address(now) == stackedAddresses.get(e.getKey());
            if (!same) {
                stackingOn = false;
                LOG.warn(
                        "weight {} was replaced, not updated in place; this model now runs its projections one by "
                                + "one (slower, same result). Update weights with in-place ops or set(NDIndex, NDArray).",
                        e.getKey());
                return false;
            }
        }
        return true;
    }

    /** Concatenates the named tensors along rows and replaces each by its row view of the result. */
    private NDArray stack(String... names) {
        NDList parts = new NDList();
        for (String n : names) parts.add(w(n));
        NDArray stacked = NDArrays.concat(parts, 0);
        long[] at = new long[names.length - 1];
        long rows = 0;
        for (int i = 0; i < at.length; i++)
            at[i] = rows += parts.get(i).getShape().get(0);
        NDList views = stacked.split(at, 0);
        for (int i = 0; i < names.length; i++) {
            parts.get(i).close();
            views.get(i).setName(names[i]);
            weights.put(names[i], views.get(i));
            remember(names[i]);
        }
        return stacked;
    }

    private NDArray w(String name) {
        NDArray a = weights.get(name);
        if (a == null) throw new IllegalStateException("no weight " + name);
        return a;
    }
}
