package rlcd4j.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rlcd4j.data.PromptSet;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.Generation;
import rlcd4j.engine.GenerationConfig;
import rlcd4j.engine.Precision;
import rlcd4j.engine.llama.LlamaModel;
import rlcd4j.engine.llama.LoraAdapter;
import rlcd4j.engine.llama.Safetensors;
import rlcd4j.util.RlcdException;
import rlcd4j.util.Seeds;
import tech.tablesaw.api.BooleanColumn;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * PPO as RLCD ran it through AlpacaFarm's {@code PPOTrainer} (Yang et al. 2023, §4; Dubois et al. 2023), in one file.
 *
 * <p>One PPO step: sample {@code rolloutBatchSize} responses from the policy (temperature 1, no top-k/top-p, stop at
 * {@code "\n\nHuman:"}); score each with the reward model on {@code prompt + ' ' + response + "\n\nHuman:"}, or give it
 * {@code penaltyReward} (-1) when it never produced the stop marker; shape per-token rewards
 * {@code -klCoef * max(logp - logp_ref, 0)} with the score added at the last real response token; whiten the shaped
 * rewards (divide by their std, keep the mean); GAE; whiten the advantages; then {@code ppoEpochs} passes of clipped
 * policy + clipped value loss over shuffled minibatches of {@code stepBatchSize} rollouts, AdamW on policy and value
 * together with global-norm clipping. The learning rate follows HF's linear schedule with warmup, stepped once per
 * PPO step, as AlpacaFarm does.
 *
 * <p>Models. With LoRA the policy, the frozen reference (adapter off), the value model and the reward model share one
 * base {@link LlamaModel}, each adding only an adapter (and a head); {@link LlamaModel#setAdapter} switches between
 * them. With full fine-tuning the reference and the value backbone are copies. The value model starts from the reward
 * model (its backbone, and a copy of its adapter) with a zero-initialised value head (AlpacaFarm's
 * {@code init_value_with_reward}); with a programmatic {@link RewardFunction} it starts from the policy's backbone.
 *
 * <p>Resume. A checkpoint ({@link Checkpoint}) holds policy and value weights, AdamW moments, the KL coefficient and
 * the step. Everything random is a function of (seed, step): prompt order, sampling seeds, minibatch shuffles and
 * LoRA dropout. So a run killed at any point and restarted with the same arguments ends with the same weights as an
 * uninterrupted one (tested).
 *
 * <p>Deliberate differences from AlpacaFarm, each a fix its authors or peers point out: statistics (whitening, loss
 * means) are over real response tokens only, not over right-padding; {@code checkpoint-N} holds N updates (AlpacaFarm
 * saves before step N runs).
 */
public final class PpoTrainer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PpoTrainer.class);

    /**
     * Settings; {@link #defaults()} are the paper's (RLCD README and AlpacaFarm's {@code rlhf_ppo.sh}, see
     * docs/ppo.md). {@code stop} null or empty switches off both stopping and the penalty.
     */
    public record Config(
            double klCoef, // 0.002 (RLCD: 0.002 or 0.004)
            boolean adaptiveKl, // false: fixed coefficient
            double klTarget, // 6 (AlpacaFarm's target_kl, adaptive only)
            double klBeta, // 0.1 (AlpacaFarm's k_beta, adaptive only)
            double gamma, // 1
            double lambda, // 1
            double clip, // 0.2
            double valueClip, // 0.2
            double vfCoef, // 0.1
            int ppoEpochs, // 2
            double lr, // 1e-5
            double adamEps, // 1e-5
            int warmupSteps, // 5 (PPO steps, linear)
            double maxGradNorm, // 1.0
            int rolloutBatchSize, // 512
            int stepBatchSize, // 256 rollouts per optimiser step
            int microBatchSize, // 4 rollouts per forward/backward (gradient accumulation; no effect on the result)
            // 32 prompts sampled together (memory/speed only: each row has its own seeded sampler)
            int generationBatchSize,
            int responseLength, // 300 new tokens
            double temperature, // 1.0
            int topK, // 0 (off)
            double topP, // 1.0 (off)
            int queryLength, // 192 tokens; longer prompts are dropped
            String stop, // "\n\nHuman:": the response is cut there before scoring
            boolean stopRollouts, // false: sample all responseLength tokens (the paper); true: stop at the marker
            double penaltyReward, // -1 for a response without the stop marker (or empty before it)
            boolean whitenRewards, // true
            int totalSteps, // 80 (RLCD: 40-80)
            int saveSteps, // 20
            long seed, // 42
            LoraAdapter.Config lora // null: full fine-tuning, as the paper
            ) {
        public Config {
            positive("ppoEpochs", ppoEpochs);
            positive("rolloutBatchSize", rolloutBatchSize);
            positive("stepBatchSize", stepBatchSize);
            positive("microBatchSize", microBatchSize);
            positive("generationBatchSize", generationBatchSize);
            positive("responseLength", responseLength);
            positive("queryLength", queryLength);
            positive("totalSteps", totalSteps);
            positive("saveSteps", saveSteps);
            if (stepBatchSize > rolloutBatchSize) {
                throw new RlcdException(
                        "PPO config: stepBatchSize " + stepBatchSize + " exceeds rolloutBatchSize " + rolloutBatchSize);
            }
            if (klCoef < 0) throw new RlcdException("PPO config: klCoef must be >= 0, got " + klCoef);
            if (!(lr > 0)) throw new RlcdException("PPO config: lr must be positive, got " + lr);
            if (warmupSteps < 0) throw new RlcdException("PPO config: warmupSteps must be >= 0, got " + warmupSteps);
            if (temperature <= 0)
                throw new RlcdException(
                        "PPO config: temperature must be positive (rollouts sample), got " + temperature);
        }

        private static void positive(String field, int v) {
            if (v <= 0) throw new RlcdException("PPO config: " + field + " must be positive, got " + v);
        }

        public static Config defaults() {
            return new Config(
                    0.002,
                    false,
                    6,
                    0.1,
                    1,
                    1,
                    0.2,
                    0.2,
                    0.1,
                    2,
                    1e-5,
                    1e-5,
                    5,
                    1.0,
                    512,
                    256,
                    4,
                    32,
                    300,
                    1.0,
                    0,
                    1.0,
                    192,
                    PreferenceModel.END,
                    false,
                    -1.0,
                    true,
                    80,
                    20,
                    42,
                    null);
        }

        public Config withKlCoef(double v) {
            return with(d -> d.klCoef = v);
        }

        public Config withAdaptiveKl(double target, double beta) {
            return with(d -> {
                d.adaptiveKl = true;
                d.klTarget = target;
                d.klBeta = beta;
            });
        }

        public Config withGae(double g, double l) {
            return with(d -> {
                d.gamma = g;
                d.lambda = l;
            });
        }

        public Config withClip(double policy, double value) {
            return with(d -> {
                d.clip = policy;
                d.valueClip = value;
            });
        }

        public Config withVfCoef(double v) {
            return with(d -> d.vfCoef = v);
        }

        public Config withPpoEpochs(int v) {
            return with(d -> d.ppoEpochs = v);
        }

        public Config withLr(double v) {
            return with(d -> d.lr = v);
        }

        public Config withWarmupSteps(int v) {
            return with(d -> d.warmupSteps = v);
        }

        public Config withMaxGradNorm(double v) {
            return with(d -> d.maxGradNorm = v);
        }

        public Config withBatches(int rollout, int step, int micro) {
            return with(d -> {
                d.rolloutBatchSize = rollout;
                d.stepBatchSize = step;
                d.microBatchSize = micro;
            });
        }

        public Config withGenerationBatchSize(int v) {
            return with(d -> d.generationBatchSize = v);
        }

        public Config withResponseLength(int v) {
            return with(d -> d.responseLength = v);
        }

        public Config withSampling(double temperature, int topK, double topP) {
            return with(d -> {
                d.temperature = temperature;
                d.topK = topK;
                d.topP = topP;
            });
        }

        public Config withQueryLength(int v) {
            return with(d -> d.queryLength = v);
        }

        public Config withStop(String stop, double penalty) {
            return with(d -> {
                d.stop = stop;
                d.penaltyReward = penalty;
            });
        }
        /** Rollouts end at the stop marker instead of running to {@code responseLength} (faster; not the paper's). */
        public Config withStopRollouts(boolean v) {
            return with(d -> d.stopRollouts = v);
        }

        public Config withWhitenRewards(boolean v) {
            return with(d -> d.whitenRewards = v);
        }

        public Config withSteps(int total, int save) {
            return with(d -> {
                d.totalSteps = total;
                d.saveSteps = save;
            });
        }

        public Config withSeed(long v) {
            return with(d -> d.seed = v);
        }

        public Config withLora(LoraAdapter.Config v) {
            return with(d -> d.lora = v);
        }

        /** A copy with the fields {@code change} sets (checked by the compiler); keeps each wither one line. */
        private Config with(Consumer<Draft> change) {
            Draft d = new Draft(this);
            change.accept(d);
            return d.build();
        }

        /** The settings as mutable fields, only while a wither builds its copy. */
        private static final class Draft {
            double klCoef;
            boolean adaptiveKl;
            double klTarget;
            double klBeta;
            double gamma;
            double lambda;
            double clip;
            double valueClip;
            double vfCoef;
            int ppoEpochs;
            double lr;
            double adamEps;
            int warmupSteps;
            double maxGradNorm;
            int rolloutBatchSize;
            int stepBatchSize;
            int microBatchSize;
            int generationBatchSize;
            int responseLength;
            double temperature;
            int topK;
            double topP;
            int queryLength;
            String stop;
            boolean stopRollouts;
            double penaltyReward;
            boolean whitenRewards;
            int totalSteps;
            int saveSteps;
            long seed;
            LoraAdapter.Config lora;

            Draft(Config c) {
                klCoef = c.klCoef;
                adaptiveKl = c.adaptiveKl;
                klTarget = c.klTarget;
                klBeta = c.klBeta;
                gamma = c.gamma;
                lambda = c.lambda;
                clip = c.clip;
                valueClip = c.valueClip;
                vfCoef = c.vfCoef;
                ppoEpochs = c.ppoEpochs;
                lr = c.lr;
                adamEps = c.adamEps;
                warmupSteps = c.warmupSteps;
                maxGradNorm = c.maxGradNorm;
                rolloutBatchSize = c.rolloutBatchSize;
                stepBatchSize = c.stepBatchSize;
                microBatchSize = c.microBatchSize;
                generationBatchSize = c.generationBatchSize;
                responseLength = c.responseLength;
                temperature = c.temperature;
                topK = c.topK;
                topP = c.topP;
                queryLength = c.queryLength;
                stop = c.stop;
                stopRollouts = c.stopRollouts;
                penaltyReward = c.penaltyReward;
                whitenRewards = c.whitenRewards;
                totalSteps = c.totalSteps;
                saveSteps = c.saveSteps;
                seed = c.seed;
                lora = c.lora;
            }

            Config build() {
                return new Config(
                        klCoef,
                        adaptiveKl,
                        klTarget,
                        klBeta,
                        gamma,
                        lambda,
                        clip,
                        valueClip,
                        vfCoef,
                        ppoEpochs,
                        lr,
                        adamEps,
                        warmupSteps,
                        maxGradNorm,
                        rolloutBatchSize,
                        stepBatchSize,
                        microBatchSize,
                        generationBatchSize,
                        responseLength,
                        temperature,
                        topK,
                        topP,
                        queryLength,
                        stop,
                        stopRollouts,
                        penaltyReward,
                        whitenRewards,
                        totalSteps,
                        saveSteps,
                        seed,
                        lora);
            }
        }

        /** The settings as JSON (snake_case, as the other trainers'): logged at start, stored in each checkpoint. */
        public JsonObject toJson() {
            JsonObject o = new JsonObject();
            o.addProperty("kl_coef", klCoef);
            o.addProperty("adaptive_kl", adaptiveKl);
            o.addProperty("kl_target", klTarget);
            o.addProperty("kl_beta", klBeta);
            o.addProperty("gamma", gamma);
            o.addProperty("lambda", lambda);
            o.addProperty("clip", clip);
            o.addProperty("value_clip", valueClip);
            o.addProperty("vf_coef", vfCoef);
            o.addProperty("ppo_epochs", ppoEpochs);
            o.addProperty("lr", lr);
            o.addProperty("adam_eps", adamEps);
            o.addProperty("warmup_steps", warmupSteps);
            o.addProperty("max_grad_norm", maxGradNorm);
            o.addProperty("rollout_batch_size", rolloutBatchSize);
            o.addProperty("step_batch_size", stepBatchSize);
            o.addProperty("micro_batch_size", microBatchSize);
            o.addProperty("generation_batch_size", generationBatchSize);
            o.addProperty("response_length", responseLength);
            o.addProperty("temperature", temperature);
            o.addProperty("top_k", topK);
            o.addProperty("top_p", topP);
            o.addProperty("query_length", queryLength);
            o.addProperty("stop", stop);
            o.addProperty("stop_rollouts", stopRollouts);
            o.addProperty("penalty_reward", penaltyReward);
            o.addProperty("whiten_rewards", whitenRewards);
            o.addProperty("total_steps", totalSteps);
            o.addProperty("save_steps", saveSteps);
            o.addProperty("seed", seed);
            o.add("lora", PreferenceModelTrainer.loraJson(lora));
            return o;
        }
    }

    private final Config config;
    private final CausalLM policyLm;
    private final LlamaModel policy;
    private final LoraAdapter policyAdapter; // null with full fine-tuning
    private final LlamaModel reference; // the same object as policy with LoRA
    private final LoraAdapter referenceAdapter; // the adapter the policy started with (null: bare base)
    private final LlamaModel valueBackbone;
    private final LoraAdapter valueAdapter;
    private final NDArray valueHeadWeight; // [1, D], starts at 0
    private final NDArray valueHeadBias; // [1]
    private final PreferenceModel rewardModel;
    private final RewardFunction rewardFunction;
    private final List<String> prompts;
    private final int droppedPrompts;
    private final Path outDir;
    private final NDManager manager;
    private final List<AutoCloseable> owned = new ArrayList<>();
    private final Map<String, NDArray> trainable = new LinkedHashMap<>();
    private final Table samples = Table.create(
            "ppo samples",
            IntColumn.create("step"),
            StringColumn.create("prompt"),
            StringColumn.create("response"),
            DoubleColumn.create("reward"),
            StringColumn.create("finish_reason"),
            BooleanColumn.create("stopped"),
            IntColumn.create("tokens"));
    private final AdamW optimizer;
    private final TrainLoop loop;
    private double klCoef;
    private Path tempDir;

    /**
     * PPO against a preference model (frozen), on the policy prompts ({@link PromptSet.Entry#policyPrompt()}: the
     * prompt and its response prefix) of {@code prompts}. Writes checkpoints, {@code log.jsonl} and {@code policy/} to
     * {@code outDir}.
     */
    public PpoTrainer(Config config, CausalLM policy, PreferenceModel rewardModel, PromptSet prompts, Path outDir) {
        this(config, policy, rewardModel, null, policyPrompts(prompts), outDir);
    }

    /** PPO against a reward computed by code. */
    public PpoTrainer(Config config, CausalLM policy, RewardFunction reward, PromptSet prompts, Path outDir) {
        this(config, policy, null, reward, policyPrompts(prompts), outDir);
    }

    private static List<String> policyPrompts(PromptSet prompts) {
        return prompts.entries().stream().map(PromptSet.Entry::policyPrompt).toList();
    }

    private PpoTrainer(
            Config config,
            CausalLM policyLm,
            PreferenceModel rm,
            RewardFunction fn,
            List<String> allPrompts,
            Path outDir) {
        this.config = config;
        this.policyLm = policyLm;
        this.policy = policyLm.model();
        this.rewardModel = rm;
        this.rewardFunction = fn;
        this.outDir = outDir;
        this.manager = policyLm.manager().newSubManager();
        this.klCoef = config.klCoef();

        // Queries longer than queryLength tokens are dropped, as AlpacaFarm does.
        List<String> kept = new ArrayList<>();
        for (String p : allPrompts) {
            if (policyLm.tokenizer().encode(p, true).length <= config.queryLength()) kept.add(p);
        }
        if (kept.isEmpty()) {
            throw new RlcdException("PPO: all " + allPrompts.size() + " prompts are longer than queryLength="
                    + config.queryLength() + " tokens");
        }
        this.prompts = kept;
        this.droppedPrompts = allPrompts.size() - kept.size();

        LoraAdapter start = policy.adapter(); // e.g. an SFT adapter: the reference keeps it, the policy trains a copy
        boolean lora = config.lora() != null || start != null;
        if (lora) {
            this.reference = policy;
            this.referenceAdapter = start;
            this.policyAdapter = start != null
                    ? start.copy(manager)
                    : LoraAdapter.create(policy.config(), config.lora(), manager, config.seed());
            trainable.putAll(prefixed("policy.", Parameters.lora(policyAdapter, policy.dtype())));
        } else {
            if (rm != null && rm.backbone().model() == policy) {
                throw new RlcdException(
                        "PPO: full fine-tuning would change the reward model's own base weights (they are the policy's); "
                                + "load the policy separately or train with LoRA");
            }
            this.reference = copy(policy);
            this.referenceAdapter = null;
            this.policyAdapter = null;
            trainable.putAll(prefixed("policy.", Parameters.full(policy)));
        }

        // Value model: from the reward model (AlpacaFarm's init_value_with_reward), a zero head.
        LlamaModel valueBase = rm != null ? rm.backbone().model() : policy;
        LoraAdapter rmAdapter = rm != null ? rm.adapter() : null;
        if (lora) {
            this.valueBackbone = valueBase; // shared and frozen: only the adapter and head train
            this.valueAdapter = rmAdapter != null
                    ? rmAdapter.copy(manager)
                    : LoraAdapter.create(valueBase.config(), policyAdapter.config(), manager, config.seed() + 1);
        } else {
            this.valueBackbone = copy(valueBase);
            this.valueAdapter = rmAdapter != null ? rmAdapter.copy(manager) : null;
            trainable.putAll(prefixed("value.", Parameters.full(valueBackbone)));
        }
        if (valueAdapter != null)
            trainable.putAll(prefixed("value.", Parameters.lora(valueAdapter, valueBackbone.dtype())));
        int D = valueBase.config().hiddenSize();
        this.valueHeadWeight = manager.zeros(new Shape(1, D), DataType.FLOAT32);
        this.valueHeadBias = manager.zeros(new Shape(1), DataType.FLOAT32);
        valueHeadWeight.setRequiresGradient(true);
        valueHeadBias.setRequiresGradient(true);
        trainable.put("value.value_head.weight", valueHeadWeight);
        trainable.put("value.value_head.bias", valueHeadBias);
        this.optimizer = new AdamW(new AdamW.Config(0.9, 0.999, config.adamEps(), 0.0), manager);
        // AlpacaFarm steps HF's linear schedule once per PPO step; each of its minibatch updates uses that step's rate.
        LrSchedule schedule =
                new LrSchedule(LrSchedule.Kind.LINEAR, config.lr(), config.warmupSteps(), config.totalSteps());
        TrainLoop.Settings settings = new TrainLoop.Settings(
                "ppo",
                config.toJson(),
                Runs.fingerprint(prompts),
                config.seed(),
                config.totalSteps(),
                schedule,
                config.maxGradNorm(),
                outDir,
                config.saveSteps(),
                2,
                0);
        this.loop = new TrainLoop(settings, trainable, optimizer, TrainLoop.scalerFor(policy.dtype()), manager);
    }

    private static Map<String, NDArray> prefixed(String prefix, Map<String, NDArray> params) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        params.forEach((k, v) -> out.put(prefix + k, v));
        return out;
    }

    /** A frozen or trainable copy of a whole model (full fine-tuning): written once to a temporary folder and loaded. */
    private LlamaModel copy(LlamaModel src) {
        try {
            if (tempDir == null) tempDir = Files.createTempDirectory("rlcd4j-ppo");
            Path dir = Files.createDirectories(tempDir.resolve("copy-" + owned.size()));
            Map<String, NDArray> w = new LinkedHashMap<>(src.weights());
            if (src.config().tieWordEmbeddings()) w.remove("lm_head.weight");
            Safetensors.write(dir.resolve("model.safetensors"), w, null);
            LlamaModel m = LlamaModel.load(dir, src.config(), manager, src.dtype());
            owned.add(m);
            return m;
        } catch (IOException e) {
            throw new RlcdException("PPO: cannot copy the model to a temporary folder: " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------------------------------------- training loop

    /** Trains to {@link Config#totalSteps()} (resuming from the newest checkpoint in the output folder); the log. */
    public Table train() {
        return trainUntil(config.totalSteps());
    }

    /**
     * Trains up to PPO step {@code lastStep} and returns the log so far; a later call (or a new trainer on the same
     * folder, with the same settings and prompts) continues from the newest checkpoint. For notebooks: train a few
     * steps, look at samples, go on.
     */
    public Table trainUntil(int lastStep) {
        if (loop.stepsDone() < 0) {
            LOG.info(
                    "ppo: {} prompts ({} longer than {} tokens dropped)",
                    prompts.size(),
                    droppedPrompts,
                    config.queryLength());
        }
        Table log = loop.runUntil(
                new TrainLoop.Task() {
                    @Override
                    public Map<String, Double> step(long step, TrainLoop.StepContext ctx) {
                        return PpoTrainer.this.step(step + 1, ctx);
                    }

                    @Override
                    public JsonObject state() {
                        JsonObject o = new JsonObject();
                        o.addProperty("kl_coef", klCoef);
                        return o;
                    }

                    @Override
                    public void restore(JsonObject saved) {
                        klCoef = saved.get("kl_coef").getAsDouble();
                    }

                    @Override
                    public String status(Map<String, Double> row) {
                        return String.format(
                                "reward %.3f  kl %.3f  len %.0f",
                                row.get("reward"), row.get("kl"), row.get("response_length"));
                    }
                },
                lastStep);
        if (outDir != null && loop.stepsDone() == config.totalSteps() && !Files.exists(outDir.resolve("policy"))) {
            savePolicy(outDir.resolve("policy"));
        }
        return log;
    }

    /** The trained policy: a Hugging Face folder (full fine-tuning) or a PEFT adapter folder (LoRA). */
    public void savePolicy(Path dir) {
        if (policyAdapter != null) {
            policyAdapter.save(
                    dir,
                    policyLm.folder() == null
                            ? policyLm.name()
                            : policyLm.folder().toAbsolutePath().toString());
        } else {
            policyLm.save(dir);
        }
    }

    /** One PPO step: rollouts, rewards, advantages, then {@code ppoEpochs} passes of minibatch updates. */
    private Map<String, Double> step(long step, TrainLoop.StepContext ctx) {
        double lr = ctx.lr();
        List<Rollout> rollouts = rollout(step);
        Map<String, Double> row = new LinkedHashMap<>();
        row.put("step", (double) step);
        row.putAll(rolloutStats(step, rollouts));
        row.put("lr", lr);
        row.put("kl_coef", klCoef);

        // AlpacaFarm's DataLoader(shuffle=True, drop_last=True) over the rollouts, once per PPO epoch.
        int S = config.stepBatchSize(), nBatches = rollouts.size() / S;
        double[] sums = new double[8];
        int updates = 0;
        for (int epoch = 0; epoch < config.ppoEpochs(); epoch++) {
            int[] order = Runs.permutation(rollouts.size(), Seeds.purposeSeed(config.seed(), step, 1000 + epoch));
            for (int b = 0; b < nBatches; b++) {
                List<Rollout> batch = new ArrayList<>();
                for (int i = b * S; i < (b + 1) * S; i++) batch.add(rollouts.get(order[i]));
                double[] st = update(batch, step, epoch * nBatches + b, ctx);
                for (int i = 0; i < st.length; i++) sums[i] += st[i];
                updates++;
            }
        }
        String[] names = {
            "policy_loss",
            "value_loss",
            "clip_frac",
            "value_clip_frac",
            "approx_kl",
            "train_entropy",
            "grad_norm",
            "loss"
        };
        for (int i = 0; i < names.length; i++) row.put(names[i], sums[i] / Math.max(1, updates));

        if (config.adaptiveKl()) {
            // AlpacaFarm's AdaptiveKLController: proportional control towards the target summed KL.
            double err = Math.max(-0.2, Math.min(0.2, row.get("kl") / config.klTarget() - 1));
            klCoef *= 1 + config.klBeta() * err;
        }
        return row;
    }

    /** A sampled response and everything PPO computes about it; arrays run over the response tokens. */
    static final class Rollout {
        String prompt, response, finish;
        long[] promptIds, ids;
        boolean stopped;
        double score;
        float[] logp, refLogp, values, entropy;
        double[] rewards, advantages, returns;
    }

    private List<Rollout> rollout(long step) {
        // Prompt order: a fresh seeded permutation per pass over the prompts, so step -> prompts needs no saved state.
        int R = config.rolloutBatchSize(), N = prompts.size();
        List<String> batch = new ArrayList<>(R);
        int[] perm = null;
        long permEpoch = -1;
        for (long k = (step - 1) * R; k < step * R; k++) {
            long epoch = k / N;
            if (epoch != permEpoch) {
                perm = Runs.permutation(N, Seeds.purposeSeed(config.seed(), epoch, 7));
                permEpoch = epoch;
            }
            batch.add(prompts.get(perm[(int) (k % N)]));
        }
        boolean stops = config.stop() != null && !config.stop().isEmpty();
        GenerationConfig g = new GenerationConfig(
                config.responseLength(),
                config.temperature(),
                config.topK(),
                config.topP(),
                Seeds.purposeSeed(config.seed(), step, 1),
                stops && config.stopRollouts() ? List.of(config.stop()) : List.of(),
                List.of(),
                config.generationBatchSize());
        policy.setTraining(false); // no dropout while sampling and scoring (AlpacaFarm: policy.eval())
        valueBackbone.setTraining(false);
        policy.setAdapter(policyAdapter == null ? referenceAdapter : policyAdapter);
        List<Generation> gens = policyLm.generate(batch, g);

        List<Rollout> out = new ArrayList<>(R);
        for (Generation gen : gens) {
            Rollout r = new Rollout();
            r.prompt = gen.prompt();
            r.promptIds = gen.promptIds();
            r.ids = gen.ids();
            r.finish = gen.finishReason();
            // The reward model reads the response cut at the marker (the paper's reward); log-probs and KL run over
            // every sampled token, ids included past the marker when rollouts run to full length (AlpacaFarm's quirk).
            int cut = stops ? gen.text().indexOf(config.stop()) : -1;
            r.response = cut >= 0 ? gen.text().substring(0, cut) : gen.text();
            boolean marker = config.stopRollouts() ? "stop".equals(gen.finishReason()) : cut >= 0;
            r.stopped = !stops || (marker && !r.response.isEmpty());
            out.add(r);
        }

        // Log-probs of the sampled ids under the policy and the reference, entropies, and values: full forwards on the
        // exact ids (no re-tokenisation), in micro-batches.
        for (int s = 0; s < out.size(); s += config.microBatchSize()) {
            List<Rollout> part = out.subList(s, Math.min(out.size(), s + config.microBatchSize()));
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                SequenceBatch sb = sequences(part);
                int[] lens = lengths(part);
                NDArray[] pol =
                        logprobsAndEntropy(sb, policyAdapter == null ? referenceAdapter : policyAdapter, policy);
                NDArray[] ref = logprobsAndEntropy(sb, referenceAdapter, reference);
                float[][] lp = responseColumns(pol[0], lens), ent = responseColumns(pol[1], lens);
                float[][] rlp = responseColumns(ref[0], lens), val = responseColumns(values(sb), lens);
                for (int i = 0; i < part.size(); i++) {
                    Rollout r = part.get(i);
                    r.logp = lp[i];
                    r.entropy = ent[i];
                    r.refLogp = rlp[i];
                    r.values = val[i];
                }
            }
        }

        // Scores: reward model (or function) on the response cut at the stop marker; -1 without the marker.
        List<String> ps = new ArrayList<>(), rs = new ArrayList<>();
        for (Rollout r : out) {
            ps.add(r.prompt);
            rs.add(r.response);
        }
        double[] scores =
                rewardModel != null ? rewardModel.score(ps, rs, config.microBatchSize()) : rewardFunction.score(ps, rs);
        if (scores.length != out.size()) {
            throw new RlcdException(
                    "PPO: the reward function returned " + scores.length + " scores for " + out.size() + " responses");
        }
        for (int i = 0; i < out.size(); i++) {
            Rollout r = out.get(i);
            Finite.check("ppo", step, "reward of rollout " + i, scores[i]);
            r.score = r.stopped ? scores[i] : config.penaltyReward();
            r.rewards = shapedRewards(r.logp, r.refLogp, klCoef, r.score);
        }

        // Whiten rewards over the whole rollout batch (std only), GAE per sequence, whiten advantages (mean and std).
        List<double[]> rewards = new ArrayList<>();
        out.forEach(r -> rewards.add(r.rewards.clone()));
        if (config.whitenRewards()) whiten(rewards, false);
        List<double[]> advantages = new ArrayList<>();
        for (int i = 0; i < out.size(); i++) {
            Rollout r = out.get(i);
            double[] v = new double[r.values.length];
            for (int t = 0; t < v.length; t++) v[t] = r.values[t];
            double[][] ar = gae(rewards.get(i), v, config.gamma(), config.lambda());
            r.returns = ar[1];
            advantages.add(ar[0]);
        }
        whiten(advantages, true);
        for (int i = 0; i < out.size(); i++) out.get(i).advantages = advantages.get(i);

        for (int i = 0; i < Math.min(2, out.size()); i++) {
            Rollout r = out.get(i);
            samples.intColumn("step").append((int) step);
            samples.stringColumn("prompt").append(r.prompt);
            samples.stringColumn("response").append(r.response);
            samples.doubleColumn("reward").append(r.score);
            samples.stringColumn("finish_reason").append(r.finish);
            samples.booleanColumn("stopped").append(r.stopped);
            samples.intColumn("tokens").append(r.ids.length);
        }
        return out;
    }

    private Map<String, Double> rolloutStats(long step, List<Rollout> rollouts) {
        double score = 0, shaped = 0, kl = 0, klClamped = 0, ent = 0, len = 0, noStop = 0, value = 0;
        long tokens = 0;
        for (Rollout r : rollouts) {
            score += r.score;
            for (double x : r.rewards) shaped += x;
            for (int t = 0; t < r.logp.length; t++) {
                double d = r.logp[t] - r.refLogp[t];
                kl += d;
                klClamped += Math.max(0, d);
                ent += r.entropy[t];
                value += r.values[t];
            }
            len += r.ids.length;
            tokens += r.ids.length;
            if (!r.stopped) noStop++;
        }
        int n = rollouts.size();
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("reward", Finite.check("ppo", step, "mean reward", score / n));
        m.put("shaped_return", shaped / n);
        m.put("kl", kl / n); // per sequence: sum over tokens of logp - logp_ref, unclamped
        m.put("kl_clamped", klClamped / n); // what the penalty uses
        m.put("entropy", ent / tokens); // per token, of the sampling distribution
        m.put("value", value / tokens);
        m.put("response_length", len / n);
        m.put("no_stop_frac", noStop / n);
        return m;
    }

    /**
     * One optimiser step on a minibatch of rollouts, accumulated over micro-batches; the loss is the token-weighted
     * mean over the whole minibatch, so the micro-batch size does not change the result. Returns the metrics in the
     * order of {@link #step}'s names.
     */
    private double[] update(List<Rollout> batch, long step, int updateIndex, TrainLoop.StepContext ctx) {
        long tokens = 0;
        for (Rollout r : batch) tokens += r.ids.length;
        float inv = 1f / tokens;
        double[] st = new double[8];
        policy.setTraining(true); // LoRA dropout, re-seeded per micro-batch below so a resumed run draws the same masks
        valueBackbone.setTraining(true);
        ctx.accumulate(batch.size(), config.microBatchSize(), (from, to, pass) -> {
            List<Rollout> part = batch.subList(from, to);
            int micro = from / config.microBatchSize();
            long purpose = 100_000L * (updateIndex + 1) + micro;
            Engine.getInstance().setRandomSeed((int) Seeds.purposeSeed(config.seed(), step, purpose));
            SequenceBatch sb = sequences(part);
            int[] lens = lengths(part);
            long T = sb.batch().ids().getShape().get(1);
            NDManager m = sb.batch().ids().getManager();
            NDArray oldLogp = columns(m, part, lens, T, r -> toDouble(r.logp));
            NDArray oldValues = columns(m, part, lens, T, r -> toDouble(r.values));
            NDArray adv = columns(m, part, lens, T, r -> r.advantages);
            NDArray ret = columns(m, part, lens, T, r -> r.returns);
            NDArray mask = sb.responseMask();
            NDArray[] pol = logprobsAndEntropy(sb, policyAdapter == null ? referenceAdapter : policyAdapter, policy);
            NDArray vpred = values(sb);
            NDArray pg = policyLossSum(pol[0], oldLogp, adv, mask, config.clip());
            NDArray vf = valueLossSum(vpred, oldValues, ret, mask, config.valueClip());
            // The PPO loss: token-weighted mean over the whole minibatch, so the micro-batch size changes nothing.
            NDArray loss = pg.add(vf.mul(Runs.scalar(vf, config.vfCoef()))).mul(Runs.scalar(pg, inv));
            st[7] += pass.backward(loss);
            st[0] += pg.getFloat() * inv;
            st[1] += vf.getFloat() * inv;
            st[2] += clipFraction(pol[0], oldLogp, adv, mask, config.clip()) * inv;
            st[3] += valueClipFraction(vpred, oldValues, ret, mask, config.valueClip()) * inv;
            NDArray d = pol[0].stopGradient().sub(oldLogp);
            st[4] += d.square().mul(mask).sum().getFloat() * 0.5 * inv;
            st[5] += pol[1].stopGradient().mul(mask).sum().getFloat() * inv;
        });
        st[6] = ctx.update();
        return st;
    }

    // ------------------------------------------------------------------------------------------------ model pieces

    private SequenceBatch sequences(List<Rollout> part) {
        List<long[]> p = new ArrayList<>(), r = new ArrayList<>();
        for (Rollout x : part) {
            p.add(x.promptIds);
            r.add(x.ids);
        }
        return SequenceBatch.ofIds(manager, p, r, policyLm.tokenizer().padId());
    }

    private static int[] lengths(List<Rollout> part) {
        int[] l = new int[part.size()];
        for (int i = 0; i < l.length; i++) l[i] = part.get(i).ids.length;
        return l;
    }

    /**
     * Per-column log-probability of the token there and entropy of the distribution it was drawn from, [B,T] each
     * (column 0 is 0), under {@code model} with {@code adapter}; logits divided by the sampling temperature as
     * AlpacaFarm does.
     */
    private NDArray[] logprobsAndEntropy(SequenceBatch sb, LoraAdapter adapter, LlamaModel model) {
        model.setAdapter(adapter);
        NDArray logits = Precision.toFloat32(model.logits(model.forward(
                sb.batch().ids(), sb.batch().positions(), sb.batch().mask(), null)));
        if (config.temperature() != 1.0) logits = logits.div(Runs.scalar(logits, config.temperature()));
        NDArray logp = logits.get(":, :-1, :").logSoftmax(-1); // [B,T-1,V]
        NDArray next = sb.batch().ids().get(":, 1:").expandDims(-1);
        NDArray lp = logp.gather(next, -1).squeeze(-1); // [B,T-1]
        NDArray ent = logp.exp().mul(logp).sum(new int[] {-1}).neg(); // [B,T-1]
        NDArray zero = logp.getManager().zeros(new Shape(lp.getShape().get(0), 1), DataType.FLOAT32);
        return new NDArray[] {zero.concat(lp, 1), zero.concat(ent, 1)};
    }

    /** Value of the state before each column's token: the value head on the hidden state one column earlier. [B,T] */
    private NDArray values(SequenceBatch sb) {
        valueBackbone.setAdapter(valueAdapter);
        NDArray hidden = Precision.toFloat32(valueBackbone.forward(
                sb.batch().ids(), sb.batch().positions(), sb.batch().mask(), null));
        NDArray v = hidden.getNDArrayInternal()
                .linear(hidden, valueHeadWeight, valueHeadBias)
                .singletonOrThrow()
                .squeeze(-1);
        NDArray zero = v.getManager().zeros(new Shape(v.getShape().get(0), 1), DataType.FLOAT32);
        return NDArrays.concat(new NDList(zero, v.get(":, :-1")), 1);
    }

    /** The last {@code lens[i]} columns of each row (the response, since batches are left-padded). */
    private static float[][] responseColumns(NDArray bt, int[] lens) {
        float[] flat = bt.toFloatArray();
        int T = (int) bt.getShape().get(1);
        float[][] out = new float[lens.length][];
        for (int i = 0; i < lens.length; i++) {
            out[i] = java.util.Arrays.copyOfRange(flat, i * T + T - lens[i], i * T + T);
        }
        return out;
    }

    /** Per-response-token values placed into their columns of a [B,T] float32 array (zeros elsewhere). */
    private static NDArray columns(
            NDManager m, List<Rollout> part, int[] lens, long T, java.util.function.Function<Rollout, double[]> f) {
        float[] flat = new float[(int) (part.size() * T)];
        for (int i = 0; i < part.size(); i++) {
            double[] v = f.apply(part.get(i));
            for (int t = 0; t < lens[i]; t++) flat[(int) (i * T + T - lens[i] + t)] = (float) v[t];
        }
        return m.create(flat, new Shape(part.size(), T));
    }

    private static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    // ------------------------------------------------------------------------- the loss pieces (tested by hand)

    /** Per-token shaped rewards: {@code -klCoef * max(logp - logp_ref, 0)}, plus {@code score} on the last token. */
    public static double[] shapedRewards(float[] logp, float[] refLogp, double klCoef, double score) {
        double[] r = new double[logp.length];
        for (int t = 0; t < r.length; t++) r[t] = -klCoef * Math.max(0.0, (double) logp[t] - refLogp[t]);
        if (r.length > 0) r[r.length - 1] += score;
        return r;
    }

    /**
     * AlpacaFarm's {@code whiten} over every token of every row, in place: {@code (x - mean) / sqrt(var + 1e-8)}, with
     * the mean added back when {@code shiftMean} is false (rewards keep their mean, advantages are centred).
     */
    public static void whiten(List<double[]> rows, boolean shiftMean) {
        double sum = 0;
        long n = 0;
        for (double[] r : rows)
            for (double x : r) {
                sum += x;
                n++;
            }
        if (n == 0) return;
        double mean = sum / n, sq = 0;
        for (double[] r : rows) for (double x : r) sq += (x - mean) * (x - mean);
        double scale = 1 / Math.sqrt(sq / n + 1e-8);
        for (double[] r : rows) {
            for (int t = 0; t < r.length; t++) r[t] = (r[t] - mean) * scale + (shiftMean ? 0 : mean);
        }
    }

    /**
     * Generalised advantage estimation over one response: {@code delta_t = r_t + gamma V_{t+1} - V_t} (V after the last
     * token is 0), {@code A_t = delta_t + gamma lambda A_{t+1}}, returns {@code A + V}. Returns {advantages, returns}.
     */
    public static double[][] gae(double[] rewards, double[] values, double gamma, double lambda) {
        int L = rewards.length;
        double[] adv = new double[L], ret = new double[L];
        double last = 0;
        for (int t = L - 1; t >= 0; t--) {
            double next = t < L - 1 ? values[t + 1] : 0;
            double delta = rewards[t] + gamma * next - values[t];
            last = delta + gamma * lambda * last;
            adv[t] = last;
            ret[t] = last + values[t];
        }
        return new double[][] {adv, ret};
    }

    /**
     * Clipped surrogate, summed over masked tokens: {@code max(-A r, -A clamp(r, 1-clip, 1+clip))} with
     * {@code r = exp(logp - oldLogp)}. Divide by the token count for AlpacaFarm's mean.
     */
    public static NDArray policyLossSum(NDArray logp, NDArray oldLogp, NDArray adv, NDArray mask, double clip) {
        NDArray ratio = logp.sub(oldLogp).exp();
        NDArray l1 = adv.neg().mul(ratio);
        NDArray l2 = adv.neg().mul(ratio.clip(1 - clip, 1 + clip));
        return l1.maximum(l2).mul(mask).sum();
    }

    /**
     * Clipped value loss, summed over masked tokens: {@code 0.5 max((v - R)^2, (clamp(v, old-c, old+c) - R)^2)}.
     */
    public static NDArray valueLossSum(NDArray vpred, NDArray oldValues, NDArray returns, NDArray mask, double clip) {
        NDArray clipped = vpred.minimum(oldValues.add((float) clip)).maximum(oldValues.sub((float) clip));
        NDArray l1 = vpred.sub(returns).square();
        NDArray l2 = clipped.sub(returns).square();
        NDArray sum = l1.maximum(l2).mul(mask).sum();
        return sum.mul(Runs.scalar(sum, 0.5));
    }

    /** Masked count of tokens whose clipped surrogate is the larger one (AlpacaFarm's {@code pg_clipfrac}, as a sum). */
    static double clipFraction(NDArray logp, NDArray oldLogp, NDArray adv, NDArray mask, double clip) {
        NDArray ratio = logp.stopGradient().sub(oldLogp).exp();
        NDArray l1 = adv.neg().mul(ratio), l2 = adv.neg().mul(ratio.clip(1 - clip, 1 + clip));
        return l2.gt(l1).toType(DataType.FLOAT32, false).mul(mask).sum().getFloat();
    }

    static double valueClipFraction(NDArray vpred, NDArray oldValues, NDArray returns, NDArray mask, double clip) {
        NDArray v = vpred.stopGradient();
        NDArray clipped = v.minimum(oldValues.add((float) clip)).maximum(oldValues.sub((float) clip));
        return clipped.sub(returns)
                .square()
                .gt(v.sub(returns).square())
                .toType(DataType.FLOAT32, false)
                .mul(mask)
                .sum()
                .getFloat();
    }

    // ---------------------------------------------------------------------------------------------------- misc

    public Config config() {
        return config;
    }

    /** The log so far (one row per PPO step). */
    public Table log() {
        return loop.log() == null
                ? TrainLog.resume("ppo", outDir == null ? null : outDir.resolve("log.jsonl"), Long.MAX_VALUE)
                        .toTable()
                : loop.log().toTable();
    }

    /** A few (prompt, response, reward) per step of this session. */
    public Table samples() {
        return samples;
    }

    /** Prompts dropped for being longer than {@link Config#queryLength()} tokens. */
    public int droppedPrompts() {
        return droppedPrompts;
    }

    /** The policy's trainable tensors under {@code policy.} names and the value model's under {@code value.}. */
    public Map<String, NDArray> trainable() {
        return trainable;
    }

    /** The trained LoRA adapter (null with full fine-tuning, where the policy's own weights were trained). */
    public LoraAdapter policyAdapter() {
        return policyAdapter;
    }

    @Override
    public void close() {
        // The trained adapter lives in this trainer's memory: save it first (savePolicy). The model goes back to the
        // adapter it started with.
        policy.setAdapter(referenceAdapter);
        if (valueBackbone != policy && valueAdapter != null && valueBackbone.adapter() == valueAdapter)
            valueBackbone.setAdapter(null);
        optimizer.close();
        for (AutoCloseable c : owned) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing native memory; nothing to report
            }
        }
        manager.close();
        if (tempDir != null) {
            try {
                Checkpoint.deleteRecursively(tempDir);
            } catch (IOException ignored) {
                // a temporary folder the OS cleans up
            }
        }
    }
}
