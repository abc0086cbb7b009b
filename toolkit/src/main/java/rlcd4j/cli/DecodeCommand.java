package rlcd4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import rlcd4j.Rlcd;
import rlcd4j.data.BadLine;
import rlcd4j.data.PromptSet;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.GenerationConfig;
import rlcd4j.engine.remote.OpenAiCompletionsBackend;
import rlcd4j.eval.Outputs;
import rlcd4j.hub.HfHub;
import rlcd4j.util.Json;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.Table;

/**
 * {@code rlcd decode --model M --prompts FILE --out OUTPUTS.jsonl}: the paper's final decoding of a policy, one sample
 * per prompt (temperature 1, top-p 0.9, top-k off, 300 new tokens, cut at {@code "\n\nHuman:"}, role labels
 * stripped), written as an outputs table for {@code rlcd eval}. Rows are appended as batches finish; rerunning the same
 * command resumes and decodes only the ids not yet in the file, with the same outputs an uninterrupted run gives.
 * {@code --model} may be a LoRA adapter folder (what {@code rlcd ppo --lora-rank} writes under {@code OUT/policy}); it
 * is decoded on its base model.
 */
@Command(
        name = "decode",
        mixinStandardHelpOptions = true,
        description = "Sample one response per prompt with the paper's final decoding settings into an outputs JSONL "
                + "(resumable).")
public final class DecodeCommand implements Callable<Integer> {
    private static final GenerationConfig DEFAULTS = GenerationConfig.evaluation();

    @Option(
            names = "--model",
            required = true,
            description = "Policy: model folder, Hugging Face repo id, or LoRA adapter folder (adapter_config.json, "
                    + "as rlcd ppo/sft/dpo --lora-rank write); with --server, the model whose tokenizer is used.")
    String model;

    @Option(
            names = "--base",
            description = "For an adapter folder: its base model, folder or repo id "
                    + "(default: the adapter's base_model_name_or_path).")
    String base;

    @Option(
            names = "--prompts",
            required = true,
            description = "Prompts: JSONL(.gz) with id and prompt per line, or an HH-RLHF file (chosen/rejected; "
                    + "prompt = chosen up to its last 'Assistant:').")
    Path prompts;

    @Option(
            names = "--split",
            defaultValue = "all",
            description = "all, dev (ids 0-999) or test (ids 1000-1999; the paper's evaluation prompts of an HH-RLHF "
                    + "test file) (default ${DEFAULT-VALUE}).")
    String split;

    @Option(
            names = "--out",
            required = true,
            description = "Outputs JSONL (id, prompt, model, output, ...); an existing one is resumed.")
    Path out;

    @Option(
            names = "--name",
            description = "Model name recorded in column 'model' (default: the model folder's name, or the repo id).")
    String name;

    @Option(names = "--limit", description = "Only the first N prompts (after --split).")
    Integer limit;

    @Option(
            names = "--seed",
            description = "Sampling seed; each prompt samples from a seed derived from (seed, id) (default "
                    + "${DEFAULT-VALUE}).")
    long seed = DEFAULTS.seed();

    @Option(names = "--max-new-tokens", description = "Default ${DEFAULT-VALUE} (the paper's).")
    int maxNewTokens = DEFAULTS.maxNewTokens();

    @Option(names = "--temperature", description = "0 means greedy. Default ${DEFAULT-VALUE} (the paper's).")
    double temperature = DEFAULTS.temperature();

    @Option(names = "--top-p", description = "Default ${DEFAULT-VALUE} (the paper's).")
    double topP = DEFAULTS.topP();

    @Option(names = "--top-k", description = "0: off (default: ${DEFAULT-VALUE}, the paper's).")
    int topK = DEFAULTS.topK();

    @Option(
            names = "--batch-size",
            description = "Prompts decoded together (does not change the outputs) (default ${DEFAULT-VALUE}).")
    int batchSize = DEFAULTS.batchSize();

    @Option(names = "--strict", description = "Stop at the first bad prompt line instead of skipping it.")
    boolean strict;

    @Mixin
    ServerOptions server = new ServerOptions();

    @Override
    public Integer call() {
        GenerationConfig cfg;
        try {
            cfg = DEFAULTS.withMaxNewTokens(maxNewTokens)
                    .withTemperature(temperature)
                    .withTopP(topP)
                    .withTopK(topK)
                    .withSeed(seed)
                    .withBatchSize(batchSize);
        } catch (IllegalArgumentException e) {
            throw new RlcdException("decode: " + e.getMessage());
        }
        PromptSet set = PromptSet.load(prompts, "prompts", strict);
        for (BadLine b : set.skipped()) System.err.println("skipped " + b);
        set = switch (split.toLowerCase(Locale.ROOT)) {
            case "all" -> set;
            case "dev" -> set.ids(0, 1000);
            case "test" -> set.ids(1000, 2000);
            default -> throw new RlcdException("--split " + split + ": expected all, dev or test");
        };
        if (limit != null) set = set.limit(limit);
        if (set.size() == 0)
            throw new RlcdException(
                    prompts + ": no prompts in split '" + split + "' (ids 0-999 are dev, 1000-1999 test)");
        String modelName = name != null ? name : defaultName(model);
        Table t;
        if (server.remote()) {
            try (OpenAiCompletionsBackend backend = server.backend(model, HfHub.fromEnvironment())) {
                t = Outputs.decode(backend, modelName, set, cfg, out);
            }
        } else {
            try (CausalLM lm = loadPolicy(model, base)) {
                t = Outputs.decode(lm, modelName, set, cfg, out);
            }
        }
        System.out.println(t.rowCount() + " outputs of " + modelName + " in " + out.toAbsolutePath());
        return 0;
    }

    /**
     * A whole model by folder or repo id, or a LoRA adapter folder put on its base: {@code base} if given, else the
     * adapter's {@code base_model_name_or_path} (the base's absolute folder, or the repo id, that the trainers write).
     */
    static CausalLM loadPolicy(String model, String base) {
        Path dir = Path.of(model);
        Path config = dir.resolve("adapter_config.json");
        if (!Files.isRegularFile(config)) {
            if (base != null) {
                throw new RlcdException(
                        "--base is for a LoRA adapter folder; " + model + " has no adapter_config.json");
            }
            return CausalLM.load(model);
        }
        return Rlcd.load(base != null ? base : adapterBase(config), dir, CausalLM.Options.defaults());
    }

    /** The base model an adapter folder names, checked enough to fail with a way out rather than a Hub lookup. */
    private static String adapterBase(Path config) {
        String named, way = "; name the base model with --base";
        try {
            named = Json.string(Json.parseObject(Files.readString(config)), "base_model_name_or_path");
        } catch (IOException | IllegalArgumentException e) {
            throw new RlcdException(config + ": cannot read base_model_name_or_path (" + e.getMessage() + ")" + way, e);
        }
        if (named == null || named.isBlank()) {
            throw new RlcdException(config + ": no base_model_name_or_path" + way);
        }
        if (Path.of(named).isAbsolute() && !Files.isDirectory(Path.of(named))) {
            throw new RlcdException(config + ": base_model_name_or_path " + named + " is not a folder here" + way);
        }
        return named;
    }

    /** The folder name of a local model, else the repo id as given. */
    static String defaultName(String model) {
        Path p = Path.of(model);
        return Files.isDirectory(p) && p.toAbsolutePath().normalize().getFileName() != null
                ? p.toAbsolutePath().normalize().getFileName().toString()
                : model;
    }
}
