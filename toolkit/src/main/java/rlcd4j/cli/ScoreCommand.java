package rlcd4j.cli;

import com.google.gson.JsonObject;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.Scored;
import rlcd4j.util.Json;

@Command(
        name = "score",
        mixinStandardHelpOptions = true,
        description = "Log-probability of a response after a prompt: the sum and each token's.")
public final class ScoreCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Model folder or Hugging Face repo id.")
    String model;

    @Option(names = "--prompt", required = true)
    String prompt;

    @Option(names = "--response", required = true)
    String response;

    @Option(names = "--json", description = "Print one JSON object: ids, tokens, logprobs, sum.")
    boolean json;

    @Override
    public Integer call() {
        try (CausalLM lm = CausalLM.load(model)) {
            Scored s = lm.score(prompt, response);
            if (json) {
                JsonObject o = new JsonObject();
                o.add("ids", Json.GSON.toJsonTree(s.ids()));
                o.add("logprobs", Json.GSON.toJsonTree(s.logprobs()));
                o.addProperty("sum", s.sum());
                System.out.println(Json.GSON.toJson(o));
            } else {
                for (int i = 0; i < s.ids().length; i++) {
                    String piece = lm.tokenizer().decode(new long[] {s.ids()[i]});
                    System.out.printf(
                            "%8d  %-20s %10.4f%n",
                            s.ids()[i], "\"" + piece.replace("\n", "\\n") + "\"", s.logprobs()[i]);
                }
                System.out.printf("sum log p = %.4f over %d tokens%n", s.sum(), s.ids().length);
            }
        }
        return 0;
    }
}
