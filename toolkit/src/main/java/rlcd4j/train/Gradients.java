package rlcd4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import java.util.Collection;

/** Gradient utilities the trainers share. */
public final class Gradients {
    private Gradients() {}

    /**
     * The global L2 norm of {@code grads}, Inf or NaN included: what torch's {@code clip_grad_norm_} returns.
     */
    public static double globalNorm(Collection<NDArray> grads) {
        double sq = 0;
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            for (NDArray g : grads) sq += g.square().sum().getFloat();
        }
        return Math.sqrt(sq);
    }

    /**
     * The factor that brings gradients of global norm {@code norm} to at most {@code maxNorm}, as torch's
     * {@code clip_grad_norm_} computes it (0: no clipping). DJL's {@code optClipGrad} clamps values one-sidedly,
     * which is not this.
     */
    public static double clipCoefficient(double norm, double maxNorm) {
        return maxNorm > 0 && Double.isFinite(norm) && norm > maxNorm ? maxNorm / (norm + 1e-6) : 1.0;
    }

    /** Sets every gradient to 0 in place (an Inf or NaN gradient too, which g - g would leave NaN). */
    public static void zero(Collection<NDArray> params) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            for (NDArray p : params) p.getGradient().set(new ai.djl.ndarray.index.NDIndex().addAllDim(), 0);
        }
    }
}
