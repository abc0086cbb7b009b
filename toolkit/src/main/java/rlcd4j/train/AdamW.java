package rlcd4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW exactly as {@code torch.optim.AdamW} computes it (decoupled weight decay, bias-corrected moments, eps outside
 * the square root), written out so that its state can be saved and a killed run resumed bit for bit. (DJL's fused
 * Adam keeps its moments private and places eps slightly differently.)
 *
 * <pre>{@code
 * p <- p - lr * wd * p
 * m <- b1 m + (1 - b1) g ;  v <- b2 v + (1 - b2) g^2
 * p <- p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 * }</pre>
 */
public final class AdamW implements AutoCloseable {
    public record Config(double beta1, double beta2, double eps, double weightDecay) {
        /** torch's defaults with no weight decay (the RLCD/AlpacaFarm scripts use weight decay 0). */
        public static Config defaults() {
            return new Config(0.9, 0.999, 1e-8, 0.0);
        }

        public Config withEps(double e) {
            return new Config(beta1, beta2, e, weightDecay);
        }

        public Config withWeightDecay(double wd) {
            return new Config(beta1, beta2, eps, wd);
        }
    }

    private final Config config;
    private final NDManager manager;
    private final Map<String, NDArray> m = new LinkedHashMap<>();
    private final Map<String, NDArray> v = new LinkedHashMap<>();
    private final Map<String, NDArray> master = new LinkedHashMap<>();
    private long step;

    public AdamW(Config config, NDManager parent) {
        this.config = config;
        this.manager = parent.newSubManager();
    }

    /**
     * One update of every named parameter from its gradient, which is then zeroed (DJL accumulates gradients across
     * backward passes). Parameters without a gradient are skipped.
     */
    public void step(Map<String, NDArray> params, double lr) {
        Map<String, NDArray> grads = new LinkedHashMap<>();
        params.forEach((k, p) -> grads.put(k, p.getGradient()));
        step(params, grads, 1.0, lr);
    }

    /**
     * One update of every named parameter from {@code gradScale * grads} (same names; fp32, already unscaled;
     * {@code gradScale} is the global-norm clip's coefficient, applied here, in place, rather than in a pass of its own
     * over every gradient). Each parameter's own gradient is zeroed right after its update, while it is still in cache (DJL
     * accumulates gradients across backward passes); the gradients must be finite, since {@code g - g} keeps NaN.
     *
     * <p>A parameter held in fp16 is updated through an fp32 master copy kept here and then rounded into the
     * parameter: otherwise updates smaller than half of fp16's spacing at the weight (about 1e-5 near |w| = 0.02)
     * would round away, step after step.
     */
    public void step(Map<String, NDArray> params, Map<String, NDArray> grads, double gradScale, double lr) {
        step++;
        float b1 = (float) config.beta1(), b2 = (float) config.beta2();
        float clip = (float) gradScale;
        double bc1 = 1 - Math.pow(config.beta1(), step), bc2 = 1 - Math.pow(config.beta2(), step);
        for (var e : params.entrySet()) {
            NDArray p = e.getValue();
            // Moments and master weights are created outside any NDScope: they must outlive the step.
            NDArray mt = m.computeIfAbsent(e.getKey(), k -> state(p));
            NDArray vt = v.computeIfAbsent(e.getKey(), k -> state(p));
            NDArray w = p.getDataType() == DataType.FLOAT32 || p.getDataType() == DataType.FLOAT64
                    ? p
                    : master.computeIfAbsent(e.getKey(), k -> masterCopy(p));
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                NDArray g = grads.get(e.getKey());
                if (g.getDataType() != w.getDataType()) g = g.toType(w.getDataType(), false);
                // The clip, in place (a copy of a large gradient would be fresh memory, page faults and all): the
                // same float products as scaling every gradient before the update.
                if (clip != 1f) g.muli(clip);
                if (config.weightDecay() != 0) w.subi(w.mul((float) (lr * config.weightDecay())));
                mt.muli(b1).addi(g.mul(1 - b1));
                vt.muli(b2).addi(g.square().muli(1 - b2));
                NDArray denom = vt.div((float) bc2).sqrt().addi((float) config.eps());
                w.subi(mt.div(denom).muli((float) (lr / bc1)));
                if (w != p) Checkpoint.assign(p, w);
                NDArray own = p.getGradient();
                // finite, so g - g is 0: cheaper than an indexed fill, and the next backward adds into it
                own.subi(own);
            }
        }
    }

    private NDArray state(NDArray p) {
        NDArray z =
                manager.zeros(p.getShape(), p.getDataType() == DataType.FLOAT64 ? DataType.FLOAT64 : DataType.FLOAT32);
        NDScope.unregister(z);
        return z;
    }

    private NDArray masterCopy(NDArray p) {
        NDArray w = p.stopGradient().toType(DataType.FLOAT32, true);
        w.attach(manager);
        NDScope.unregister(w);
        return w;
    }

    /** The fp32 master copy of an fp16 parameter, or null (fp32 parameters are their own master). */
    public NDArray master(String name) {
        return master.get(name);
    }

    public long stepCount() {
        return step;
    }

    /** Moments under {@code m.<name>} and {@code v.<name>}, fp32 masters of fp16 weights under {@code master.<name>}. */
    public Map<String, NDArray> state() {
        Map<String, NDArray> s = new LinkedHashMap<>();
        m.forEach((k, a) -> s.put("m." + k, a));
        v.forEach((k, a) -> s.put("v." + k, a));
        master.forEach((k, a) -> s.put("master." + k, a));
        return s;
    }

    /** Restores the moments and step count saved by {@link #state()}. */
    public void restore(Map<String, NDArray> saved, long stepCount) {
        m.clear();
        v.clear();
        master.clear();
        saved.forEach((k, a) -> {
            NDArray copy = a.duplicate();
            copy.attach(manager);
            NDScope.unregister(copy);
            if (k.startsWith("m.")) m.put(k.substring(2), copy);
            else if (k.startsWith("v.")) v.put(k.substring(2), copy);
            else if (k.startsWith("master.")) master.put(k.substring(7), copy);
        });
        step = stepCount;
    }

    public void save(Path file) {
        rlcd4j.engine.llama.Safetensors.write(file, state(), Map.of("step", Long.toString(step)));
    }

    /** Keys in {@link #state()} for these parameter names; for checking a checkpoint matches the model. */
    public static List<String> keys(Iterable<String> names) {
        List<String> out = new java.util.ArrayList<>();
        for (String n : names) {
            out.add("m." + n);
            out.add("v." + n);
        }
        return out;
    }

    @Override
    public void close() {
        manager.close();
    }
}
