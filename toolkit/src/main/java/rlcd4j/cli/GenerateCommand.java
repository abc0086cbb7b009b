package rlcd4j.cli;

import com.google.gson.JsonObject;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.Generation;
import rlcd4j.engine.GenerationConfig;
import rlcd4j.progress.Progress;
import rlcd4j.progress.ProgressSink;
import rlcd4j.util.Json;

@Command(
        name = "generate",
        mixinStandardHelpOptions = true,
        description = "Continue a prompt with a causal LM (greedy with --temperature 0).")
public final class GenerateCommand implements Callable<Integer> {
    private static final GenerationConfig DEFAULTS = GenerationConfig.defaults();

    @Option(names = "--model", required = true, description = "Model folder or Hugging Face repo id.")
    String model;

    @Option(names = "--prompt", required = true)
    String prompt;

    @Option(names = "--max-new-tokens", description = "Default: ${DEFAULT-VALUE}.")
    int maxNewTokens = DEFAULTS.maxNewTokens();

    @Option(names = "--temperature", description = "0 means greedy (default: ${DEFAULT-VALUE}).")
    double temperature = DEFAULTS.temperature();

    @Option(names = "--top-k", description = "0: off (default: ${DEFAULT-VALUE}).")
    int topK = DEFAULTS.topK();

    @Option(names = "--top-p", description = "Default: ${DEFAULT-VALUE}.")
    double topP = DEFAULTS.topP();

    @Option(names = "--seed", description = "Default: ${DEFAULT-VALUE}.")
    long seed = DEFAULTS.seed();

    @Option(names = "--stop", description = "Stop string (repeatable).")
    List<String> stops = List.of();

    @Mixin
    DecodeWeightsOption decoding;

    @Option(names = "--json", description = "Print one JSON object: prompt_ids, ids, text, logprobs, finish_reason.")
    boolean json;

    @Override
    public Integer call() {
        GenerationConfig cfg = DEFAULTS.withMaxNewTokens(maxNewTokens)
                .withTemperature(temperature)
                .withTopK(topK)
                .withTopP(topP)
                .withSeed(seed)
                .withStopStrings(stops);
        ProgressSink old = json ? Progress.setSink(ProgressSink.SILENT) : Progress.sink();
        try (CausalLM lm = CausalLM.load(model, decoding.loading())) {
            Generation g = lm.generate(prompt, cfg);
            if (json) {
                JsonObject o = new JsonObject();
                o.add("prompt_ids", Json.GSON.toJsonTree(g.promptIds()));
                o.add("ids", Json.GSON.toJsonTree(g.ids()));
                o.addProperty("text", g.text());
                o.add("logprobs", Json.GSON.toJsonTree(g.logprobs()));
                o.addProperty("finish_reason", g.finishReason());
                System.out.println(Json.GSON.toJson(o));
            } else {
                System.out.println(prompt + g.text());
            }
        } finally {
            Progress.setSink(old);
        }
        return 0;
    }
}
