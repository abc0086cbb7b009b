package rlcd4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import rlcd4j.data.PreferencePairs;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.llama.LoraAdapter;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.Table;

/**
 * Supervised fine-tuning on prompt/response pairs with the loss on the response tokens only: RLCD's context
 * distillation, which trains the base model on the RLCD-chosen output for the original (unmodified) prompt.
 *
 * <pre>
 * text   = prompt + ' '  |  response.rstrip() + '\n\nHuman:' + EOS          (| : where the loss starts)
 * loss_i = mean over response tokens t of  -log p(token_t | tokens before t)
 * loss   = mean over the step's examples of loss_i
 * </pre>
 *
 * The per-example token mean is what AlpacaFarm's {@code sft.sh} computes with one example per device; it makes the
 * result independent of the micro-batch size. Input: a table with {@code prompt} and {@code response} (or a pairs
 * table, whose {@code chosen} is used). {@link Config#defaults()} are the paper's settings. Reference: AlpacaFarm
 * {@code examples/scripts/sft.sh}, {@code supervised.py}; RLCD {@code format_context_distillation_training_data.py}.
 */
public final class SftTrainer {
    public static final String NAME = "sft";

    /**
     * Settings; defaults are AlpacaFarm's {@code sft.sh} as RLCD ran it.
     *
     * @param training        the shared optimisation settings ({@link TrainingArgs});
     *                        AlpacaFarm sft.sh: lr 2e-5, 3 epochs, batch 128 (8 GPUs x 1 x 16 accumulation)
     * @param maxLength       tokens per example, cut at the end (512)
     * @param lora            null: full fine-tuning (the paper); otherwise train this adapter on the frozen base
     */
    public record Config(TrainingArgs training, int maxLength, LoraAdapter.Config lora) {
        public Config {
            if (training == null || maxLength <= 1) {
                throw new RlcdException("SFT config: training arguments must be given, max length above 1; got "
                        + training + ", max_length " + maxLength);
            }
        }

        public static Config defaults() {
            return new Config(TrainingArgs.of(2e-5, 3, 128), 512, null);
        }

        public Config withTraining(TrainingArgs v) {
            return new Config(v, maxLength, lora);
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
            return new Config(training, v, lora);
        }

        public Config withLora(LoraAdapter.Config v) {
            return new Config(training, maxLength, v);
        }

        /** The settings as JSON (snake_case keys): logged at start and saved with every checkpoint. */
        public JsonObject toJson() {
            JsonObject o = training.toJson();
            o.addProperty("max_length", maxLength);
            o.add("lora", PreferenceModelTrainer.loraJson(lora));
            return o;
        }

        @Override
        public String toString() {
            return Runs.describe(NAME, toJson());
        }
    }

    /**
     * @param model   the model trained (the one passed in: full fine-tuning changed its weights in place; with LoRA its
     *                weights are untouched and {@code adapter} is active on it)
     * @param adapter the trained adapter, or null after full fine-tuning
     * @param log     one row per optimiser step: step, epoch, lr, loss, tokens, truncated, grad_norm
     */
    public record Result(CausalLM model, LoraAdapter adapter, Table log) {}

    private final Config config;
    private final TrainingArgs args; // config.training(), read at every step

    public SftTrainer(Config config) {
        this.config = config;
        this.args = config.training();
    }

    public SftTrainer() {
        this(Config.defaults());
    }

    public Config config() {
        return config;
    }

    /**
     * Per-example loss [B]: the mean negative log-probability of the response tokens. {@code tokenLogprobs} and
     * {@code responseMask} are [B, T]; an example with no response token left after truncation has loss 0.
     */
    public static NDArray loss(NDArray tokenLogprobs, NDArray responseMask) {
        NDArray count = responseMask.sum(new int[] {1}).maximum(1f);
        return tokenLogprobs.mul(responseMask).sum(new int[] {1}).neg().div(count);
    }

    /** The text split the paper trains on: {@code prompt + ' '} and {@code response.rstrip() + '\n\nHuman:'} (EOS follows). */
    public static String[] text(String prompt, String response) {
        return new String[] {prompt + " ", response.stripTrailing() + PreferenceModel.END};
    }

    /**
     * Fine-tunes {@code model} on {@code data}. With {@code outDir} non-null, checkpoints go to
     * {@code outDir/checkpoint-<step>}, the log to {@code outDir/log.jsonl}, and the result to {@code outDir}: the whole
     * model as a Hugging Face folder ({@code config.json}, {@code model.safetensors}) or, with LoRA, the adapter in
     * PEFT's layout ({@code adapter_model.safetensors}, {@code adapter_config.json}). A run resumes from the latest
     * checkpoint in {@code outDir} and ends with the same weights as an uninterrupted one.
     */
    public Result train(CausalLM model, Table data, Path outDir) {
        String what = "SFT data" + (data.name() == null ? "" : " " + data.name());
        List<String> prompts = Runs.texts(data, "prompt", what);
        List<String> responses = Runs.texts(data, data.containsColumn("response") ? "response" : "chosen", what);
        return train(model, prompts, responses, what, outDir);
    }

    /**
     * Context distillation: fine-tunes {@code model} on the chosen response of each kept pair (RLCD's o+), as
     * {@link #train(CausalLM, Table, Path)} does on a table's {@code prompt} and {@code response}.
     */
    public Result train(CausalLM model, PreferencePairs pairs, Path outDir) {
        PreferencePairs kept = pairs.kept();
        String what = "SFT data" + (kept.name().isEmpty() ? "" : " " + kept.name());
        return train(model, kept.prompts(), kept.chosen(), what, outDir);
    }

    private Result train(CausalLM model, List<String> prompts, List<String> responses, String what, Path outDir) {
        int n = prompts.size();
        if (n == 0) throw new RlcdException(what + ": no rows");
        String fp = Runs.fingerprint(prompts, responses);
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

        NDManager m = model.manager();
        LoraAdapter adapter =
                config.lora() == null ? null : LoraAdapter.create(model.config(), config.lora(), m, args.seed() + 1);
        boolean ok = false;
        try (AdamW opt = new AdamW(AdamW.Config.defaults().withWeightDecay(args.weightDecay()), m)) {
            model.model().setAdapter(adapter);
            Map<String, NDArray> params =
                    adapter != null ? Parameters.lora(adapter, model.model().dtype()) : Parameters.full(model.model());
            TrainLoop loop = new TrainLoop(
                    settings, params, opt, TrainLoop.scalerFor(model.model().dtype()), m);
            Table log = loop.run((step, ctx) -> {
                int[] order = Runs.order(n, args.seed(), step / stepsPerEpoch);
                int from = (int) ((step % stepsPerEpoch) * args.batchSize());
                int count = Math.min(n, from + args.batchSize()) - from;
                model.model().setTraining(true);
                double[] sums = new double[3]; // loss, tokens, truncated
                ctx.accumulate(count, args.microBatchSize(), (c, e, pass) -> {
                    List<String> ps = new ArrayList<>(), rs = new ArrayList<>();
                    for (int i = from + c; i < from + e; i++) {
                        String[] t = text(prompts.get(order[i]), responses.get(order[i]));
                        ps.add(t[0]);
                        rs.add(t[1]);
                    }
                    SequenceBatch b = SequenceBatch.of(m, model.tokenizer(), ps, rs, config.maxLength(), true);
                    for (boolean t : b.truncated()) if (t) sums[2]++;
                    sums[1] += b.responseMask().sum().getFloat();
                    sums[0] += pass.backward(loss(b.tokenLogprobs(model.model()), b.responseMask())
                            .sum()
                            .div(Runs.scalar(m, count)));
                });
                Map<String, Double> row = new LinkedHashMap<>();
                row.put("epoch", (step + 1) / (double) stepsPerEpoch);
                row.put("lr", ctx.lr());
                row.put("loss", sums[0]);
                row.put("tokens", sums[1]);
                row.put("truncated", sums[2]);
                return row;
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
                model.model().setAdapter(null);
                adapter.close();
            }
        }
    }
}
