package rlcd4j.engine;

/**
 * Log-probabilities of a continuation after a prompt.
 *
 * @param ids      the continuation's token ids
 * @param logprobs log P(ids[i] | prompt, ids[..i]) for each of them
 * @param sum      their sum, log P(continuation | prompt)
 */
public record Scored(long[] ids, float[] logprobs, double sum) {}
