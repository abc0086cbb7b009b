package rlcd4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.nn.Activation;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import rlcd4j.data.PreferencePairs;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.llama.LoraAdapter;
import rlcd4j.progress.Progress;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.Table;

/**
 * Direct preference optimisation (Rafailov et al. 2023), with IPO (Azar et al. 2023) as an option, on the same pairs a
 * preference model trains on.
 *
 * <pre>
 * h       = [log pi(chosen) - log pi(rejected)] - [log ref(chosen) - log ref(rejected)]
 * DPO     = -log sigmoid(beta h)                 log-probs summed over the response tokens
 * IPO     = (h - 1 / (2 beta))^2                 log-probs averaged over the response tokens (as TRL)
 * rewards = beta (log pi - log ref) of each side; logged with their margin and accuracy
 * </pre>
 *
 * The reference is the model as passed in, with the adapter it carries if any (the rule PPO follows too); its log-probs
 * are computed once before the first step, so no second copy is kept. The policy trains a copy of that adapter, or a
 * new one ({@link Config#lora()}), or, with neither, every weight.
 * Texts are formatted as for SFT: {@code prompt + ' '} then {@code response.rstrip() + '\n\nHuman:' + EOS}. Both
 * chosen and rejected log-probs are logged, since DPO may lower both while only their margin grows (trl#800).
 * {@link Config#defaults()} follow AlpacaFarm's {@code dpo.sh}. References: TRL {@code dpo_trainer.py}; AlpacaFarm
 * {@code examples/dpo.py}.
 */
public final class DpoTrainer {
    public static final String NAME = "dpo";

    public enum Loss {
        DPO,
        IPO
    }

    /**
     * Settings; defaults are AlpacaFarm's {@code examples/scripts/dpo.sh}.
     *
     * @param training        the shared optimisation settings ({@link TrainingArgs});
     *                        AlpacaFarm dpo.sh: lr 1e-6, 2 epochs, batch 128 (8 GPUs x 1 x 16 accumulation)
     * @param maxLength       tokens per text, cut at the end (512)
     * @param beta            strength of the implicit KL penalty (0.1)
     * @param loss            DPO (sigmoid) or IPO
     * @param lora            null: full fine-tuning; otherwise train a new adapter of this shape on the frozen base
     *                        (ignored when the model already carries an adapter: a copy of that one trains)
     */
    public record Config(TrainingArgs training, int maxLength, double beta, Loss loss, LoraAdapter.Config lora) {
        public Config {
            if (training == null || maxLength <= 1 || !(beta > 0) || loss == null) {
                throw new RlcdException("DPO config: training arguments must be given, max length above 1, "
                        + "beta positive and the loss DPO or IPO; got "
                        + training + ", max_length " + maxLength + ", beta " + beta + ", loss " + loss);
            }
        }

        public static Config defaults() {
            return new Config(TrainingArgs.of(1e-6, 2, 128), 512, 0.1, Loss.DPO, null);
        }

        public Config withTraining(TrainingArgs v) {
            return new Config(v, maxLength, beta, loss, lora);
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
            return new Config(training, v, beta, loss, lora);
        }

        public Config withBeta(double v) {
            return new Config(training, maxLength, v, loss, lora);
        }

        public Config withLoss(Loss v) {
            return new Config(training, maxLength, beta, v, lora);
        }

        public Config withLora(LoraAdapter.Config v) {
            return new Config(training, maxLength, beta, loss, v);
        }

        /** The settings as JSON (snake_case keys): logged at start and saved with every checkpoint. */
        public JsonObject toJson() {
            JsonObject o = training.toJson();
            o.addProperty("max_length", maxLength);
            o.addProperty("beta", beta);
            o.addProperty("loss", loss.name().toLowerCase());
            o.add("lora", PreferenceModelTrainer.loraJson(lora));
            return o;
        }

        @Override
        public String toString() {
            return Runs.describe(NAME, toJson());
        }
    }

    /**
     * @param model   the trained policy (the model passed in; see {@link SftTrainer.Result})
     * @param adapter the trained adapter, or null after full fine-tuning
     * @param log     one row per optimiser step: step, epoch, lr, loss, reward_chosen, reward_rejected, reward_margin,
     *                reward_accuracy, logp_chosen, logp_rejected, grad_norm
     */
    public record Result(CausalLM model, LoraAdapter adapter, Table log) {}

    private final Config config;
    private final TrainingArgs args; // config.training(), read at every step

    public DpoTrainer(Config config) {
        this.config = config;
        this.args = config.training();
    }

    public DpoTrainer() {
        this(Config.defaults());
    }

    public Config config() {
        return config;
    }

    /**
     * Per-pair loss [B] from the policy's and the reference's log-probs of each side (sums for DPO, per-token means for
     * IPO): DPO {@code softplus(-beta h)} = -log sigmoid(beta h), IPO {@code (h - 1/(2 beta))^2}.
     */
    public static NDArray loss(
            NDArray policyChosen,
            NDArray policyRejected,
            NDArray refChosen,
            NDArray refRejected,
            double beta,
            Loss type) {
        NDArray h = policyChosen.sub(policyRejected).sub(refChosen.sub(refRejected));
        return switch (type) {
            case DPO -> Activation.softPlus(h.mul(Runs.scalar(h, -beta)));
            case IPO -> h.sub(Runs.scalar(h, 1.0 / (2 * beta))).square();
        };
    }

    /** As {@link #train(CausalLM, PreferencePairs, Path)} on a table of pairs ({@link PreferencePairs#fromTable}). */
    public Result train(CausalLM model, Table pairs, Path outDir) {
        return train(model, PreferencePairs.fromTable(pairs), outDir);
    }

    /**
     * Trains {@code model} on the kept pairs of {@code all}. Checkpoints, log, resume and the saved result are as for
     * {@link SftTrainer#train}.
     */
    public Result train(CausalLM model, PreferencePairs all, Path outDir) {
        PreferencePairs pairs = all.kept();
        String what = "preference pairs" + (pairs.name().isEmpty() ? "" : " " + pairs.name());
        List<String> prompts = pairs.prompts();
        List<String> chosen = pairs.chosen();
        List<String> rejected = pairs.rejected();
        int n = prompts.size();
        if (n == 0) throw new RlcdException(what + ": no rows");
        String fp = Runs.fingerprint(prompts, chosen, rejected);
        long stepsPerEpoch = (n + args.batchSize() - 1) / args.batchSize();
        long total = stepsPerEpoch * args.epochs();
        LrSchedule lr = LrSchedule.withWarmupRatio(args.schedule(), args.learningRate(), args.warmupRatio(), total);
        TrainLoop.Settings settings = new TrainLoop.Settings(
                NAME,
                config.toJson(),
                fp,
                args.seed(),
                total,
                lr,
                args.maxGradNorm(),
                outDir,
                args.saveEvery(),
                args.keepCheckpoints(),
                0);
        boolean ipo = config.loss() == Loss.IPO;

        NDManager m = model.manager();
        // The reference is the model as it is passed in, with the adapter it carries (e.g. an SFT adapter), as in
        // PPO; that adapter is what the policy goes on training, as a copy. Computed before a checkpoint may be
        // restored.
        LoraAdapter start = model.model().adapter();
        model.model().setTraining(false);
        double[][] ref = referenceLogprobs(model, prompts, chosen, rejected, ipo);
        LoraAdapter adapter = start != null
                ? start.copy(m)
                : config.lora() == null ? null : LoraAdapter.create(model.config(), config.lora(), m, args.seed() + 1);
        boolean ok = false;
        try (AdamW opt = new AdamW(AdamW.Config.defaults().withWeightDecay(args.weightDecay()), m)) {
            model.model().setAdapter(adapter);
            Map<String, NDArray> params =
                    adapter != null ? Parameters.lora(adapter, model.model().dtype()) : Parameters.full(model.model());
            float beta = (float) config.beta();
            TrainLoop loop = new TrainLoop(
                    settings, params, opt, TrainLoop.scalerFor(model.model().dtype()), m);
            Table log = loop.run(new TrainLoop.Task() {
                @Override
                public Map<String, Double> step(long step, TrainLoop.StepContext ctx) {
                    int[] order = Runs.order(n, args.seed(), step / stepsPerEpoch);
                    int from = (int) ((step % stepsPerEpoch) * args.batchSize());
                    int count = Math.min(n, from + args.batchSize()) - from;
                    model.model().setTraining(true);
                    // loss, reward chosen, reward rejected, accuracy, logp chosen, logp rejected
                    double[] s = new double[6];
                    ctx.accumulate(count, args.microBatchSize(), (c, e, pass) -> {
                        int k = e - c;
                        List<String> ps = new ArrayList<>(), rs = new ArrayList<>();
                        float[] refC = new float[k], refR = new float[k];
                        for (int side = 0; side < 2; side++) {
                            for (int i = 0; i < k; i++) {
                                int row = order[from + c + i];
                                String[] t = SftTrainer.text(
                                        prompts.get(row), side == 0 ? chosen.get(row) : rejected.get(row));
                                ps.add(t[0]);
                                rs.add(t[1]);
                                refC[i] = (float) ref[0][row];
                                refR[i] = (float) ref[1][row];
                            }
                        }
                        SequenceBatch b = SequenceBatch.of(m, model.tokenizer(), ps, rs, config.maxLength(), true);
                        NDArray lp = sequenceLogprobs(b, b.tokenLogprobs(model.model()), ipo); // [2k]
                        NDArray pc = lp.get("0:" + k), pr = lp.get(k + ":");
                        NDArray rC = m.create(refC), rR = m.create(refR);
                        s[0] += pass.backward(
                                loss(pc, pr, rC, rR, beta, config.loss()).sum().div(Runs.scalar(m, count)));
                        float[] pcv = pc.toFloatArray(), prv = pr.toFloatArray();
                        for (int i = 0; i < k; i++) {
                            double a = beta * (pcv[i] - refC[i]), r = beta * (prv[i] - refR[i]);
                            s[1] += a / count;
                            s[2] += r / count;
                            if (a > r) s[3] += 1.0 / count;
                            s[4] += pcv[i] / count;
                            s[5] += prv[i] / count;
                        }
                    });
                    Map<String, Double> row = new LinkedHashMap<>();
                    row.put("epoch", (step + 1) / (double) stepsPerEpoch);
                    row.put("lr", ctx.lr());
                    row.put("loss", s[0]);
                    row.put("reward_chosen", s[1]);
                    row.put("reward_rejected", s[2]);
                    row.put("reward_margin", s[1] - s[2]);
                    row.put("reward_accuracy", s[3]);
                    row.put("logp_chosen", s[4]);
                    row.put("logp_rejected", s[5]);
                    return row;
                }

                @Override
                public String status(Map<String, Double> row) {
                    return String.format("loss %.4f margin %.4f", row.get("loss"), row.get("reward_margin"));
                }
            });
            model.model().setTraining(false);
            if (outDir != null) {
                if (adapter != null)
                    adapter.save(
                            outDir,
                            model.folder() == null
                                    ? model.name()
                                    : model.folder().toAbsolutePath().toString());
                else model.save(outDir);
            }
            ok = true;
            return new Result(model, adapter, log);
        } finally {
            model.model().setTraining(false);
            if (!ok && adapter != null) {
                model.model().setAdapter(start);
                adapter.close();
            }
        }
    }

    /** Sequence log-probs [B]: summed over response tokens, or averaged for IPO. */
    private static NDArray sequenceLogprobs(SequenceBatch b, NDArray tokenLogprobs, boolean mean) {
        NDArray sum = b.sumOverResponse(tokenLogprobs);
        return mean ? sum.div(b.responseMask().sum(new int[] {1}).maximum(1f)) : sum;
    }

    /** The reference's log-probs of every pair's chosen [0] and rejected [1] response, without gradients. */
    private double[][] referenceLogprobs(
            CausalLM model, List<String> prompts, List<String> chosen, List<String> rejected, boolean mean) {
        int n = prompts.size();
        double[][] out = new double[2][n];
        int batch = Math.max(1, args.microBatchSize());
        try (Progress p = Progress.start("dpo reference log-probs", 2L * n)) {
            for (int side = 0; side < 2; side++) {
                for (int s = 0; s < n; s += batch) {
                    int e = Math.min(n, s + batch);
                    List<String> ps = new ArrayList<>(), rs = new ArrayList<>();
                    for (int i = s; i < e; i++) {
                        String[] t = SftTrainer.text(prompts.get(i), side == 0 ? chosen.get(i) : rejected.get(i));
                        ps.add(t[0]);
                        rs.add(t[1]);
                    }
                    try (NDScope scope = new NDScope()) {
                        scope.suppressNotUsedWarning();
                        SequenceBatch b =
                                SequenceBatch.of(model.manager(), model.tokenizer(), ps, rs, config.maxLength(), true);
                        float[] v = sequenceLogprobs(b, b.tokenLogprobs(model.model()), mean)
                                .toFloatArray();
                        for (int i = 0; i < v.length; i++) out[side][s + i] = v[i];
                    }
                    p.advance(e - s);
                }
            }
        }
        return out;
    }
}
