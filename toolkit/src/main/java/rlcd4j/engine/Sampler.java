package rlcd4j.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
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
    private final SplittableRandom[] rows;
    private final NDArray banMask; // [V] 0 or -inf, or null

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

    /** The seed of row {@code row} of a {@link CausalLM#generate(java.util.List, GenerationConfig)} call. */
    static long rowSeed(long seed, long row) {
        long z = seed * 0x9E3779B97F4A7C15L + row * 0xBF58476D1CE4E5B9L + 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Returns the chosen ids [B] and their log-probabilities under the unmodified distribution [B]. */
    Result next(NDArray logits /* [B,V] fp32 */) {
        NDManager m = logits.getManager();
        long B = logits.getShape().get(0), V = logits.getShape().get(1);
        NDArray logp = logits.logSoftmax(-1);
        NDArray x = banMask == null ? logits : logits.add(banMask);
        NDArray chosen;
        if (config.greedy()) {
            chosen = x.argMax(-1);
        } else {
            x = x.div((float) config.temperature());
            if (config.topK() > 0 && config.topK() < V) {
                NDArray kth = x.topK(config.topK(), -1, true, true).get(0).get(":, -1:"); // [B,1]
                x = NDArrays.where(x.lt(kth), m.full(x.getShape(), Float.NEGATIVE_INFINITY), x);
            }
            NDArray probs = x.softmax(-1);
            if (config.topP() < 1.0) {
                NDArray order = probs.argSort(-1, false);
                NDArray sorted = probs.gather(order, -1);
                // keep the smallest prefix whose mass reaches top-p (the first token always survives)
                NDArray keep = sorted.cumSum(-1).sub(sorted).lt((float) config.topP());
                NDArray kept = NDArrays.where(keep, sorted, m.zeros(sorted.getShape(), DataType.FLOAT32));
                probs = m.zeros(probs.getShape(), DataType.FLOAT32).scatter(order, kept, -1);
            }
            NDArray cdf = probs.cumSum(-1);
            float[] u = new float[(int) B];
            for (int i = 0; i < B; i++) u[i] = (float) rows[i].nextDouble();
            NDArray target = m.create(u, new Shape(B, 1)).mul(cdf.get(":, -1:")); // unnormalised mass after filtering
            chosen = cdf.lt(target).toType(DataType.INT64, false).sum(new int[] {-1}).minimum(V - 1);
        }
        chosen = chosen.toType(DataType.INT64, false);
        NDArray chosenLogp = logp.gather(chosen.reshape(B, 1), -1).reshape(B);
        return new Result(chosen.toLongArray(), chosenLogp.toFloatArray());
    }

    record Result(long[] ids, float[] logprobs) {}

    void close() {
        if (banMask != null) banMask.close();
    }
}
