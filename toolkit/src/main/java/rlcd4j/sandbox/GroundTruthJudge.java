package rlcd4j.sandbox;

import rlcd4j.eval.Judge;
import rlcd4j.eval.Verdict;

/**
 * The sandbox's ground truth as a pairwise {@link Judge}: it reads only the conversation and the two answers and decides
 * from the world's own facts. No trainer ever sees it; it is the independent judge of the demo.
 */
public final class GroundTruthJudge implements Judge {
    private final GroundTruth truth;

    public GroundTruthJudge(GroundTruth truth) {
        this.truth = truth;
    }

    @Override
    public Verdict judge(String instruction, String first, String second) {
        double p = truth.compare(instruction, first, second);
        String answer = p > 0.5 ? "A" : p < 0.5 ? "B" : null;
        return new Verdict(
                answer,
                p,
                "ground truth: A " + truth.judge(instruction, first).label() + ", B "
                        + truth.judge(instruction, second).label());
    }

    @Override
    public String name() {
        return "ground-truth";
    }
}
