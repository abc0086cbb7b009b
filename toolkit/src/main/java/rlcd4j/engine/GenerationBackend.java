package rlcd4j.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import rlcd4j.util.Seeds;

/**
 * What RLCD's generation stages need from a model: sample continuations (continuously batched, one seed per sample)
 * and the log-probabilities of label tokens after a prompt. Two exist: the in-process engine
 * ({@link #of(CausalLM)}) and an OpenAI-compatible server ({@code OpenAiCompletionsBackend} in engine.remote).
 * Either way the tokenizer is the model's own, loaded locally, so prompt-length checks and filters behave the same.
 */
public interface GenerationBackend {
    /** The in-process engine behind this interface; the model stays owned (and closed) by the caller. */
    static GenerationBackend of(CausalLM lm) {
        return new InProcessBackend(lm);
    }

    /** The model's name, as tables and logs record it. */
    String name();

    Tokenizer tokenizer();

    /** Positions the model reads: prompt tokens plus new tokens must fit. */
    int contextLength();

    /**
     * Continuous batching, as {@link CausalLM#generate(GenerationConfig, GenerationQueue)}: the queue's callbacks run
     * on the calling thread, each sample is drawn with its entry's own seed.
     */
    <T> void generate(GenerationConfig config, GenerationQueue<T> queue);

    /** Row {@code i} samples from a generator seeded with {@code rowSeeds[i]} ({@code config.seed()} is not used). */
    default List<Generation> generate(List<String> prompts, GenerationConfig config, long[] rowSeeds) {
        if (rowSeeds.length != prompts.size()) {
            throw new IllegalArgumentException(prompts.size() + " prompts but " + rowSeeds.length + " row seeds");
        }
        Generation[] out = new Generation[prompts.size()];
        int[] next = {0};
        generate(config, new GenerationQueue<Integer>() {
            @Override
            public Entry<Integer> poll() {
                int i = next[0];
                if (i >= out.length) return null;
                next[0]++;
                return new Entry<>(prompts.get(i), rowSeeds[i], i);
            }

            @Override
            public void finished(List<Done<Integer>> done) {
                for (Done<Integer> d : done) out[d.tag()] = d.generation();
            }
        });
        return new ArrayList<>(Arrays.asList(out));
    }

    /** Row {@code i} samples with the seed {@link CausalLM#generate(List, GenerationConfig)} gives it. */
    default List<Generation> generate(List<String> prompts, GenerationConfig config) {
        long[] seeds = new long[prompts.size()];
        for (int i = 0; i < seeds.length; i++) seeds[i] = Seeds.rowSeed(config.seed(), i);
        return generate(prompts, config, seeds);
    }

    /**
     * {@code [prompt][label]}: log P(next token = {@code labelIds[label]} | prompt), normalised over the whole
     * vocabulary (prompts tokenised with BOS when the tokenizer adds one). NaN where a server could not give the value
     * (labels outside its top-k when it returns no prompt log-probabilities); the backend reports those.
     */
    double[][] labelLogprobs(List<String> prompts, long[] labelIds);

    /** A short live status for progress lines (requests in flight, retries), or "" when there is nothing to say. */
    default String status() {
        return "";
    }
}
