package rlcd4j.pipeline;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.CategoryChart;
import rlcd4j.Rlcd;
import rlcd4j.contrast.AttributeSpec;
import rlcd4j.contrast.Method;
import rlcd4j.contrast.Simulator;
import rlcd4j.data.HhRlhf;
import rlcd4j.data.PreferencePairs;
import rlcd4j.data.PromptSet;
import rlcd4j.data.PromptSource;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.Generation;
import rlcd4j.engine.GenerationConfig;
import rlcd4j.eval.Judge;
import rlcd4j.eval.JudgePrompt;
import rlcd4j.eval.LocalJudge;
import rlcd4j.eval.Outputs;
import rlcd4j.eval.PairwiseEvaluation;
import rlcd4j.hub.HfHub;
import rlcd4j.plot.Plots;
import rlcd4j.sandbox.GroundTruth;
import rlcd4j.sandbox.GroundTruthJudge;
import rlcd4j.sandbox.PremiseGap;
import rlcd4j.sandbox.SandboxTask;
import rlcd4j.train.DpoTrainer;
import rlcd4j.train.PpoTrainer;
import rlcd4j.train.PreferenceModel;
import rlcd4j.train.PreferenceModelTrainer;
import rlcd4j.train.SftTrainer;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * The whole RLCD story on the sandbox, end to end, with every stage saved in a {@link RunFolder} so a stopped run
 * continues: the premise gap; RLCD and RLAIF pairs; a preference model on each and its agreement with the ground truth;
 * PPO against each; DPO on the RLCD pairs; context distillation; decoding of held-out prompts; pairwise comparisons
 * judged by the ground truth and by the local model judge; a summary table and an HTML report.
 *
 * <p>The sizes are the demo's, chosen to finish in minutes on 2 CPU cores; the hyperparameters depart from the paper's
 * where a 3.6 M-parameter model trained from scratch needs it (larger learning rates, fewer steps). {@link Options}
 * lists them; docs/results.md records what they gave.
 */
public final class Demo {
    /**
     * @param model       base model: a folder or a Hugging Face repo id (cache, else download)
     * @param prompts     {@code sandbox} (the sandbox world, with its ground-truth judge) or {@code hh} (Anthropic
     *                    HH-RLHF: simulation prompts from the train file, held-out prompts from test rows 1000-1999,
     *                    human-labelled pairs from test rows 0-999; judged by the local model judge only)
     * @param simPrompts  prompts simulated per method
     * @param evalPrompts held-out prompts decoded and judged
     * @param newTokens   new tokens per sample (the sandbox's answers are short; the paper used 300)
     */
    public record Options(
            SandboxTask task,
            String model,
            String prompts,
            Path out,
            int simPrompts,
            int evalPrompts,
            int newTokens,
            int ppoSteps,
            double ppoKl,
            double ppoLr,
            double pmLr,
            int pmEpochs,
            double sftLr,
            double dpoLr,
            long seed) {
        public static Options defaults(Path baseModel, Path out) {
            return new Options(
                    SandboxTask.HARMLESS,
                    baseModel.toString(),
                    "sandbox",
                    out,
                    256,
                    200,
                    64,
                    16,
                    0.004,
                    3e-5,
                    1e-4,
                    2,
                    5e-5,
                    2e-5,
                    0);
        }

        /** A task; outlines need longer answers (up to about 100 tokens) than the other tasks' (under 50). */
        public Options withTask(SandboxTask t) {
            int tokens = t == SandboxTask.OUTLINE ? 112 : 64;
            return new Options(
                    t,
                    model,
                    prompts,
                    out,
                    simPrompts,
                    evalPrompts,
                    tokens,
                    ppoSteps,
                    ppoKl,
                    ppoLr,
                    pmLr,
                    pmEpochs,
                    sftLr,
                    dpoLr,
                    seed);
        }

        public Options withSizes(int sim, int eval, int ppo) {
            return new Options(
                    task, model, prompts, out, sim, eval, newTokens, ppo, ppoKl, ppoLr, pmLr, pmEpochs, sftLr, dpoLr,
                    seed);
        }

        /** A base model by folder or repo id, and where prompts come from ({@code sandbox} or {@code hh}). */
        public Options withModel(String model, String prompts) {
            if (!prompts.equals("sandbox") && !prompts.equals("hh")) {
                throw new RlcdException("--prompts " + prompts + ": expected sandbox or hh");
            }
            if (prompts.equals("hh") && task == SandboxTask.OUTLINE) {
                throw new RlcdException(
                        "--prompts hh: HH-RLHF has harmlessness and helpfulness prompts; the outline task runs in the sandbox");
            }
            return new Options(
                    task,
                    model,
                    prompts,
                    out,
                    simPrompts,
                    evalPrompts,
                    newTokens,
                    ppoSteps,
                    ppoKl,
                    ppoLr,
                    pmLr,
                    pmEpochs,
                    sftLr,
                    dpoLr,
                    seed);
        }

        public Options withNewTokens(int n) {
            return new Options(
                    task,
                    model,
                    prompts,
                    out,
                    simPrompts,
                    evalPrompts,
                    n,
                    ppoSteps,
                    ppoKl,
                    ppoLr,
                    pmLr,
                    pmEpochs,
                    sftLr,
                    dpoLr,
                    seed);
        }

        /** Another run folder. */
        public Options withOut(Path folder) {
            return new Options(
                    task,
                    model,
                    prompts,
                    folder,
                    simPrompts,
                    evalPrompts,
                    newTokens,
                    ppoSteps,
                    ppoKl,
                    ppoLr,
                    pmLr,
                    pmEpochs,
                    sftLr,
                    dpoLr,
                    seed);
        }

        public Options withSeed(long s) {
            return new Options(
                    task,
                    model,
                    prompts,
                    out,
                    simPrompts,
                    evalPrompts,
                    newTokens,
                    ppoSteps,
                    ppoKl,
                    ppoLr,
                    pmLr,
                    pmEpochs,
                    sftLr,
                    dpoLr,
                    s);
        }

        public boolean sandbox() {
            return prompts.equals("sandbox");
        }
    }

    /**
     * What the demo measured; {@code premise} is null with HH-RLHF prompts (no ground truth to measure it with).
     * {@code headline} holds the figures the report opens with, each with its interval ({@link Headline}).
     */
    public record Result(
            Table premise, Table pmAgreement, Table comparisons, Table scores, Table headline, Path report) {}

    private final Options o;
    private final HfHub hub;
    private final RunFolder run;
    private final GroundTruth truth = GroundTruth.standard();
    private Path baseFolder;

    private Demo(Options o, HfHub hub) {
        this.o = o;
        this.hub = hub;
        this.run = RunFolder.at(o.out()).requireSettings(o.toString() + "\n");
    }

    public static Result run(Options o) {
        return run(o, HfHub.fromEnvironment());
    }

    /** With HH-RLHF prompts or a repo id, files come from {@code hub}'s cache or are downloaded into it. */
    public static Result run(Options o, HfHub hub) {
        return new Demo(o, hub).run();
    }

    /** Simulation and held-out prompts, and (HH-RLHF only) human-labelled pairs. */
    private record Prompts(List<String> sim, List<String> eval, Table humanPairs) {}

    private Prompts prompts() {
        if (o.sandbox()) {
            return new Prompts(
                    Rlcd.sandboxPrompts(o.task(), o.simPrompts(), false, o.seed()),
                    Rlcd.sandboxPrompts(o.task(), o.evalPrompts(), true, o.seed() + 1),
                    null);
        }
        String subset = o.task() == SandboxTask.HARMLESS ? "harmless-base" : "helpful-base";
        HhRlhf train = HhRlhf.read(PromptSource.resolve("hh:" + subset + "/train", hub));
        HhRlhf test = HhRlhf.read(PromptSource.resolve("hh:" + subset + "/test", hub));
        // Prompts that leave room in the model's context for the answer and the inserted descriptions (simulation),
        // or for the judge's template and two answers (held out).
        try (CausalLM base = base()) {
            int context = base.config().maxPositions();
            int judgeTemplate = base.tokenizer()
                    .encode(LocalJudge.of(base, judgeTask(), null).prompt("\n\nHuman: \n\nAssistant:", "", ""), true)
                    .length;
            List<String> sim =
                    fitting(base, train.prompts(o.task().id()), context - o.newTokens() - 32, o.simPrompts());
            List<String> eval = fitting(
                    base,
                    test.test().prompts(o.task().id()),
                    context - judgeTemplate - 2 * o.newTokens() - 8,
                    o.evalPrompts());
            Table pairs = test.dev().pairs();
            return new Prompts(sim, eval, pairs.first(Math.min(pairs.rowCount(), Math.max(o.evalPrompts(), 100))));
        }
    }

    private static List<String> fitting(CausalLM lm, PromptSet set, int maxTokens, int n) {
        List<String> out = new ArrayList<>();
        for (PromptSet.Entry e : set.entries()) {
            if (out.size() == n) break;
            if (lm.tokenizer().encode(e.prompt(), true).length <= maxTokens) out.add(e.prompt());
        }
        if (out.isEmpty())
            throw new RlcdException(
                    set.source() + ": no prompt fits in " + maxTokens + " tokens of " + lm.name() + "'s context");
        return out;
    }

    private Result run() {
        String task = o.task().id();
        AttributeSpec spec = AttributeSpec.forTask(task);
        Prompts p = prompts();
        List<String> simPrompts = p.sim(), evalPrompts = p.eval();
        GenerationConfig sample =
                GenerationConfig.simulation().withMaxNewTokens(o.newTokens()).withBatchSize(32);

        // 1. The premise: do outputs from p+ beat outputs from p- on the ground truth?
        Table premise = !o.sandbox()
                ? null
                : run.table("premise-gap", () -> {
                    try (CausalLM base = base()) {
                        return PremiseGap.measure(base, truth, o.task(), evalPrompts, sample, o.seed());
                    }
                });

        // 2. Simulated pairs: RLCD (o+ from p+, o- from p-) and RLAIF (two samples from p, labelled by the model).
        // Saved as the pairs' table view; read back typed.
        Map<String, PreferencePairs> pairs = new LinkedHashMap<>();
        for (Method m : List.of(Method.RLCD, Method.RLAIF)) {
            pairs.put(m.id(), PreferencePairs.fromTable(run.table("pairs-" + m.id(), () -> {
                try (CausalLM base = base()) {
                    return Simulator.run(
                                    base,
                                    PromptSet.of(task, simPrompts),
                                    spec,
                                    m,
                                    Simulator.Options.defaults()
                                            .withSeed(o.seed())
                                            .withGeneration(sample))
                            .table();
                }
            })));
        }

        // 3. A preference model on each, and its agreement with the ground truth on held-out pairs (sandbox) or with
        //    HH-RLHF's human labels (the paper's Table 5).
        Table truthPairs = !o.sandbox()
                ? null
                : run.table("ground-truth-pairs", () -> {
                    try (CausalLM base = base()) {
                        return groundTruthPairs(base, truth, o.task(), o.evalPrompts(), o.newTokens(), o.seed());
                    }
                });
        List<Table> agreement = new ArrayList<>();
        for (String m : pairs.keySet()) {
            Path dir = run.folder("pm-" + m, d -> {
                try (CausalLM base = base()) {
                    PreferenceModelTrainer.Config c = PreferenceModelTrainer.Config.defaults()
                            .withLearningRate(o.pmLr())
                            .withEpochs(o.pmEpochs())
                            .withEvalSize(0)
                            .withEvalEvery(0)
                            .withSeed(o.seed());
                    new PreferenceModelTrainer(c)
                            .train(base, pairs.get(m), d.resolve("train"))
                            .model()
                            .save(d);
                }
            });
            agreement.add(run.table("pm-" + m + "-agreement", () -> {
                try (PreferenceModel pm = PreferenceModel.load(dir, null)) {
                    Table t = o.sandbox()
                            ? PreferenceModelTrainer.evaluate(pm, truthPairs)
                            : PreferenceModelTrainer.humanAgreement(pm, p.humanPairs());
                    t.addColumns(StringColumn.create("preference_model", t.rowCount())
                            .setMissingTo("pm-" + m));
                    return t;
                }
            }));
        }
        Table pmAgreement = agreement.get(0).copy().append(agreement.get(1));
        pmAgreement.setName(
                o.sandbox() ? "preference models vs ground truth" : "preference models vs HH-RLHF human labels");

        // 4. The policies: PPO against each preference model, DPO on the RLCD pairs, context distillation on o+.
        Map<String, Path> models = new LinkedHashMap<>();
        models.put("base", baseFolder());
        for (String m : pairs.keySet()) {
            models.put(
                    "ppo-" + m,
                    run.folder("ppo-" + m, d -> {
                                try (CausalLM policy = base();
                                        PreferenceModel rm =
                                                PreferenceModel.load(run.root().resolve("pm-" + m), null)) {
                                    PpoTrainer.Config c = PpoTrainer.Config.defaults()
                                            .withKlCoef(o.ppoKl())
                                            .withLr(o.ppoLr())
                                            .withBatches(32, 16, 8)
                                            .withResponseLength(o.newTokens())
                                            .withSteps(o.ppoSteps(), 4)
                                            .withWarmupSteps(2)
                                            .withSeed(o.seed());
                                    Table log = new PpoTrainer(
                                                    c, policy, rm, PromptSet.of(task, simPrompts), d.resolve("train"))
                                            .train();
                                    log.write().csv(d.resolve("log.csv").toFile());
                                }
                            })
                            .resolve("train/policy"));
        }
        models.put("dpo-rlcd", run.folder("dpo-rlcd", d -> {
            try (CausalLM policy = base()) {
                DpoTrainer.Config c = DpoTrainer.Config.defaults()
                        .withLearningRate(o.dpoLr())
                        .withEpochs(1)
                        .withBatchSize(16)
                        .withSeed(o.seed());
                new DpoTrainer(c).train(policy, pairs.get("rlcd"), d);
            }
        }));
        models.put("context-distillation", run.folder("sft", d -> {
            try (CausalLM policy = base()) {
                SftTrainer.Config c = SftTrainer.Config.defaults()
                        .withLearningRate(o.sftLr())
                        .withEpochs(1)
                        .withBatchSize(16)
                        .withSeed(o.seed());
                new SftTrainer(c).train(policy, pairs.get("rlcd"), d);
            }
        }));

        // 5. Decode the held-out prompts with every model (the paper's final decoding, shorter).
        GenerationConfig decode = GenerationConfig.evaluation()
                .withMaxNewTokens(o.newTokens())
                .withBatchSize(32)
                .withSeed(o.seed());
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < evalPrompts.size(); i++) ids.add(Integer.toString(i));
        Map<String, Table> outputs = new LinkedHashMap<>();
        models.forEach((name, dir) -> outputs.put(name, run.table("outputs-" + name, () -> {
            try (CausalLM lm = CausalLM.load(dir)) {
                return Outputs.decode(lm, name, ids, evalPrompts, decode, null);
            }
        })));

        // 6. Pairwise comparisons, both orders, by the ground truth and by the local model judge (the base model).
        List<String[]> comparisons = new ArrayList<>();
        for (String name : models.keySet()) if (!name.equals("base")) comparisons.add(new String[] {name, "base"});
        comparisons.add(new String[] {"ppo-rlcd", "ppo-rlaif"});
        comparisons.add(new String[] {"ppo-rlcd", "context-distillation"});
        comparisons.add(new String[] {"ppo-rlcd", "dpo-rlcd"});
        Table summary = run.table("comparisons", () -> {
            Table all = null;
            try (CausalLM judgeModel = base()) {
                for (boolean local : o.sandbox() ? new boolean[] {false, true} : new boolean[] {true}) {
                    Judge judge = local
                            ? LocalJudge.of(judgeModel, judgeTask(), run.root().resolve("local-judge-cache.jsonl"))
                            : new GroundTruthJudge(truth);
                    for (String[] c : comparisons) {
                        Table s = PairwiseEvaluation.of(outputs.get(c[0]), outputs.get(c[1]), judge)
                                .run()
                                .summary();
                        all = all == null ? s.copy() : all.append(s);
                    }
                }
            }
            all.setName("win rates (A vs B, both orders, ties half)");
            return all;
        });

        // 7. Absolute ground-truth scores of each model's outputs (sandbox; with HH-RLHF prompts, lengths only).
        Table scores = run.table(o.sandbox() ? "ground-truth-scores" : "output-lengths", () -> {
            StringColumn model = StringColumn.create("model");
            DoubleColumn mean = DoubleColumn.create("ground_truth_score");
            DoubleColumn len = DoubleColumn.create("mean_words");
            outputs.forEach((name, t) -> {
                double s = 0, w = 0;
                for (int i = 0; i < t.rowCount(); i++) {
                    String out = t.stringColumn("output").get(i);
                    if (o.sandbox())
                        s += truth.judge(t.stringColumn("prompt").get(i), out).score();
                    w += out.isBlank() ? 0 : out.trim().split("\\s+").length;
                }
                model.append(name);
                mean.append(s / t.rowCount());
                len.append(w / t.rowCount());
            });
            return o.sandbox()
                    ? Table.create("ground-truth score of each model (held-out prompts)", model, mean, len)
                    : Table.create("output length of each model (held-out prompts)", model, len);
        });

        Table headline = Headline.of(premise, pmAgreement, summary, mainJudge(o, summary));
        Path report = report(premise, pmAgreement, summary, scores, headline, pairs, outputs);
        return new Result(
                premise == null ? null : PremiseGap.summary(premise), pmAgreement, summary, scores, headline, report);
    }

    /** The judge whose win rates are the headline: the ground truth in the sandbox, else the only judge. */
    static String mainJudge(Options o, Table comparisons) {
        return o.sandbox()
                ? GROUND_TRUTH_JUDGE
                : comparisons.stringColumn("judge").get(0);
    }

    private static final String GROUND_TRUTH_JUDGE = "ground-truth";

    private CausalLM base() {
        return CausalLM.load(baseFolder());
    }

    /** The base model's folder: the given folder, or the repo's snapshot in the Hugging Face cache (downloaded once). */
    private Path baseFolder() {
        if (baseFolder == null) baseFolder = hub.resolveModel(o.model(), null);
        return baseFolder;
    }

    private JudgePrompt.Task judgeTask() {
        return switch (o.task()) {
            case HARMLESS -> JudgePrompt.Task.HARMLESS;
            case HELPFUL -> JudgePrompt.Task.HELPFUL;
            case OUTLINE -> JudgePrompt.Task.OUTLINE;
        };
    }

    /**
     * {@code n} held-out pairs labelled by the ground truth ({@link #groundTruthPairs(CausalLM, GroundTruth, List, int,
     * long)}), what each preference model's accuracy is measured on; the demo asks for as many as it has held-out
     * prompts (200 by default). Two samples of one prompt often tie, so fresh held-out prompts are drawn in rounds
     * until {@code n} pairs are decided (at most 10 rounds: a model whose samples nearly always tie gives fewer, and
     * the table's row count says how many). The prompts are drawn apart from the evaluation prompts.
     */
    public static Table groundTruthPairs(
            CausalLM base, GroundTruth truth, SandboxTask task, int n, int newTokens, long seed) {
        if (n < 1) throw new RlcdException("ground-truth pairs: " + n + "; expected at least 1");
        Table all = null;
        for (int round = 0; round < 10 && (all == null || all.rowCount() < n); round++) {
            List<String> prompts = Rlcd.sandboxPrompts(task, Math.max(n, 32), true, 1_000_003L + 131L * seed + round);
            Table t = groundTruthPairs(base, truth, prompts, newTokens, seed + round);
            all = all == null ? t : all.append(t);
        }
        return all.first(n);
    }

    /**
     * Held-out pairs labelled by the ground truth: two samples of {@code base} per prompt (the paper's evaluation
     * decoding, {@code newTokens} long), the better one chosen; ties dropped. What a preference model's agreement is
     * measured on in the sandbox.
     */
    public static Table groundTruthPairs(
            CausalLM base, GroundTruth truth, List<String> prompts, int newTokens, long seed) {
        StringColumn prompt = StringColumn.create("prompt"),
                chosen = StringColumn.create("chosen"),
                rejected = StringColumn.create("rejected");
        List<String> twice = new ArrayList<>(prompts);
        twice.addAll(prompts);
        List<Generation> g = base.generate(
                twice,
                GenerationConfig.evaluation()
                        .withMaxNewTokens(newTokens)
                        .withBatchSize(32)
                        .withSeed(seed + 99));
        for (int i = 0; i < prompts.size(); i++) {
            String a = Outputs.clean(g.get(i).text()),
                    b = Outputs.clean(g.get(prompts.size() + i).text());
            double p = truth.compare(prompts.get(i), a, b);
            if (p == 0.5) continue;
            prompt.append(prompts.get(i));
            chosen.append(p > 0.5 ? a : b);
            rejected.append(p > 0.5 ? b : a);
        }
        return Table.create("held-out pairs labelled by the ground truth", prompt, chosen, rejected);
    }

    private static int evalPrompts(Map<String, Table> outputs) {
        return outputs.values().iterator().next().rowCount();
    }

    /**
     * The report reads like a result: first the headline (the premise gap, each preference model's accuracy, the win
     * rates as a chart, all with 95% intervals), then the paper's figures beside these, and only then the raw tables.
     */
    private Path report(
            Table premise,
            Table pm,
            Table summary,
            Table scores,
            Table headline,
            Map<String, PreferencePairs> pairs,
            Map<String, Table> outputs) {
        HtmlReport r = new HtmlReport(
                "rlcd4j demo: " + o.task().id() + (o.sandbox() ? " in the sandbox" : " on HH-RLHF with " + o.model()));
        String judge = mainJudge(o, summary);
        r.heading(HEADLINE);
        if (o.sandbox()) {
            r.paragraph("Every number below was measured in this run (seed " + o.seed() + "). The sandbox is a "
                    + "synthetic world with a small base model pretrained by rlcd4j itself; its ground-truth judge reads "
                    + "only the text. It shows that the RLCD machinery works and whether contrastive labels beat "
                    + "self-labelled ones here; it cannot show how a real LLaMA behaves. Intervals are 95% percentile "
                    + "bootstraps over the held-out prompts or pairs.");
            int gap = Headline.row(headline, Headline.PREMISE_GAP);
            r.paragraph("The premise: on the ground truth, outputs from p+ score " + Headline.describe(headline, gap)
                    + " above outputs from p- on the same held-out prompts.");
        } else {
            r.paragraph("Every number below was measured in this run, on " + o.model() + " with HH-RLHF prompts ("
                    + o.simPrompts()
                    + " simulated, " + evalPrompts(outputs)
                    + " held out from test rows 1000-1999). There is no ground truth here: the "
                    + "preference models are checked against HH-RLHF's human labels (test rows 0-999) and the policies are compared by "
                    + "the base model acting as the paper's pairwise judge, a weak judge for a small model (see its flip rate). "
                    + "The premise is not measured: it needs a judge of harmlessness or helpfulness that is "
                    + "independent of the model.");
        }
        for (String m : pairs.keySet()) {
            int row = Headline.row(headline, Headline.accuracy("pm-" + m));
            r.paragraph("The preference model trained on " + m.toUpperCase(java.util.Locale.ROOT)
                    + " pairs agrees with " + (o.sandbox() ? "the ground truth on " : "the human labels on ")
                    + Headline.describe(headline, row)
                    + " of held-out pairs.");
        }
        r.table(Headline.readable(headline), 50, 80);
        Table main = summary.where(summary.stringColumn("judge").isEqualTo(judge));
        if (main.rowCount() > 0) {
            CategoryChart chart = Plots.winRates(main);
            r.chart(chart);
        }

        r.heading(BESIDE_THE_PAPER);
        r.paragraph("The paper's figures are LLaMA-7B policies (the preference data simulated by LLaMA-7B or 30B) "
                + "judged by GPT-4 and by human raters on HH-RLHF and story outlines; this demo's are its own model "
                + "judged by " + (o.sandbox() ? "the sandbox's ground truth" : "the local model judge") + ". The "
                + "scales differ, so compare the direction and the rough size of each gap, not the numbers themselves. "
                + "The paper's figures come from the project's reference notes (source column); where they have none, "
                + "the row says so.");
        r.table(PaperFigures.beside(o.task(), judge, Headline.describer(headline)), 20, 300);

        r.heading(RAW_TABLES);
        if (o.sandbox()) {
            r.subheading("The premise: outputs from p+ vs p- (ground truth)")
                    .table(PremiseGap.summary(premise), 5, 200)
                    .table(premise, 8, 160);
        }
        r.subheading("Simulated pairs");
        pairs.forEach((m, p) -> r.table(
                p.table().selectColumns("id", "pair_index", "prompt", "chosen", "rejected", "p_chosen", "status"),
                6,
                160));
        r.subheading(
                        o.sandbox()
                                ? "Preference models: agreement with the ground truth on held-out pairs"
                                : "Preference models: agreement with HH-RLHF human labels")
                .table(pm, 5, 80);
        r.subheading("Win rates with 95% bootstrap intervals, every judge").table(summary, 50, 60);
        r.subheading(o.sandbox() ? "Ground-truth score of each model" : "Output lengths")
                .table(scores, 20, 60);
        for (String phase : List.of("ppo-rlcd", "ppo-rlaif")) {
            Path log = run.root().resolve(phase).resolve("log.csv");
            if (Files.exists(log)) {
                Table t = Table.read().csv(log.toFile());
                r.subheading("Training curves: " + phase).chart(Plots.trainingCurves(t, "reward", "kl"));
            }
        }
        r.subheading("Sample outputs");
        outputs.forEach(
                (name, t) -> r.table(t.selectColumns("id", "model", "output").first(4), 4, 200));
        return r.write(run.root().resolve("report.html"));
    }

    /** The report's three sections, in order. */
    static final String HEADLINE = "1. Headline",
            BESIDE_THE_PAPER = "2. Beside the paper",
            RAW_TABLES = "3. Raw tables";
}
