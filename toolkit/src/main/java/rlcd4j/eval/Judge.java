package rlcd4j.eval;

/**
 * A pairwise judge: says which of two responses to the same conversation is better. Two exist: {@link OpenAiJudge}
 * (any OpenAI-compatible chat-completions server) and the local model judge, which compares the log-probabilities of
 * {@code A} and {@code B}. {@link PairwiseEvaluation} decides the order in which each pair is shown.
 */
public interface Judge {
    /**
     * Judges one ordered pair.
     *
     * @param instruction the conversation so far, ending in {@code "Assistant:"} (the evaluation prompt)
     * @param first       the response shown as (A)
     * @param second      the response shown as (B)
     */
    Verdict judge(String instruction, String first, String second);

    /** A short name for tables, e.g. {@code openai:gpt-4o/helpful}. */
    String name();
}
