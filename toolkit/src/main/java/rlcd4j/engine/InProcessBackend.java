package rlcd4j.engine;

import java.util.List;

/** {@link GenerationBackend} over a {@link CausalLM} in this JVM: every call goes straight to the model. */
public final class InProcessBackend implements GenerationBackend {
    private final CausalLM lm;

    InProcessBackend(CausalLM lm) {
        this.lm = java.util.Objects.requireNonNull(lm, "lm");
    }

    /** The model itself, for callers that read more than labels (RLAIF records the raw logits in-process). */
    public CausalLM model() {
        return lm;
    }

    @Override
    public String name() {
        return lm.name();
    }

    @Override
    public Tokenizer tokenizer() {
        return lm.tokenizer();
    }

    @Override
    public int contextLength() {
        return lm.config().maxPositions();
    }

    @Override
    public <T> void generate(GenerationConfig config, GenerationQueue<T> queue) {
        lm.generate(config, queue);
    }

    @Override
    public List<Generation> generate(List<String> prompts, GenerationConfig config, long[] rowSeeds) {
        return lm.generate(prompts, config, rowSeeds);
    }

    @Override
    public List<Generation> generate(List<String> prompts, GenerationConfig config) {
        return lm.generate(prompts, config);
    }

    @Override
    public double[][] labelLogprobs(List<String> prompts, long[] labelIds) {
        float[][] logits = lm.nextTokenLogits(prompts);
        double[][] out = new double[prompts.size()][labelIds.length];
        for (int i = 0; i < logits.length; i++) {
            double lse = logSumExp(logits[i]);
            for (int k = 0; k < labelIds.length; k++) out[i][k] = logits[i][(int) labelIds[k]] - lse;
        }
        return out;
    }

    static double logSumExp(float[] xs) {
        double m = Double.NEGATIVE_INFINITY;
        for (float x : xs) m = Math.max(m, x);
        double s = 0;
        for (float x : xs) s += Math.exp(x - m);
        return m + Math.log(s);
    }

    @Override
    public String toString() {
        return "in-process " + lm;
    }
}
