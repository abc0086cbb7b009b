package rlcd4j.sandbox;

import java.util.ArrayList;
import java.util.List;
import rlcd4j.contrast.AttributeSpec;
import rlcd4j.contrast.ContrastivePrompts;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.Generation;
import rlcd4j.engine.GenerationBackend;
import rlcd4j.engine.GenerationConfig;
import rlcd4j.util.PostProcess;
import rlcd4j.util.PythonRandom;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * RLCD's premise, measured before anything is trained: on held-out prompts, does the output from p+ score better on the
 * ground truth than the output from p-? The gap is what the contrastive labels are worth.
 */
public final class PremiseGap {
    private PremiseGap() {}

    /**
     * Samples o+ from p+ and o- from p- for each prompt (one description pair drawn per prompt, as in simulation),
     * post-processes both as the paper does, and scores them with the ground truth. One row per prompt.
     */
    public static Table measure(
            CausalLM lm, GroundTruth truth, SandboxTask task, List<String> prompts, GenerationConfig gen, long seed) {
        return measure(GenerationBackend.of(lm), truth, task, prompts, gen, seed);
    }

    /** {@link #measure(CausalLM, GroundTruth, SandboxTask, List, GenerationConfig, long)} on any backend (a server). */
    public static Table measure(
            GenerationBackend lm,
            GroundTruth truth,
            SandboxTask task,
            List<String> prompts,
            GenerationConfig gen,
            long seed) {
        AttributeSpec spec = AttributeSpec.forTask(task.id());
        PythonRandom rng = new PythonRandom(seed);
        List<String> pos = new ArrayList<>(), neg = new ArrayList<>();
        int[] pairIndex = new int[prompts.size()];
        for (int i = 0; i < prompts.size(); i++) {
            pairIndex[i] = rng.choiceIndex(spec.size());
            ContrastivePrompts.Contrast c = ContrastivePrompts.build(prompts.get(i), spec.pair(pairIndex[i]));
            pos.add(c.positive());
            neg.add(c.negative());
        }
        List<String> all = new ArrayList<>(pos);
        all.addAll(neg);
        List<Generation> outs = lm.generate(all, gen.withSeed(seed));
        PostProcess post = PostProcess.withEos(
                lm.tokenizer().decodeWithSpecial(new long[] {lm.tokenizer().eosId()}));
        IntColumn id = IntColumn.create("id");
        IntColumn pair = IntColumn.create("pair_index");
        StringColumn prompt = StringColumn.create("prompt"),
                oPos = StringColumn.create("o_plus"),
                oNeg = StringColumn.create("o_minus");
        DoubleColumn sPos = DoubleColumn.create("score_plus"),
                sNeg = DoubleColumn.create("score_minus"),
                win = DoubleColumn.create("plus_wins");
        for (int i = 0; i < prompts.size(); i++) {
            String a = clean(post, outs.get(i)), b = clean(post, outs.get(prompts.size() + i));
            id.append(i);
            pair.append(pairIndex[i]);
            prompt.append(prompts.get(i));
            oPos.append(a);
            oNeg.append(b);
            sPos.append(truth.judge(prompts.get(i), a).score());
            sNeg.append(truth.judge(prompts.get(i), b).score());
            win.append(truth.compare(prompts.get(i), a, b));
        }
        return Table.create("premise gap (" + task.id() + ")", id, pair, prompt, oPos, oNeg, sPos, sNeg, win);
    }

    /** The post-processed text, or "" when post-processing fails (a failed sample scores as an empty answer). */
    private static String clean(PostProcess post, Generation g) {
        PostProcess.Result r = post.apply(g.rawText());
        return r.ok() ? r.text() : "";
    }

    /** One row: mean ground-truth score of o+ and o-, their gap, and how often o+ wins (ties half). */
    public static Table summary(Table perPrompt) {
        double p = perPrompt.doubleColumn("score_plus").mean(),
                n = perPrompt.doubleColumn("score_minus").mean();
        return Table.create(
                "premise gap summary",
                IntColumn.create("prompts", new int[] {perPrompt.rowCount()}),
                DoubleColumn.create("score_plus", p),
                DoubleColumn.create("score_minus", n),
                DoubleColumn.create("gap", p - n),
                DoubleColumn.create(
                        "plus_win_rate", perPrompt.doubleColumn("plus_wins").mean()));
    }
}
