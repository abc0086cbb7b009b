package rlcd4j.train;

import com.google.gson.JsonObject;

/**
 * Dynamic loss scaling for fp16 training, with the rules of PyTorch's {@code torch.amp.GradScaler}: the loss is
 * multiplied by {@code scale} before backward so that small gradients survive fp16's range (smallest subnormal 6e-8);
 * gradients are divided by it again (in fp32) before clipping; a step whose gradients hold an Inf or NaN is skipped and
 * the scale halved; after {@code growthInterval} clean steps in a row the scale doubles.
 *
 * <p>In fp32 the scaler is {@link #disabled()}: scale 1, nothing skipped, and a non-finite loss or gradient stops
 * training (an fp32 overflow is a divergence, not a range problem). Its state goes into every checkpoint, so a resumed
 * run scales, skips and grows exactly as the uninterrupted one.
 */
public final class LossScaler {
    /** GradScaler's defaults: init_scale 2^16, growth_factor 2, backoff_factor 0.5, growth_interval 2000. */
    public static final double INIT_SCALE = 65536.0;

    public static final int GROWTH_INTERVAL = 2000;

    private final boolean enabled;
    private final double growthFactor;
    private final double backoffFactor;
    private final int growthInterval;
    private double scale;
    private int cleanSteps;
    private long skippedSteps;

    private LossScaler(boolean enabled, double scale, double growthFactor, double backoffFactor, int growthInterval) {
        if (enabled
                && !(scale > 0 && growthFactor > 1 && backoffFactor > 0 && backoffFactor < 1 && growthInterval > 0)) {
            throw new IllegalArgumentException(
                    "loss scaler: scale > 0, growth factor > 1, backoff in (0, 1) and a positive "
                            + "growth interval expected; got scale " + scale + ", growth " + growthFactor + ", backoff "
                            + backoffFactor + ", interval " + growthInterval);
        }
        this.enabled = enabled;
        this.scale = scale;
        this.growthFactor = growthFactor;
        this.backoffFactor = backoffFactor;
        this.growthInterval = growthInterval;
    }

    /** GradScaler's defaults. */
    public static LossScaler dynamic() {
        return dynamic(INIT_SCALE, GROWTH_INTERVAL);
    }

    public static LossScaler dynamic(double initScale, int growthInterval) {
        return new LossScaler(true, initScale, 2.0, 0.5, growthInterval);
    }

    /** No scaling (fp32): scale 1; a non-finite gradient is an error, not a skipped step. */
    public static LossScaler disabled() {
        return new LossScaler(false, 1.0, 2.0, 0.5, GROWTH_INTERVAL);
    }

    public boolean enabled() {
        return enabled;
    }

    /** The factor the loss is multiplied by before backward (1 when disabled). */
    public double scale() {
        return scale;
    }

    /** Optimiser steps skipped so far because their gradients overflowed. */
    public long skippedSteps() {
        return skippedSteps;
    }

    /**
     * Records the outcome of one optimiser step: with finite gradients, counts a clean step and grows the scale after
     * {@code growthInterval} of them; otherwise halves the scale and restarts the count (the caller skips the update).
     */
    public void update(boolean finite) {
        if (!enabled) return;
        if (finite) {
            if (++cleanSteps == growthInterval) {
                // GradScaler keeps the scale finite in fp32; so do we (2^127 is far beyond any useful scale).
                scale = Math.min(scale * growthFactor, 0x1p127);
                cleanSteps = 0;
            }
        } else {
            scale *= backoffFactor;
            cleanSteps = 0;
            skippedSteps++;
        }
    }

    /** The state for a checkpoint. */
    public JsonObject toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("enabled", enabled);
        o.addProperty("scale", scale);
        o.addProperty("clean_steps", cleanSteps);
        o.addProperty("skipped_steps", skippedSteps);
        o.addProperty("growth_factor", growthFactor);
        o.addProperty("backoff_factor", backoffFactor);
        o.addProperty("growth_interval", growthInterval);
        return o;
    }

    /** Restores what {@link #toJson()} saved; a checkpoint from an fp32 run restores into an fp32 scaler unchanged. */
    public void restore(JsonObject saved) {
        if (saved == null) return;
        if (saved.get("enabled").getAsBoolean() != enabled) {
            throw new rlcd4j.util.RlcdException(
                    "the checkpoint was written " + (enabled ? "without" : "with")
                            + " loss scaling (the model's precision differs); resume with the same precision or use another output folder");
        }
        scale = saved.get("scale").getAsDouble();
        cleanSteps = saved.get("clean_steps").getAsInt();
        skippedSteps = saved.get("skipped_steps").getAsLong();
    }

    @Override
    public String toString() {
        return enabled
                ? "dynamic loss scaling (scale " + scale + ", grows x" + growthFactor + " every " + growthInterval
                        + " clean steps, x" + backoffFactor + " on overflow)"
                : "no loss scaling (fp32)";
    }
}
