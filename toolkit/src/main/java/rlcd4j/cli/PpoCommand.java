package rlcd4j.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import rlcd4j.data.DataFiles;
import rlcd4j.data.JsonlLines;
import rlcd4j.data.PromptSet;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.llama.LoraAdapter;
import rlcd4j.train.PpoTrainer;
import rlcd4j.train.PreferenceModel;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.Table;

/**
 * {@code rlcd ppo}: PPO of a policy against a trained preference model, with the paper's settings by default.
 * <pre>
 * rlcd ppo --policy HuggingFaceTB/SmolLM2-135M --reward-model out/pm --prompts prompts.jsonl --out out/ppo
 * </pre>
 * Writes {@code checkpoint-N/} (resumable: run the same command again after a kill), {@code log.jsonl},
 * {@code log.csv}, {@code samples.csv} and the trained {@code policy/} (a model folder, or a PEFT adapter with LoRA).
 */
@Command(
        name = "ppo",
        mixinStandardHelpOptions = true,
        description = "PPO against a preference model (AlpacaFarm/RLCD settings); resumes from the newest checkpoint "
                + "in --out.")
public class PpoCommand implements Callable<Integer> {
    private static final PpoTrainer.Config DEFAULTS = PpoTrainer.Config.defaults();

    @Option(
            names = "--policy",
            required = true,
            description = "Policy model folder or Hugging Face repo id (the paper: the pretrained base).")
    String policy;

    @Option(
            names = "--reward-model",
            required = true,
            description = "Preference model folder (saved by the pm command).")
    Path rewardModel;

    @Option(
            names = "--prompts",
            required = true,
            description = "Prompt file (.jsonl or .jsonl.gz), one JSON object a line with \"prompt\" (optional "
                    + "\"response_prefix\") or \"instruction\".")
    Path prompts;

    @Option(names = "--out", required = true, description = "Output folder; an existing run there is resumed.")
    Path out;

    @Option(names = "--steps", description = "PPO steps (default: ${DEFAULT-VALUE}; RLCD: 40-80).")
    int steps = DEFAULTS.totalSteps();

    @Option(names = "--save-steps", description = "Checkpoint every N steps (default: ${DEFAULT-VALUE}).")
    int saveSteps = DEFAULTS.saveSteps();

    @Option(names = "--kl", description = "KL coefficient (default: ${DEFAULT-VALUE}; RLCD: 0.002 or 0.004).")
    double kl = DEFAULTS.klCoef();

    @Option(
            names = "--adaptive-kl-target",
            description = "Adapt the KL coefficient towards this summed KL (AlpacaFarm's controller).")
    Double klTarget;

    @Option(names = "--lr", description = "Learning rate (default: ${DEFAULT-VALUE}).")
    double lr = DEFAULTS.lr();

    @Option(names = "--rollout-batch", description = "Rollouts per PPO step (default: ${DEFAULT-VALUE}).")
    int rolloutBatch = DEFAULTS.rolloutBatchSize();

    @Option(names = "--step-batch", description = "Rollouts per optimiser step (default: ${DEFAULT-VALUE}).")
    int stepBatch = DEFAULTS.stepBatchSize();

    @Option(
            names = "--micro-batch",
            description = "Rollouts per forward/backward; memory only (default: ${DEFAULT-VALUE}).")
    int microBatch = DEFAULTS.microBatchSize();

    @Option(names = "--response-length", description = "Max new tokens per rollout (default: ${DEFAULT-VALUE}).")
    int responseLength = DEFAULTS.responseLength();

    @Option(
            names = "--query-length",
            description = "Longer prompts (in tokens) are dropped (default: ${DEFAULT-VALUE}).")
    int queryLength = DEFAULTS.queryLength();

    @Option(
            names = "--lora-rank",
            description = "0: full fine-tuning (the paper; the default); otherwise LoRA of this rank on all "
                    + "projections.")
    int loraRank = 0;

    @Option(names = "--lora-alpha", description = "LoRA alpha (default: ${DEFAULT-VALUE}).")
    double loraAlpha = LoraAdapter.Config.defaults().alpha();

    @Option(names = "--seed", description = "Seed (default: ${DEFAULT-VALUE}).")
    long seed = DEFAULTS.seed();

    @Option(
            names = "--warmup-steps",
            description = "PPO steps of linear learning-rate warmup (default: ${DEFAULT-VALUE}).")
    int warmupSteps = DEFAULTS.warmupSteps();

    @Option(
            names = "--stop-rollouts",
            description =
                    "End rollouts at \\n\\nHuman: instead of sampling all --response-length "
                            + "tokens (faster; the paper samples the full length and cuts only the text the reward model reads).")
    boolean stopRollouts = DEFAULTS.stopRollouts();

    @Override
    public Integer call() {
        PromptSet ps = readPrompts(prompts);
        PpoTrainer.Config c = DEFAULTS.withKlCoef(kl)
                .withLr(lr)
                .withBatches(rolloutBatch, stepBatch, microBatch)
                .withResponseLength(responseLength)
                .withQueryLength(queryLength)
                .withSteps(steps, saveSteps)
                .withSeed(seed)
                .withWarmupSteps(warmupSteps)
                .withStopRollouts(stopRollouts);
        if (klTarget != null) c = c.withAdaptiveKl(klTarget, DEFAULTS.klBeta());
        if (loraRank > 0)
            c = c.withLora(new LoraAdapter.Config(loraRank, loraAlpha, 0.0, Set.copyOf(LoraAdapter.ALL_TARGETS)));
        try (CausalLM lm = CausalLM.load(policy)) {
            // A LoRA preference model attaches to a base: the policy's own (shared) with LoRA PPO; a separate copy with
            // full fine-tuning, whose updates must not reach the reward model.
            boolean lora = loraRank > 0;
            CausalLM rmBase = lora ? lm : null;
            if (!lora && isLoraPm(rewardModel)) rmBase = CausalLM.load(policy);
            try (PreferenceModel rm = PreferenceModel.load(rewardModel, rmBase);
                    PpoTrainer ppo = new PpoTrainer(c, lm, rm, ps, out)) {
                Table log = ppo.train();
                Files.createDirectories(out);
                log.write().csv(out.resolve("log.csv").toFile());
                ppo.samples().write().csv(out.resolve("samples.csv").toFile());
                System.out.println(log.last(Math.min(5, log.rowCount())).print());
                System.out.println("policy written to " + out.resolve("policy"));
            } finally {
                if (rmBase != null && rmBase != lm) rmBase.close();
            }
        } catch (IOException e) {
            throw new RlcdException(out + ": cannot write: " + e.getMessage(), e);
        }
        return 0;
    }

    private static boolean isLoraPm(Path dir) {
        try {
            JsonObject o = JsonParser.parseString(Files.readString(dir.resolve("preference_model.json")))
                    .getAsJsonObject();
            return o.has("lora") && o.get("lora").getAsBoolean();
        } catch (IOException | RuntimeException e) {
            throw new RlcdException(
                    dir.resolve("preference_model.json")
                            + ": missing or malformed; expected a folder saved by the pm command",
                    e);
        }
    }

    /** Prompts from JSON lines: {@code prompt} (+ {@code response_prefix}) or {@code instruction}; errors name the line. */
    static PromptSet readPrompts(Path file) {
        List<PromptSet.Entry> out = new ArrayList<>();
        for (DataFiles.Line l : JsonlLines.read(file)) {
            int n = l.number();
            JsonObject o;
            try {
                JsonElement e = JsonParser.parseString(l.text());
                if (!e.isJsonObject()) throw new IllegalStateException("not an object");
                o = e.getAsJsonObject();
            } catch (RuntimeException e) {
                throw RlcdException.at(file.toString(), n, "expected a JSON object with \"prompt\" or \"instruction\"");
            }
            String p = string(o, "prompt");
            if (p != null) {
                String prefix = string(o, "response_prefix");
                out.add(new PromptSet.Entry(out.size(), p, prefix == null ? "" : prefix, n));
            } else if (string(o, "instruction") != null) {
                out.add(new PromptSet.Entry(out.size(), string(o, "instruction"), "", n));
            } else {
                throw RlcdException.at(file.toString(), n, "no \"prompt\" or \"instruction\" string field");
            }
        }
        if (out.isEmpty()) throw new RlcdException(file + ": no prompts");
        return PromptSet.of("", file.toString(), out);
    }

    private static String string(JsonObject o, String k) {
        JsonElement e = o.get(k);
        return e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isString() ? e.getAsString() : null;
    }
}
