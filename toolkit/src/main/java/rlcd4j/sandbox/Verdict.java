package rlcd4j.sandbox;

/** A ground-truth judgement of one answer: a score in [0,1] (higher is better) and a short label saying why. */
public record Verdict(SandboxTask task, double score, String label) {}
