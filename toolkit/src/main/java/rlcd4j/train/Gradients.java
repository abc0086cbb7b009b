package rlcd4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;

import java.util.Collection;

/** Gradient utilities the trainers share. */
public final class Gradients {
    private Gradients() {}

    /**
     * Scales all gradients so their global L2 norm is at most {@code maxNorm} (torch's {@code clip_grad_norm_}); returns
     * the norm before clipping. DJL's {@code optClipGrad} clamps values one-sidedly, which is not this.
     */
    public static double clipGlobalNorm(Collection<NDArray> params, double maxNorm) {
        double sq = 0;
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            for (NDArray p : params) sq += p.getGradient().square().sum().getFloat();
            double norm = Math.sqrt(sq);
            if (maxNorm > 0 && norm > maxNorm) {
                float scale = (float) (maxNorm / (norm + 1e-6));
                for (NDArray p : params) p.getGradient().muli(scale);
            }
            return norm;
        }
    }

    /** Divides all gradients by {@code n}: after accumulating n micro-batch losses each already averaged per micro-batch. */
    public static void scale(Collection<NDArray> params, double factor) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            for (NDArray p : params) p.getGradient().muli((float) factor);
        }
    }

    /** Sets every gradient to 0 in place (an Inf or NaN gradient too, which g - g would leave NaN). */
    public static void zero(Collection<NDArray> params) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            for (NDArray p : params) p.getGradient().set(new ai.djl.ndarray.index.NDIndex().addAllDim(), 0);
        }
    }
}
