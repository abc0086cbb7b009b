package rlcd4j.pipeline;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import rlcd4j.Rlcd;
import rlcd4j.contrast.AttributeSpec;
import rlcd4j.contrast.Method;
import rlcd4j.contrast.Simulator;
import rlcd4j.data.PairRow;
import rlcd4j.data.PreferencePairs;
import rlcd4j.data.PromptSet;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.GenerationConfig;
import rlcd4j.engine.llama.LoraAdapter;
import rlcd4j.eval.Judge;
import rlcd4j.eval.JudgePrompt;
import rlcd4j.eval.LocalJudge;
import rlcd4j.eval.OpenAiJudge;
import rlcd4j.eval.Outputs;
import rlcd4j.eval.PairwiseEvaluation;
import rlcd4j.sandbox.GroundTruth;
import rlcd4j.sandbox.GroundTruthJudge;
import rlcd4j.train.DpoTrainer;
import rlcd4j.train.PpoTrainer;
import rlcd4j.train.PreferenceModel;
import rlcd4j.train.PreferenceModelTrainer;
import rlcd4j.train.SftTrainer;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * The stages the three reproduction notebooks (harmlessness, helpfulness, outline) share: simulation, preference
 * models, context distillation, PPO, DPO, decoding, judging and the final table. Each is a stage of the notebook's
 * {@link RunFolder} keyed by everything its result depends on: the model and device, the trainer's or decoder's
 * config, and the results of the stages it reads (so a changed setting recomputes that stage and the ones after it).
 *
 * <p>{@code lora} null is full fine-tuning: a preference model then carries its own backbone, which closing it frees;
 * with LoRA it shares the base model it is loaded onto.
 */
public final class Reproduction {
    /** A trained stage: the folder to load the trained model from, and the trainer's log. */
    public record Trained(Path model, Table log) {}

    /** Model {@code a} against model {@code b} (names of {@link #decode}'s outputs). */
    public record Comparison(String a, String b) {}

    /**
     * Who judges: {@code apiModel} on an OpenAI-compatible endpoint when not null (OPENAI_API_KEY, OPENAI_BASE_URL),
     * else the local judge reading the A/B logits of {@code localModel}; one judge per task, plus the sandbox's ground
     * truth when {@code truth} is not null.
     */
    public record Judging(List<JudgePrompt.Task> tasks, String apiModel, String localModel, GroundTruth truth) {}

    private final RunFolder run;
    private final String model;
    private final CausalLM.Options device;
    private final LoraAdapter.Config lora;

    public Reproduction(RunFolder run, String model, CausalLM.Options device, LoraAdapter.Config lora) {
        this.run = run;
        this.model = model;
        this.device = device;
        this.lora = lora;
    }

    public RunFolder run() {
        return run;
    }

    /**
     * Simulated preference pairs for each of {@code methods} (all when none), stage {@code pairs-<method>}, with
     * {@code simulator} in process or on {@code servers} ({@link Rlcd#simulate}); the servers are not a setting, as
     * they serve {@code simulator}. An interrupted simulation resumes from its {@link RunFolder#resumeFile}.
     */
    public Map<Method, PreferencePairs> simulate(
            String simulator,
            String servers,
            PromptSet prompts,
            AttributeSpec spec,
            Simulator.Options options,
            Method... methods) {
        Map<Method, PreferencePairs> out = new LinkedHashMap<>();
        for (Method m : methods.length == 0 ? Method.values() : methods) {
            String stage = "pairs-" + m.id();
            Map<String, Object> settings = settings(
                    "simulator",
                    modelSetting(simulator),
                    "device",
                    device,
                    "prompts",
                    prompts,
                    "spec",
                    spec,
                    "method",
                    m,
                    "options",
                    options.withOutput(null));
            // The run folder keeps the pairs as their table view; fromTable types them again.
            out.put(
                    m,
                    PreferencePairs.fromTable(run.table(
                            stage,
                            settings,
                            () -> Rlcd.simulate(
                                            simulator,
                                            servers,
                                            device,
                                            prompts,
                                            spec,
                                            m,
                                            options.withOutput(run.resumeFile(stage)))
                                    .table())));
        }
        return out;
    }

    /** Per method: kept and dropped pairs, mean {@code p_chosen}, and (sandbox) how often the label is right. */
    public static Table simulationSummary(Map<Method, PreferencePairs> pairs, GroundTruth truth) {
        Table t = Table.create(
                "simulated pairs",
                StringColumn.create("method"),
                IntColumn.create("kept"),
                IntColumn.create("dropped"),
                DoubleColumn.create("mean_p_chosen"),
                DoubleColumn.create("label_accuracy_ground_truth"));
        pairs.forEach((m, p) -> {
            PreferencePairs ok = p.kept();
            t.stringColumn("method").append(m.id());
            t.intColumn("kept").append(ok.size());
            t.intColumn("dropped").append(p.size() - ok.size());
            t.doubleColumn("mean_p_chosen")
                    .append(ok.rows().stream()
                            .mapToDouble(PairRow::pChosen)
                            .average()
                            .orElse(Double.NaN));
            t.doubleColumn("label_accuracy_ground_truth").append(truth == null ? Double.NaN : labelAccuracy(p, truth));
        });
        return t;
    }

    /** How often a kept pair's {@code chosen} really is the better output by the sandbox's ground truth (ties half). */
    public static double labelAccuracy(PreferencePairs pairs, GroundTruth truth) {
        PreferencePairs ok = pairs.kept();
        double s = 0;
        for (PairRow r : ok.rows()) s += truth.compare(r.prompt(), r.chosen(), r.rejected());
        return s / ok.size();
    }

    /** One preference model per method (stage {@code pm-<method>}), trained on that method's kept pairs. */
    public Map<Method, Trained> preferenceModels(
            PreferenceModelTrainer.Config config, Map<Method, PreferencePairs> pairs) {
        Map<Method, Trained> out = new LinkedHashMap<>();
        pairs.forEach((m, p) -> {
            String stage = "pm-" + m.id();
            Table log = run.trainingLog(stage, trainingSettings(config, "pairs", p), dir -> {
                try (CausalLM lm = Rlcd.load(model, device)) {
                    PreferenceModelTrainer.Result r =
                            new PreferenceModelTrainer(config).train(lm, p, dir.resolve("train"));
                    try (PreferenceModel pm = r.model()) {
                        pm.save(dir);
                    }
                    return r.log();
                }
            });
            log.setName("preference model on " + m.id() + " pairs");
            out.put(m, new Trained(run.root().resolve(stage), log));
        });
        return out;
    }

    /**
     * Held-out pairs labelled by the sandbox's ground truth (stage {@code ground-truth-pairs}): two base-model answers
     * per prompt, the better one chosen ({@link Demo#groundTruthPairs}).
     */
    public Table groundTruthPairs(GroundTruth truth, List<String> prompts, int newTokens, long seed) {
        return run.table(
                "ground-truth-pairs",
                settings(
                        "model",
                        modelSetting(model),
                        "device",
                        device,
                        "prompts",
                        prompts,
                        "newTokens",
                        newTokens,
                        "seed",
                        seed),
                () -> {
                    try (CausalLM lm = Rlcd.load(model, device)) {
                        return Demo.groundTruthPairs(lm, truth, prompts, newTokens, seed);
                    }
                });
    }

    /**
     * Stage {@code pm-agreement}: each preference model's agreement with {@code human} pairs (HH-RLHF's chosen vs
     * rejected) and with {@code truthPairs} (the sandbox's); either may be null, which leaves its columns NaN.
     */
    public Table preferenceModelAgreement(Map<Method, Trained> pms, Table human, Table truthPairs) {
        Map<String, Path> dirs = new LinkedHashMap<>();
        pms.forEach((m, t) -> dirs.put(m.id(), t.model()));
        return run.table("pm-agreement", settings("models", dirs, "human", human, "truthPairs", truthPairs), () -> {
            Table t = Table.create(
                    "preference models: agreement with human labels (and, in the sandbox, the ground" + " truth)",
                    StringColumn.create("preference_model"),
                    DoubleColumn.create("human_accuracy"),
                    DoubleColumn.create("human_mean_prob"),
                    DoubleColumn.create("ground_truth_accuracy"));
            dirs.forEach((name, dir) -> {
                try (CausalLM base = lora == null ? null : Rlcd.load(model, device);
                        PreferenceModel pm = PreferenceModel.load(dir, base)) {
                    Table h = human == null ? null : PreferenceModelTrainer.humanAgreement(pm, human);
                    Table g = truthPairs == null ? null : PreferenceModelTrainer.evaluate(pm, truthPairs);
                    t.stringColumn("preference_model").append(name);
                    t.doubleColumn("human_accuracy")
                            .append(
                                    h == null
                                            ? Double.NaN
                                            : h.doubleColumn("accuracy").get(0));
                    t.doubleColumn("human_mean_prob")
                            .append(
                                    h == null
                                            ? Double.NaN
                                            : h.doubleColumn("mean_prob").get(0));
                    t.doubleColumn("ground_truth_accuracy")
                            .append(
                                    g == null
                                            ? Double.NaN
                                            : g.doubleColumn("accuracy").get(0));
                }
            });
            return t;
        });
    }

    /** Stage {@code context-distillation}: supervised fine-tuning on RLCD's {@code o+} for the plain prompt. */
    public Trained contextDistillation(SftTrainer.Config config, PreferencePairs rlcdPairs) {
        String stage = "context-distillation";
        Table log = run.trainingLog(stage, trainingSettings(config, "pairs", rlcdPairs), dir -> {
            try (CausalLM lm = Rlcd.load(model, device)) {
                return new SftTrainer(config).train(lm, rlcdPairs, dir).log();
            }
        });
        log.setName("context distillation");
        return new Trained(run.root().resolve(stage), log);
    }

    /** Stage {@code dpo-rlcd}: DPO from the base model on the RLCD pairs (not in the paper). */
    public Trained dpo(DpoTrainer.Config config, PreferencePairs rlcdPairs) {
        String stage = "dpo-rlcd";
        Table log = run.trainingLog(stage, trainingSettings(config, "pairs", rlcdPairs), dir -> {
            try (CausalLM lm = Rlcd.load(model, device)) {
                return new DpoTrainer(config).train(lm, rlcdPairs, dir).log();
            }
        });
        log.setName("DPO on rlcd pairs");
        return new Trained(run.root().resolve(stage), log);
    }

    /**
     * PPO from the base model against each method's preference model (stage {@code ppo-<method>}); the trained policy
     * is {@code ppo-<method>/train/policy}. A restarted stage resumes from the trainer's checkpoints.
     */
    public Map<Method, Trained> ppo(PpoTrainer.Config config, Map<Method, Trained> pms, PromptSet prompts) {
        Map<Method, Trained> out = new LinkedHashMap<>();
        pms.forEach((m, pmStage) -> {
            String stage = "ppo-" + m.id();
            Table log = run.trainingLog(
                    stage, trainingSettings(config, "preferenceModel", pmStage.model(), "prompts", prompts), dir -> {
                        try (CausalLM policy = Rlcd.load(model, device);
                                PreferenceModel rm =
                                        PreferenceModel.load(pmStage.model(), lora == null ? null : policy)) {
                            return new PpoTrainer(config, policy, rm, prompts, dir.resolve("train")).train();
                        }
                    });
            log.setName("PPO on the " + m.id() + " preference model");
            out.put(m, new Trained(run.root().resolve(stage).resolve("train/policy"), log));
        });
        return out;
    }

    /**
     * Each model's answers to {@code prompts} (stage {@code outputs-<name>}); a null folder is the base model, any
     * other a trained one ({@link Rlcd#load(String, Path, CausalLM.Options)}). Resumes from its resume file.
     */
    public Map<String, Table> decode(Map<String, Path> models, PromptSet prompts, GenerationConfig decoding) {
        Map<String, Table> out = new LinkedHashMap<>();
        models.forEach((name, dir) -> {
            String stage = "outputs-" + name;
            out.put(
                    name,
                    run.table(
                            stage,
                            settings(
                                    "model",
                                    modelSetting(model),
                                    "trained",
                                    dir,
                                    "device",
                                    device,
                                    "prompts",
                                    prompts,
                                    "decoding",
                                    decoding),
                            () -> {
                                try (CausalLM lm =
                                        dir == null ? Rlcd.load(model, device) : Rlcd.load(model, dir, device)) {
                                    return Outputs.decode(lm, name, prompts, decoding, run.resumeFile(stage));
                                }
                            }));
        });
        return out;
    }

    /**
     * Stage {@code win-rates}: every comparison judged in both orders by each judge of {@code judging}, one summary
     * row per judge and comparison. Verdicts are cached in {@code judge-cache.jsonl}, keyed by what decides them.
     */
    public Table winRates(Judging judging, Map<String, Table> outputs, List<Comparison> comparisons) {
        for (Comparison c : comparisons) {
            for (String name : List.of(c.a(), c.b())) {
                if (!outputs.containsKey(name)) {
                    throw new RlcdException("comparison " + c.a() + " vs " + c.b() + ": no outputs named '" + name
                            + "' (have " + outputs.keySet() + ")");
                }
            }
        }
        Map<String, Object> settings = settings(
                "tasks",
                judging.tasks(),
                "judge",
                judging.apiModel() != null ? "api " + judging.apiModel() : modelSetting(judging.localModel()),
                "groundTruth",
                judging.truth() != null,
                "outputs",
                outputs,
                "comparisons",
                comparisons);
        return run.table("win-rates", settings, () -> {
            Path cache = run.root().resolve("judge-cache.jsonl");
            Table all = null;
            try (CausalLM local = judging.apiModel() != null ? null : Rlcd.load(judging.localModel(), device)) {
                List<Judge> judges = new ArrayList<>();
                for (JudgePrompt.Task task : judging.tasks()) {
                    judges.add(
                            local == null
                                    ? OpenAiJudge.forTask(task, judging.apiModel(), cache)
                                    : LocalJudge.of(local, task, cache));
                }
                if (judging.truth() != null) judges.add(new GroundTruthJudge(judging.truth()));
                for (Judge j : judges) {
                    for (Comparison c : comparisons) {
                        Table s = PairwiseEvaluation.of(outputs.get(c.a()), outputs.get(c.b()), j)
                                .run()
                                .summary();
                        all = all == null ? s : all.append(s);
                    }
                }
            }
            if (all == null) throw new RlcdException("win rates: no judge or no comparison given");
            all.setName("win rates (A vs B, both orders, ties half)");
            return all;
        });
    }

    /** The paper's name of a comparison against {@code baseline} (its rows in datasets/paper_results.csv). */
    private static final Map<String, String> PAPER_NAMES = Map.of(
            "ppo-rlaif",
            "RLCD vs RLAIF",
            "ppo-rlcd-rescore",
            "RLCD vs RLCD-Rescore",
            "base",
            "RLCD vs base model (LLaMA)",
            "context-distillation",
            "RLCD vs Context-Dist",
            "dpo-rlcd",
            "RLCD vs DPO (ours)");

    /** The paper's column for a judge question: Harm, HHelp, Help, Qual (Tables 2, 3, 6). */
    public static String paperColumn(JudgePrompt.Task task) {
        return switch (task) {
            case HARMLESS -> "Harm";
            case HARMLESS_HELPFUL -> "HHelp";
            case HELPFUL -> "Help";
            case OUTLINE -> "Qual";
        };
    }

    /**
     * The paper's Table 3 layout: one row per comparison, {@code RLCD / baseline} win rates in % by this run's judge
     * for each of {@code judging}'s tasks, beside the paper's GPT-4 figures for 7B and 30B simulation (empty where the
     * paper has none), and the sandbox's ground truth when it judged. Also written to {@code final-table.csv}.
     */
    public Table finalTable(String task, String scale, Judging judging, Table winRates, List<Comparison> comparisons) {
        Table paperAll = Rlcd.paperResults(task);
        Table paperRates = paperAll.where(paperAll.stringColumn("evaluation").isEqualTo("GPT-4 %"));
        Table t = Table.create(
                "RLCD vs baselines (" + task + ", " + scale + " scale): win rate % RLCD / baseline",
                StringColumn.create("comparison"));
        for (JudgePrompt.Task jt : judging.tasks()) {
            String col = paperColumn(jt);
            t.addColumns(
                    StringColumn.create(col + " (this run)"),
                    StringColumn.create(col + " paper 7B"),
                    StringColumn.create(col + " paper 30B"));
        }
        if (judging.truth() != null) t.addColumns(StringColumn.create("ground truth (sandbox)"));
        for (Comparison c : comparisons) {
            String paperName = PAPER_NAMES.getOrDefault(c.b(), c.a() + " vs " + c.b());
            t.stringColumn("comparison").append(paperName);
            for (JudgePrompt.Task jt : judging.tasks()) {
                String col = paperColumn(jt);
                t.stringColumn(col + " (this run)").append(percent(rate(winRates, c, "/" + jt.key(), true)));
                for (String size : List.of("7B", "30B")) {
                    Table r = paperRates.where(paperRates
                            .stringColumn("comparison")
                            .isEqualTo(paperName)
                            .and(paperRates.stringColumn("column").isEqualTo(col))
                            .and(paperRates.stringColumn("scale").isEqualTo(size)));
                    t.stringColumn(col + " paper " + size)
                            .append(
                                    r.rowCount() == 0
                                            ? ""
                                            : r.numberColumn("rlcd").getDouble(0) + " / "
                                                    + r.numberColumn("baseline").getDouble(0));
                }
            }
            if (judging.truth() != null) {
                t.stringColumn("ground truth (sandbox)").append(percent(rate(winRates, c, "ground-truth", false)));
            }
        }
        t.write().csv(run.root().resolve("final-table.csv").toFile());
        return t;
    }

    /** The win rate of a comparison by the judge whose name ends (or starts) with {@code judge}; NaN if not judged. */
    private static double rate(Table winRates, Comparison c, String judge, boolean suffix) {
        StringColumn judges = winRates.stringColumn("judge");
        Table r = winRates.where((suffix ? judges.endsWith(judge) : judges.startsWith(judge))
                .and(winRates.stringColumn("model_a").isEqualTo(c.a()))
                .and(winRates.stringColumn("model_b").isEqualTo(c.b())));
        return r.rowCount() == 0 ? Double.NaN : r.numberColumn("win_rate").getDouble(0);
    }

    private static String percent(double a) {
        return Double.isNaN(a) ? "" : String.format("%.1f / %.1f", 100 * a, 100 * (1 - a));
    }

    /** A trainer's settings: the model it starts from, the device, its config and what it learns from. */
    private Map<String, Object> trainingSettings(Object config, Object... inputs) {
        Map<String, Object> s = settings("model", modelSetting(model), "device", device, "config", config);
        s.putAll(settings(inputs));
        return s;
    }

    /** Name/value pairs as a settings map; unlike Map.of, a value may be null (the base model has no folder). */
    private static Map<String, Object> settings(Object... nameValue) {
        Map<String, Object> s = new LinkedHashMap<>();
        for (int i = 0; i < nameValue.length; i += 2) s.put((String) nameValue[i], nameValue[i + 1]);
        return s;
    }

    /**
     * A model as a setting: a local folder by its content (so a moved checkout or a kernel install's copy keys alike),
     * a Hugging Face repo id by its name.
     */
    private static Object modelSetting(String model) {
        try {
            Path p = Path.of(model);
            return Files.isDirectory(p) ? p : model;
        } catch (InvalidPathException e) {
            return model;
        }
    }
}
