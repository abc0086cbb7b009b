package rlcd4j.eval;

import java.util.ArrayList;
import java.util.List;

/**
 * A pairwise judge: says which of two responses to the same conversation is better. Two exist: {@link OpenAiJudge}
 * (any OpenAI-compatible chat-completions server) and {@link LocalJudge} (a local causal LM; compares the
 * log-probabilities of {@code A} and {@code B}). {@link PairwiseEvaluation} decides the order in which each pair is shown.
 */
public interface Judge {
    /** One ordered pair to judge: {@code first} is shown as (A), {@code second} as (B). */
    record Comparison(String instruction, String first, String second) {}

    /**
     * Judges one ordered pair.
     *
     * @param instruction the conversation so far, ending in {@code "Assistant:"} (the evaluation prompt)
     * @param first       the response shown as (A)
     * @param second      the response shown as (B)
     */
    Verdict judge(String instruction, String first, String second);

    /**
     * Judges several ordered pairs, verdicts in the same order. The default asks {@link #judge} one by one; a judge
     * that can do better together (a local model: one forward pass per batch) overrides it.
     */
    default List<Verdict> judgeAll(List<Comparison> comparisons) {
        List<Verdict> out = new ArrayList<>(comparisons.size());
        for (Comparison c : comparisons) out.add(judge(c.instruction(), c.first(), c.second()));
        return out;
    }

    /** How many comparisons {@link PairwiseEvaluation} hands to {@link #judgeAll} at a time (default 1). */
    default int batchSize() {
        return 1;
    }

    /** A short name for tables, e.g. {@code openai:gpt-4o/helpful}. */
    String name();
}
