package rlcd4j.train;

/**
 * Learning rate at each optimiser step, as Hugging Face's schedulers compute it: a linear warmup from 0, then constant,
 * linear decay to 0, or cosine decay to 0 at the last step.
 */
public record LrSchedule(Kind kind, double peak, long warmupSteps, long totalSteps) {
    public enum Kind {
        CONSTANT,
        LINEAR,
        COSINE
    }

    /** {@code warmupRatio} of the total steps, rounded up, as HF's {@code get_warmup_steps}. */
    public static LrSchedule withWarmupRatio(Kind kind, double peak, double warmupRatio, long totalSteps) {
        return new LrSchedule(kind, peak, (long) Math.ceil(warmupRatio * totalSteps), totalSteps);
    }

    /** The rate for optimiser step {@code step} (0-based, the value used by the step's update). */
    public double at(long step) {
        if (step < warmupSteps) return peak * step / Math.max(1, warmupSteps);
        return switch (kind) {
            case CONSTANT -> peak;
            case LINEAR -> peak * Math.max(0.0, (double) (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
            case COSINE -> {
                double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
                yield peak * Math.max(0.0, 0.5 * (1 + Math.cos(Math.PI * progress)));
            }
        };
    }

    public static Kind parse(String s) {
        return switch (s.toLowerCase()) {
            case "constant" -> Kind.CONSTANT;
            case "linear" -> Kind.LINEAR;
            case "cosine" -> Kind.COSINE;
            default ->
                throw new rlcd4j.util.RlcdException("schedule \"" + s + "\": expected constant, linear or cosine");
        };
    }
}
