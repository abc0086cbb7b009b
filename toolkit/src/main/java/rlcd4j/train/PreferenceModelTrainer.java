package rlcd4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.nn.Activation;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import rlcd4j.data.PreferencePairs;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.llama.LoraAdapter;
import rlcd4j.progress.Progress;
import rlcd4j.util.PythonStrings;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.Table;

/**
 * Trains a preference (reward) model on pairs, as RLCD did with AlpacaFarm's reward-modelling script.
 *
 * <pre>
 * r(x, y)  = head(backbone(x.rstrip() + ' ' + y.strip() + '\n\nHuman:'))[last real token]     (PreferenceModel.text)
 * loss     = BCEWithLogits(r(x, chosen) - r(x, rejected), p_chosen)      averaged over the step's pairs
 * </pre>
 *
 * The paper writes the loss as {@code BCEWithLogits(r(output_2) - r(output_1), P(output_2 better))}; with
 * {@code chosen}/{@code rejected} and {@code p_chosen} it is the same loss, since BCE(x, p) = BCE(-x, 1 - p). RLCD's
 * pairs carry hard labels ({@code p_chosen} = 1, the default when the column is absent); RLAIF's carry the scorer's
 * soft probability.
 *
 * <p>Input: a table with columns {@code prompt}, {@code chosen}, {@code rejected} and optionally {@code p_chosen}.
 * {@link Config#defaults()} are the paper's settings. A held-out split ({@code evalSize} pairs, seeded) is scored
 * every {@code evalEvery} steps and at the end: accuracy and mean margin. {@link #humanAgreement} scores human-labelled
 * pairs (Anthropic HH-RLHF) as the paper's Table 5 does. References: AlpacaFarm {@code reward_modeling.sh},
 * {@code rl/reward_model.py}; RLCD patch {@code evaluate_reward_model_human_agreement.py}.
 */
public final class PreferenceModelTrainer {
    public static final String NAME = "train-pm";

    /**
     * Settings; defaults are AlpacaFarm's {@code reward_modeling.sh} as RLCD ran it.
     *
     * @param training        the shared optimisation settings ({@link TrainingArgs});
     *                        reward_modeling.sh: lr 3e-6, 1 epoch, batch 16 (8 GPUs x 1 x 2 accumulation)
     * @param maxLength       tokens per text, longer texts are cut at the end (512)
     * @param lora            null: full fine-tuning, as the paper; otherwise the adapter to train on a frozen base
     * @param evalSize        pairs held out from the data (500, as AlpacaFarm); 0: none
     * @param evalEvery       evaluate every this many steps (10, as AlpacaFarm); 0: only at the end
     * @param evalBatchSize   pairs per forward when evaluating (8)
     */
    public record Config(
            TrainingArgs training,
            int maxLength,
            LoraAdapter.Config lora,
            int evalSize,
            int evalEvery,
            int evalBatchSize) {
        public Config {
            if (training == null || maxLength <= 1 || evalSize < 0 || evalEvery < 0 || evalBatchSize <= 0) {
                throw new RlcdException("preference-model config: training arguments must be given, "
                        + "max length above 1, eval size and interval non-negative and the eval batch positive; got "
                        + training + ", max_length " + maxLength + ", eval_size " + evalSize + ", eval_every "
                        + evalEvery + ", eval_batch_size " + evalBatchSize);
            }
        }

        public static Config defaults() {
            return new Config(TrainingArgs.of(3e-6, 1, 16), 512, null, 500, 10, 8);
        }

        public Config withTraining(TrainingArgs v) {
            return new Config(v, maxLength, lora, evalSize, evalEvery, evalBatchSize);
        }

        public Config withLearningRate(double v) {
            return withTraining(training.withLearningRate(v));
        }

        public Config withEpochs(int v) {
            return withTraining(training.withEpochs(v));
        }

        public Config withBatchSize(int v) {
            return withTraining(training.withBatchSize(v));
        }

        public Config withMicroBatchSize(int v) {
            return withTraining(training.withMicroBatchSize(v));
        }

        public Config withSchedule(LrSchedule.Kind v) {
            return withTraining(training.withSchedule(v));
        }

        public Config withWarmupRatio(double v) {
            return withTraining(training.withWarmupRatio(v));
        }

        public Config withWeightDecay(double v) {
            return withTraining(training.withWeightDecay(v));
        }

        public Config withMaxGradNorm(double v) {
            return withTraining(training.withMaxGradNorm(v));
        }

        public Config withSeed(long v) {
            return withTraining(training.withSeed(v));
        }

        public Config withSaveEvery(int v) {
            return withTraining(training.withSaveEvery(v));
        }

        public Config withKeepCheckpoints(int v) {
            return withTraining(training.withKeepCheckpoints(v));
        }

        public Config withMaxLength(int v) {
            return new Config(training, v, lora, evalSize, evalEvery, evalBatchSize);
        }

        public Config withLora(LoraAdapter.Config v) {
            return new Config(training, maxLength, v, evalSize, evalEvery, evalBatchSize);
        }

        public Config withEvalSize(int v) {
            return new Config(training, maxLength, lora, v, evalEvery, evalBatchSize);
        }

        public Config withEvalEvery(int v) {
            return new Config(training, maxLength, lora, evalSize, v, evalBatchSize);
        }

        public Config withEvalBatchSize(int v) {
            return new Config(training, maxLength, lora, evalSize, evalEvery, v);
        }

        /** The settings as JSON (snake_case keys): logged at start and saved with every checkpoint. */
        public JsonObject toJson() {
            JsonObject o = training.toJson();
            o.addProperty("max_length", maxLength);
            o.add("lora", loraJson(lora));
            o.addProperty("eval_size", evalSize);
            o.addProperty("eval_every", evalEvery);
            o.addProperty("eval_batch_size", evalBatchSize);
            return o;
        }

        @Override
        public String toString() {
            return Runs.describe(NAME, toJson());
        }
    }

    /**
     * What training produced.
     *
     * @param model the trained preference model (the caller closes it; with full fine-tuning its backbone is the
     *              {@code backbone} passed in, trained in place)
     * @param log   one row per optimiser step: step, epoch, lr, loss, accuracy, margin, grad_norm, and eval_* columns
     *              on the steps that evaluated
     * @param eval  held-out metrics at the end (one row), or an empty table when nothing was held out
     */
    public record Result(PreferenceModel model, Table log, Table eval) {}

    private final Config config;
    private final TrainingArgs args; // config.training(), read at every step

    public PreferenceModelTrainer(Config config) {
        this.config = config;
        this.args = config.training();
    }

    public PreferenceModelTrainer() {
        this(Config.defaults());
    }

    public Config config() {
        return config;
    }

    /**
     * Per-pair loss [B]: {@code BCEWithLogits(rChosen - rRejected, pChosen) = softplus(x) - p x} with
     * {@code x = rChosen - rRejected}.
     */
    public static NDArray loss(NDArray rChosen, NDArray rRejected, NDArray pChosen) {
        NDArray x = rChosen.sub(rRejected);
        return Activation.softPlus(x).sub(x.mul(pChosen));
    }

    /** As {@link #train(CausalLM, PreferencePairs, Path)} on a table of pairs ({@link PreferencePairs#fromTable}). */
    public Result train(CausalLM backbone, Table pairs, Path outDir) {
        return train(backbone, PreferencePairs.fromTable(pairs), outDir);
    }

    /**
     * Trains a new preference model on {@code backbone} with the kept pairs of {@code all}. With {@code outDir}
     * non-null, checkpoints go to {@code outDir/checkpoint-<step>}, the log to {@code outDir/log.jsonl} and the final
     * model to {@code outDir} ({@link PreferenceModel#save}); a run finds its latest checkpoint there and resumes from
     * it, ending with the same weights as a run that was never interrupted.
     */
    public Result train(CausalLM backbone, PreferencePairs all, Path outDir) {
        PreferencePairs pairs = all.kept();
        String what = "preference pairs" + (pairs.name().isEmpty() ? "" : " " + pairs.name());
        List<String> prompts = pairs.prompts();
        List<String> chosen = pairs.chosen();
        List<String> rejected = pairs.rejected();
        double[] pChosen = Runs.pChosen(pairs, what);
        int n = prompts.size();
        if (config.evalSize() >= n) {
            throw new RlcdException(what + ": " + n + " pairs, but eval size is " + config.evalSize()
                    + "; hold out fewer (withEvalSize)");
        }
        // Held-out split: the first evalSize pairs of a seeded permutation, the rest trains.
        int[] perm = Runs.order(n, args.seed(), -1);
        int[] evalIdx = java.util.Arrays.copyOfRange(perm, 0, config.evalSize());
        int[] trainIdx = java.util.Arrays.copyOfRange(perm, config.evalSize(), n);
        java.util.Arrays.sort(evalIdx);
        java.util.Arrays.sort(trainIdx);
        PreferencePairs evalPairs = pairs.select(evalIdx);
        int nTrain = trainIdx.length;

        String data = Runs.fingerprint(
                prompts,
                chosen,
                rejected,
                java.util.Arrays.stream(pChosen).mapToObj(Double::toString).toList());
        long stepsPerEpoch = (nTrain + args.batchSize() - 1) / args.batchSize();
        long total = stepsPerEpoch * args.epochs();
        LrSchedule lr = LrSchedule.withWarmupRatio(args.schedule(), args.learningRate(), args.warmupRatio(), total);
        TrainLoop.Settings settings = new TrainLoop.Settings(
                NAME,
                config.toJson(),
                data,
                args.seed(),
                total,
                lr,
                args.maxGradNorm(),
                outDir,
                args.saveEvery(),
                args.keepCheckpoints(),
                config.evalSize() > 0 ? config.evalEvery() : 0);

        PreferenceModel pm = PreferenceModel.create(backbone, config.lora(), config.maxLength(), args.seed());
        boolean ok = false;
        NDManager m = backbone.manager();
        try (AdamW opt = new AdamW(AdamW.Config.defaults().withWeightDecay(args.weightDecay()), m)) {
            TrainLoop loop = new TrainLoop(
                    settings,
                    pm.trainable(),
                    opt,
                    TrainLoop.scalerFor(backbone.model().dtype()),
                    m);
            Table log = loop.run(new TrainLoop.Task() {
                @Override
                public Map<String, Double> step(long step, TrainLoop.StepContext ctx) {
                    int[] order = Runs.order(nTrain, args.seed(), step / stepsPerEpoch);
                    int from = (int) ((step % stepsPerEpoch) * args.batchSize());
                    int count = Math.min(nTrain, from + args.batchSize()) - from;
                    backbone.model().setTraining(true);
                    double[] sums = new double[3]; // loss, accuracy, margin
                    ctx.accumulate(count, args.microBatchSize(), (c, e, pass) -> {
                        int k = e - c;
                        List<String> ps = new ArrayList<>(), rs = new ArrayList<>();
                        float[] labels = new float[k];
                        for (int side = 0; side < 2; side++) {
                            for (int i = 0; i < k; i++) {
                                int row = trainIdx[order[from + c + i]];
                                String[] t = PreferenceModel.text(
                                        prompts.get(row), side == 0 ? chosen.get(row) : rejected.get(row));
                                ps.add(t[0]);
                                rs.add(t[1]);
                                labels[i] = (float) pChosen[row];
                            }
                        }
                        SequenceBatch b = SequenceBatch.of(m, backbone.tokenizer(), ps, rs, config.maxLength(), false);
                        NDArray r = pm.rewards(b);
                        sums[0] += pass.backward(loss(r.get("0:" + k), r.get(k + ":"), m.create(labels))
                                .sum()
                                .div(Runs.scalar(m, count)));
                        float[] rv = r.toFloatArray();
                        for (int i = 0; i < k; i++) {
                            double d = rv[i] - rv[k + i];
                            sums[2] += d / count;
                            if (labels[i] >= 0.5 ? d > 0 : d < 0) sums[1] += 1.0 / count;
                        }
                    });
                    Map<String, Double> row = new LinkedHashMap<>();
                    row.put("epoch", (step + 1) / (double) stepsPerEpoch);
                    row.put("lr", ctx.lr());
                    row.put("loss", sums[0]);
                    row.put("accuracy", sums[1]);
                    row.put("margin", sums[2]);
                    return row;
                }

                @Override
                public Map<String, Double> evaluate() {
                    if (config.evalSize() == 0) return Map.of();
                    backbone.model().setTraining(false);
                    return metrics(pm, evalPairs, config.evalBatchSize());
                }

                @Override
                public String status(Map<String, Double> row) {
                    return String.format(
                            "loss %.4f acc %.2f margin %.3f", row.get("loss"), row.get("accuracy"), row.get("margin"));
                }
            });
            Map<String, Double> evalNow = loop.lastEval();
            backbone.model().setTraining(false);
            if (evalNow.isEmpty() && config.evalSize() > 0) evalNow = metrics(pm, evalPairs, config.evalBatchSize());
            if (outDir != null) pm.save(outDir);
            ok = true;
            return new Result(pm, log, toTable("held-out", evalNow));
        } finally {
            backbone.model().setTraining(false);
            if (!ok) pm.close();
        }
    }

    /**
     * Held-out metrics of {@code pm} on pairs ({@code prompt}, {@code chosen}, {@code rejected}, optional
     * {@code p_chosen}): one row with {@code pairs}, {@code accuracy} (the margin has the label's sign), {@code margin}
     * (mean r_chosen - r_rejected) and {@code loss} (mean BCE).
     */
    public static Table evaluate(PreferenceModel pm, Table pairs) {
        return evaluate(pm, PreferencePairs.fromTable(pairs));
    }

    /** As {@link #evaluate(PreferenceModel, Table)} on the kept pairs of {@code pairs}. */
    public static Table evaluate(PreferenceModel pm, PreferencePairs pairs) {
        return toTable("held-out", metrics(pm, pairs.kept(), 8));
    }

    private static Map<String, Double> metrics(PreferenceModel pm, PreferencePairs pairs, int batch) {
        String what = "preference pairs" + (pairs.name().isEmpty() ? "" : " " + pairs.name());
        List<String> prompts = pairs.prompts();
        double[] p = Runs.pChosen(pairs, what);
        double[] rc = pm.score(prompts, pairs.chosen(), batch);
        double[] rr = pm.score(prompts, pairs.rejected(), batch);
        double acc = 0, margin = 0, loss = 0;
        int n = rc.length;
        for (int i = 0; i < n; i++) {
            double d = rc[i] - rr[i];
            if (p[i] >= 0.5 ? d > 0 : d < 0) acc++;
            margin += d;
            loss += Math.max(d, 0) + Math.log1p(Math.exp(-Math.abs(d))) - p[i] * d;
        }
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("pairs", (double) n);
        out.put("accuracy", n == 0 ? Double.NaN : acc / n);
        out.put("margin", n == 0 ? Double.NaN : margin / n);
        out.put("loss", n == 0 ? Double.NaN : loss / n);
        return out;
    }

    /**
     * Agreement with human-labelled pairs, as the paper's Table 5 (RLCD's
     * {@code evaluate_reward_model_human_agreement.py}): each side is scored as a whole transcript,
     * {@code chosen.strip() + '\n\nHuman:'} and {@code rejected.strip() + '\n\nHuman:'}, cut at the model's max length
     * like the paper's tokenizer. HH-RLHF's sides already hold the conversation, so a {@code prompt} column (as
     * {@link rlcd4j.data.HhRlhf#pairs()} has) is not put in front of them; see {@link #humanAgreementTexts}.
     * Returns one row: {@code pairs}, {@code accuracy} (r_chosen > r_rejected) and {@code mean_prob} (mean
     * sigmoid(r_chosen - r_rejected)).
     */
    public static Table humanAgreement(PreferenceModel pm, Table humanPairs) {
        return humanAgreement(pm, humanPairs, 8);
    }

    public static Table humanAgreement(PreferenceModel pm, Table humanPairs, int batchSize) {
        String what = "human pairs" + (humanPairs.name() == null ? "" : " " + humanPairs.name());
        List<String> chosen = Runs.texts(humanPairs, "chosen", what),
                rejected = Runs.texts(humanPairs, "rejected", what);
        List<String> prompts = humanPairs.containsColumn("prompt") ? Runs.texts(humanPairs, "prompt", what) : null;
        List<String> c = new ArrayList<>(), r = new ArrayList<>();
        for (int i = 0; i < chosen.size(); i++) {
            String prompt = prompts == null ? null : prompts.get(i);
            List<String> texts = humanAgreementTexts(prompt, chosen.get(i), rejected.get(i));
            c.add(texts.get(0));
            r.add(texts.get(1));
        }
        double[] rc = scoreTexts(pm, c, batchSize), rr = scoreTexts(pm, r, batchSize);
        double acc = 0, prob = 0, ties = 0;
        for (int i = 0; i < rc.length; i++) {
            double d = rc[i] - rr[i];
            if (d > 0) acc++;
            if (d == 0) ties++; // the same reward: in practice, both sides cut to the same text at maxLength
            prob += 1 / (1 + Math.exp(-d));
        }
        int n = rc.length;
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("pairs", (double) n);
        out.put("accuracy", n == 0 ? Double.NaN : acc / n);
        out.put("mean_prob", n == 0 ? Double.NaN : prob / n);
        out.put("ties", n == 0 ? Double.NaN : ties / n);
        return toTable("human agreement", out);
    }

    /**
     * The two texts {@link #humanAgreement} scores for one pair. A row whose {@code chosen} begins with its prompt (or
     * that has none) holds whole conversations, as HH-RLHF's do: each side is {@link PreferenceModel#transcript}, the
     * paper's form. Otherwise the sides are answers to the prompt (TRL's split format) and are read as training reads a
     * pair, {@link PreferenceModel#input}. For an HH-RLHF row, whose answers follow "Assistant:" after one space, the
     * two forms are the same text.
     */
    static List<String> humanAgreementTexts(String prompt, String chosen, String rejected) {
        String p = prompt == null ? null : PythonStrings.strip(prompt);
        if (p == null || PythonStrings.strip(chosen).startsWith(p)) {
            return List.of(PreferenceModel.transcript(chosen), PreferenceModel.transcript(rejected));
        }
        return List.of(PreferenceModel.input(prompt, chosen), PreferenceModel.input(prompt, rejected));
    }

    /** Rewards of whole texts (no prompt/response split), batched, without gradients. */
    private static double[] scoreTexts(PreferenceModel pm, List<String> texts, int batchSize) {
        double[] out = new double[texts.size()];
        CausalLM lm = pm.backbone();
        try (Progress p = Progress.start("score", texts.size())) {
            for (int s = 0; s < texts.size(); s += batchSize) {
                int e = Math.min(texts.size(), s + batchSize);
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    List<String> part = texts.subList(s, e);
                    SequenceBatch b = SequenceBatch.of(
                            lm.manager(),
                            lm.tokenizer(),
                            part,
                            java.util.Collections.nCopies(part.size(), ""),
                            pm.maxLength(),
                            false);
                    float[] v = pm.rewards(b).toFloatArray();
                    for (int i = 0; i < v.length; i++) out[s + i] = v[i];
                }
                p.advance(e - s);
            }
        }
        return out;
    }

    private static Table toTable(String name, Map<String, Double> metrics) {
        Table t = Table.create(name);
        metrics.forEach((k, v) -> {
            if (k.equals("pairs")) t.addColumns(IntColumn.create(k, new int[] {v.intValue()}));
            else t.addColumns(DoubleColumn.create(k, new double[] {v}));
        });
        return t;
    }

    static JsonObject loraJson(LoraAdapter.Config lora) {
        if (lora == null) return null;
        JsonObject o = new JsonObject();
        o.addProperty("rank", lora.rank());
        o.addProperty("alpha", lora.alpha());
        o.addProperty("dropout", lora.dropout());
        JsonArray t = new JsonArray();
        LoraAdapter.ALL_TARGETS.stream().filter(lora.targets()::contains).forEach(t::add);
        o.add("targets", t);
        return o;
    }

    /** A LoRA config from PEFT-style arguments; targets may be a comma list or "all". */
    public static LoraAdapter.Config lora(int rank, double alpha, double dropout, String targets) {
        Set<String> t = new LinkedHashSet<>();
        if (targets.equals("all")) t.addAll(LoraAdapter.ALL_TARGETS);
        else for (String s : targets.split(",")) if (!s.isBlank()) t.add(s.strip());
        return new LoraAdapter.Config(rank, alpha, dropout, t);
    }
}
