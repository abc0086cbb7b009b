package rlcd4j.engine.remote;

/**
 * One choice of a {@code /v1/completions} answer: its text, why it ended ({@code stop}, {@code length}) and, where the
 * server says (vLLM's {@code stop_reason}), the stop string it matched (null for EOS, a stop token id, or not said).
 */
record Completion(String text, String finishReason, String stopReason) {}
