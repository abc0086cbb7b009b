package rlcd4j.train;

import java.util.List;

/**
 * A reward computed by code instead of a preference model: PPO's stand-in for tests, the sandbox's ground-truth
 * judges, or any rule ("mentions the answer", "under 50 words").
 */
@FunctionalInterface
public interface RewardFunction {
    /**
     * One score per rollout. {@code responses} are the decoded continuations, cut before the stop marker when the
     * policy produced it.
     */
    double[] score(List<String> prompts, List<String> responses);
}
