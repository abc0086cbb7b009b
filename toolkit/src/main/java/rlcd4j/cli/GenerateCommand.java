package rlcd4j.cli;

import com.google.gson.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.Generation;
import rlcd4j.engine.GenerationConfig;
import rlcd4j.progress.Progress;
import rlcd4j.progress.ProgressSink;
import rlcd4j.data.Json;

import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Continue a prompt with a causal LM (greedy with --temperature 0).")
public final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Model folder or Hugging Face repo id.")
    String model;
    @Option(names = "--prompt", required = true)
    String prompt;
    @Option(names = "--max-new-tokens", defaultValue = "128")
    int maxNewTokens;
    @Option(names = "--temperature", defaultValue = "1.0", description = "0 means greedy.")
    double temperature;
    @Option(names = "--top-k", defaultValue = "0", description = "0: off.")
    int topK;
    @Option(names = "--top-p", defaultValue = "1.0")
    double topP;
    @Option(names = "--seed", defaultValue = "0")
    long seed;
    @Option(names = "--stop", description = "Stop string (repeatable).")
    List<String> stops = List.of();
    @Option(names = "--json", description = "Print one JSON object: prompt_ids, ids, text, logprobs, finish_reason.")
    boolean json;

    @Override
    public Integer call() {
        GenerationConfig cfg = GenerationConfig.defaults().withMaxNewTokens(maxNewTokens).withTemperature(temperature)
                .withTopK(topK).withTopP(topP).withSeed(seed).withStopStrings(stops);
        ProgressSink old = json ? Progress.setSink(ProgressSink.SILENT) : Progress.sink();
        try (CausalLM lm = CausalLM.load(model)) {
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
