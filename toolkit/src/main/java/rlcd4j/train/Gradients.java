package rlcd4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;

import java.util.Collection;

/** Gradient utilities the trainers share. */
public final class Gradients {
    private Gradients() {}

    /**
     * Scales the gradients {@code grads} so that their global L2 norm is at most {@code maxNorm} (torch's
     * {@code clip_grad_norm_}; 0: no clipping) and returns the norm before clipping, Inf or NaN included (then nothing
     * is scaled). DJL's {@code optClipGrad} clamps values one-sidedly, which is not this.
     */
    public static double clipGlobalNorm(Collection<NDArray> grads, double maxNorm) {
        double sq = 0;
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            for (NDArray g : grads) sq += g.square().sum().getFloat();
        }
        double norm = Math.sqrt(sq);
        if (maxNorm > 0 && Double.isFinite(norm) && norm > maxNorm) {
            float scale = (float) (maxNorm / (norm + 1e-6));
            for (NDArray g : grads) g.muli(scale);
        }
        return norm;
    }

    /** Sets every gradient to 0 in place (an Inf or NaN gradient too, which g - g would leave NaN). */
    public static void zero(Collection<NDArray> params) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            for (NDArray p : params) p.getGradient().set(new ai.djl.ndarray.index.NDIndex().addAllDim(), 0);
        }
    }
}
