package rlcd4j.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import picocli.CommandLine.Option;
import rlcd4j.engine.remote.OpenAiCompletionsBackend;
import rlcd4j.hub.HfHub;
import rlcd4j.util.RlcdException;

/**
 * The flags that send generation to OpenAI-compatible servers instead of the in-process engine (a picocli mixin of
 * {@code simulate} and {@code decode}). The API key is read from an environment variable named on the command line,
 * so it never appears in a command line, a log or a shell history.
 */
final class ServerOptions {
    @Option(
            names = "--server",
            paramLabel = "URL",
            description = "OpenAI-compatible server (vLLM, SGLang, TGI, rlcd serve), e.g. http://127.0.0.1:8000/v1; "
                    + "repeat to use several together. --model then only gives the tokenizer.")
    List<String> servers = new ArrayList<>();

    @Option(
            names = "--server-model",
            paramLabel = "NAME",
            description = "Model name in requests (default: the only model the first server lists).")
    String serverModel;

    @Option(
            names = "--server-api-key-env",
            paramLabel = "VAR",
            description = "Environment variable holding the servers' API key (default: none sent).")
    String apiKeyEnv;

    @Option(
            names = "--server-in-flight",
            paramLabel = "N",
            description = "Requests in flight per server (default: ${DEFAULT-VALUE}).")
    int inFlight = OpenAiCompletionsBackend.DEFAULT_MAX_IN_FLIGHT;

    UnaryOperator<String> env = System::getenv;

    boolean remote() {
        return !servers.isEmpty();
    }

    /** The backend for {@code model}'s tokenizer (folder or repo id; only its config and tokenizer files are read). */
    OpenAiCompletionsBackend backend(String model, HfHub hub) {
        String key = null;
        if (apiKeyEnv != null) {
            key = env.apply(apiKeyEnv);
            if (key == null || key.isBlank()) {
                throw new RlcdException("--server-api-key-env " + apiKeyEnv + ": that environment variable is not set");
            }
        }
        if (inFlight < 1) throw new RlcdException("--server-in-flight must be >= 1, got " + inFlight);
        return OpenAiCompletionsBackend.builder()
                .servers(servers)
                .model(serverModel)
                .apiKey(key)
                .maxInFlight(inFlight)
                .modelFiles(model, hub)
                .build();
    }
}
