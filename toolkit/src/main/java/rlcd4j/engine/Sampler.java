package rlcd4j.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;

/**
 * Picks the next token of each row from its logits, on the device: bans, then temperature, top-k, top-p, then one
 * draw by inverse CDF (DJL's PyTorch engine has no multinomial) with a uniform number from each row's own seeded
 * generator, so results repeat exactly for a given seed.
 */
final class Sampler {
    private final GenerationConfig config;
    private SplittableRandom[] rows;
    private final NDArray banMask; // [V] 0 or -inf, or null
    private final SplittableRandom unused = new SplittableRandom(0); // what free rows draw from; any would do

    /** Row {@code i} draws from a generator seeded with {@code rowSeeds[i]}. */
    Sampler(GenerationConfig config, long[] rowSeeds, long[] bannedIds, NDManager manager, int vocab) {
        this.config = config;
        rows = new SplittableRandom[rowSeeds.length];
        for (int i = 0; i < rowSeeds.length; i++) rows[i] = new SplittableRandom(rowSeeds[i]);
        if (bannedIds.length > 0) {
            float[] m = new float[vocab];
            for (long id : bannedIds) m[(int) id] = Float.NEGATIVE_INFINITY;
            banMask = manager.create(m);
            ai.djl.ndarray.NDScope.unregister(banMask);
        } else {
            banMask = null;
        }
    }

    /** Returns the chosen ids [B] and their log-probabilities under the unmodified distribution [B]. */
    Result next(NDArray logits /* [B,V] fp32 */) {
        long B = logits.getShape().get(0), V = logits.getShape().get(1);
        NDArray logp = logits.logSoftmax(-1);
        NDArray x = banMask == null ? logits : logits.add(banMask);
        NDArray chosen;
        if (config.greedy()) {
            chosen = x.argMax(-1);
        } else {
            if (config.temperature() != 1.0) x = x.div((float) config.temperature());
            chosen = config.topK() > 0 && config.topK() < V ? drawFromTopK(x, config.topK()) : drawFromVocabulary(x);
        }
        chosen = chosen.toType(DataType.INT64, false);
        NDArray chosenLogp = logp.gather(chosen.reshape(B, 1), -1).reshape(B);
        return new Result(chosen.toLongArray(), chosenLogp.toFloatArray());
    }

    /**
     * Top-k (then top-p) sampling on the k candidates only: a handful of ops on [B,k] instead of a dozen passes over the
     * vocabulary (docs/perf/code-figures.md#sampler). The draw is the same inverse CDF, walked in vocabulary order as
     * {@link #drawFromVocabulary} walks it, so a seed picks the same token either way (up to the last bit of the
     * softmax's sum). Ties at the k-th logit keep exactly k tokens (torch's top-k order).
     */
    private NDArray drawFromTopK(NDArray x /* [B,V] */, int k) {
        NDManager m = x.getManager();
        long B = x.getShape().get(0);
        NDList top = x.topK(k, -1, true, true);
        NDArray probs = top.get(0).softmax(-1); // [B,k], largest first
        NDArray ids = top.get(1).toType(DataType.INT64, false);
        if (config.topP() < 1.0) probs = keepTopP(probs, m);
        NDArray byId = ids.argSort(-1, true); // candidates in vocabulary order
        NDArray at = draw(probs.gather(byId, -1));
        return ids.gather(byId, -1).gather(at.reshape(B, 1), -1).reshape(B);
    }

    /** Top-p (when set) and the inverse-CDF draw over the whole vocabulary, in vocabulary order. */
    private NDArray drawFromVocabulary(NDArray x /* [B,V] */) {
        NDManager m = x.getManager();
        NDArray probs = x.softmax(-1);
        if (config.topP() < 1.0) {
            NDArray order = probs.argSort(-1, false);
            NDArray kept = keepTopP(probs.gather(order, -1), m);
            probs = m.zeros(probs.getShape(), DataType.FLOAT32).scatter(order, kept, -1);
        }
        return draw(probs);
    }

    /**
     * The inverse-CDF draw: for probabilities [B,n] (unnormalised after filtering), the index where each row's
     * cumulative mass first reaches its own uniform number times the row's total [B].
     */
    private NDArray draw(NDArray probs) {
        long B = probs.getShape().get(0), n = probs.getShape().get(1);
        float[] u = new float[(int) B];
        for (int i = 0; i < B; i++) u[i] = (float) rows[i].nextDouble();
        NDArray cdf = probs.cumSum(-1);
        NDArray target = probs.getManager().create(u, new Shape(B, 1)).mul(cdf.get(":, -1:"));
        return cdf.lt(target).toType(DataType.INT64, false).sum(new int[] {-1}).minimum(n - 1);
    }

    /** Probabilities sorted largest first [B,n]: zeroes all but the smallest prefix whose mass reaches top-p (the first always survives). */
    private NDArray keepTopP(NDArray sorted, NDManager m) {
        NDArray keep = sorted.cumSum(-1).sub(sorted).lt((float) config.topP());
        return NDArrays.where(keep, sorted, m.zeros(sorted.getShape(), DataType.FLOAT32));
    }

    /**
     * The batch's rows changed: row j now draws from the generator of former row {@code map[j]}, or from none
     * ({@code -1}: a free row, whose draws are never used, until {@link #start} gives it one).
     */
    void remap(int[] map) {
        SplittableRandom[] next = new SplittableRandom[map.length];
        for (int j = 0; j < map.length; j++) next[j] = map[j] < 0 ? unused : rows[map[j]];
        rows = next;
    }

    /** Row {@code row} starts a new sample, drawing from a generator seeded with {@code seed}. */
    void start(int row, long seed) {
        rows[row] = new SplittableRandom(seed);
    }

    /** Row {@code row} is free: its draws are never used. */
    void free(int row) {
        rows[row] = unused;
    }

    record Result(long[] ids, float[] logprobs) {}

    void close() {
        if (banMask != null) banMask.close();
    }
}
