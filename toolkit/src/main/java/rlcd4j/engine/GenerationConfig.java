package rlcd4j.engine;

import java.util.List;

/**
 * How to decode. {@code temperature == 0} means greedy. {@code topK == 0} and {@code topP == 1} switch those filters
 * off. Stop strings end a sequence (the returned {@link Generation#text()} is cut before the first one); banned strings
 * never appear in the output (every token whose text contains one is masked out).
 *
 * @param seed each row {@code i} of a call samples from its own generator seeded by (seed, i), so a prompt gets the
 *             same sample whether it is decoded alone or in a batch
 * @param batchSize prompts decoded together by {@link CausalLM#generate(List, GenerationConfig)}
 */
public record GenerationConfig(
        int maxNewTokens,
        double temperature,
        int topK,
        double topP,
        long seed,
        List<String> stopStrings,
        List<String> bannedStrings,
        int batchSize) {

    public GenerationConfig {
        if (maxNewTokens < 0) throw new IllegalArgumentException("maxNewTokens must be >= 0, got " + maxNewTokens);
        if (temperature < 0) throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
        if (topK < 0) throw new IllegalArgumentException("topK must be >= 0, got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
        if (batchSize <= 0) throw new IllegalArgumentException("batchSize must be positive, got " + batchSize);
        stopStrings = List.copyOf(stopStrings);
        bannedStrings = List.copyOf(bannedStrings);
    }

    /** Plain sampling at temperature 1, 128 new tokens, no filters. */
    public static GenerationConfig defaults() {
        return new GenerationConfig(128, 1.0, 0, 1.0, 0, List.of(), List.of(), 16);
    }

    public static GenerationConfig greedy(int maxNewTokens) {
        return defaults().withTemperature(0).withMaxNewTokens(maxNewTokens);
    }

    /**
     * The RLCD paper's simulation settings: temperature 1, top-k 50 (HF's default, since the code passes none), 300
     * new tokens, backslashes and backticks banned. Decoding stops once the model starts a new {@code Human} turn:
     * the paper's post-processing cuts there, so the kept text is the same and the rest is not worth computing.
     * Use {@link Generation#rawText()} for that post-processing.
     */
    public static GenerationConfig simulation() {
        return new GenerationConfig(300, 1.0, 50, 1.0, 0, List.of("Human"), List.of("\\", "`"), 16);
    }

    /** The paper's final decoding: temperature 1, top-p 0.9, 300 new tokens, cut at {@code \n\nHuman:}. */
    public static GenerationConfig evaluation() {
        return new GenerationConfig(300, 1.0, 0, 0.9, 0, List.of("\n\nHuman:"), List.of(), 16);
    }

    public boolean greedy() {
        return temperature == 0;
    }

    public GenerationConfig withMaxNewTokens(int n) {
        return new GenerationConfig(n, temperature, topK, topP, seed, stopStrings, bannedStrings, batchSize);
    }

    public GenerationConfig withTemperature(double t) {
        return new GenerationConfig(maxNewTokens, t, topK, topP, seed, stopStrings, bannedStrings, batchSize);
    }

    public GenerationConfig withTopK(int k) {
        return new GenerationConfig(maxNewTokens, temperature, k, topP, seed, stopStrings, bannedStrings, batchSize);
    }

    public GenerationConfig withTopP(double p) {
        return new GenerationConfig(maxNewTokens, temperature, topK, p, seed, stopStrings, bannedStrings, batchSize);
    }

    public GenerationConfig withSeed(long s) {
        return new GenerationConfig(maxNewTokens, temperature, topK, topP, s, stopStrings, bannedStrings, batchSize);
    }

    public GenerationConfig withStopStrings(List<String> stops) {
        return new GenerationConfig(maxNewTokens, temperature, topK, topP, seed, stops, bannedStrings, batchSize);
    }

    public GenerationConfig withBannedStrings(List<String> banned) {
        return new GenerationConfig(maxNewTokens, temperature, topK, topP, seed, stopStrings, banned, batchSize);
    }

    public GenerationConfig withBatchSize(int b) {
        return new GenerationConfig(maxNewTokens, temperature, topK, topP, seed, stopStrings, bannedStrings, b);
    }
}
