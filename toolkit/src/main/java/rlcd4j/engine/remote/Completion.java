package rlcd4j.engine.remote;

/** One choice of a {@code /v1/completions} answer: its text and why it ended ({@code stop}, {@code length}). */
record Completion(String text, String finishReason) {}
