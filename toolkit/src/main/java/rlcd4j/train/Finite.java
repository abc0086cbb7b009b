package rlcd4j.train;

import rlcd4j.util.RlcdException;

/** Stops training at the first NaN or infinite quantity, saying which and when. */
public final class Finite {
    private Finite() {}

    public static double check(String trainer, long step, String quantity, double value) {
        if (!Double.isFinite(value)) {
            throw new RlcdException(trainer + ": " + quantity + " became " + value + " at step " + step
                    + "; training stopped, the last checkpoint is intact (try a lower learning rate)");
        }
        return value;
    }
}
