package rlcd4j.util;

/**
 * Every derived seed of the toolkit, in one place. Each formula is part of the results: changing one changes every
 * sample, dropout mask or shuffle drawn from it, so they are kept exactly as the runs that produced the published
 * figures used them. All but {@link #stepSeed} are built on {@link #mix64}, SplitMix64's finaliser (the same function
 * {@link java.util.SplittableRandom#nextLong()} applies).
 */
public final class Seeds {
    private Seeds() {}

    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;
    private static final long M1 = 0xBF58476D1CE4E5B9L;
    private static final long M2 = 0x94D049BB133111EBL;

    /** SplitMix64's finaliser (Stafford's variant 13): a bijection of 64-bit values that spreads every input bit. */
    public static long mix64(long z) {
        z = (z ^ (z >>> 30)) * M1;
        z = (z ^ (z >>> 27)) * M2;
        return z ^ (z >>> 31);
    }

    /** One SplitMix64 step from state {@code z}: what {@code new SplittableRandom(z).nextLong()} returns. */
    public static long splitMix(long z) {
        return mix64(z + GOLDEN_GAMMA);
    }

    /** The generator seed of one simulated sample: {@link #splitMix} chained over (seed, prompt id, side, attempt). */
    public static long sampleSeed(long seed, int promptId, int side, int attempt) {
        long h = splitMix(seed ^ 0x5EEDL);
        h = splitMix(h + promptId);
        h = splitMix(h + side);
        return splitMix(h + attempt);
    }

    /** The seed of row {@code row} of one batched generation call with seed {@code seed}. */
    public static long rowSeed(long seed, long row) {
        return mix64(seed * GOLDEN_GAMMA + row * M1 + M2);
    }

    /** A non-negative seed for one use ({@code purpose}) at one training step: distinct triples give unrelated ones. */
    public static long purposeSeed(long seed, long step, long purpose) {
        return splitMix(seed * GOLDEN_GAMMA + step * 1_000_003L + purpose) & 0x7fffffffL;
    }

    /**
     * The libtorch seed (non-negative int) for optimiser step {@code step}: the generator (LoRA dropout) is re-seeded
     * at every step, so a run resumed at step k draws the same dropout masks as one that ran through. A shorter mix
     * than {@link #mix64} (one multiply, by the second constant): the recorded training runs drew their dropout masks
     * from it, so it stays.
     */
    public static int stepSeed(long seed, long step) {
        long z = seed * GOLDEN_GAMMA + step * M1;
        z = (z ^ (z >>> 30)) * M2;
        return (int) (z ^ (z >>> 31)) & 0x7fffffff;
    }
}
