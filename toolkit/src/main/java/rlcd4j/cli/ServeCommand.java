package rlcd4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.llama.LoraAdapter;
import rlcd4j.serve.OpenAiServer;
import rlcd4j.util.RlcdException;

/**
 * {@code rlcd serve --model M [--adapter DIR]}: an OpenAI-compatible server on the project's engine (docs/serve.md),
 * until the process is stopped.
 */
@Command(
        name = "serve",
        mixinStandardHelpOptions = true,
        description = "Serve a model over an OpenAI-compatible HTTP API "
                + "(/v1/models, /v1/completions, /v1/chat/completions).")
public final class ServeCommand implements Callable<Integer> {
    private static final OpenAiServer.Options DEFAULTS = OpenAiServer.Options.defaults("default"); // its sizes only

    @Option(
            names = "--model",
            required = true,
            description = "Base model or trained policy: model folder or Hugging Face repo id.")
    String model;

    @Option(names = "--adapter", description = "A PEFT LoRA adapter folder (adapter_config.json) to put on --model.")
    Path adapter;

    @Mixin
    DecodeWeightsOption decoding;

    @Option(names = "--host", description = "Address to bind (default ${DEFAULT-VALUE}, this machine only).")
    String host = DEFAULTS.host();

    @Option(names = "--port", description = "Default ${DEFAULT-VALUE}; 0 picks a free port.")
    int port = DEFAULTS.port();

    @Option(
            names = "--api-key",
            description = "Require 'Authorization: Bearer KEY' "
                    + "(default: the RLCD_SERVE_API_KEY environment variable, or none).")
    String apiKey;

    @Option(names = "--served-model-name", description = "The model id clients send (default: the --model argument).")
    String name;

    @Option(names = "--batch-size", description = "Samples decoded together (default ${DEFAULT-VALUE}).")
    int batchSize = DEFAULTS.batchSize();

    @Option(
            names = "--max-n",
            description = "Largest n (choices per prompt) a request may ask for (default ${DEFAULT-VALUE}).")
    int maxN = DEFAULTS.maxN();

    @Option(
            names = "--max-waiting",
            description = "Samples that may wait for a row before requests get 429 (default ${DEFAULT-VALUE}).")
    int maxWaiting = DEFAULTS.maxWaiting();

    @Option(
            names = "--threads",
            description = "HTTP threads, i.e. requests handled at once (default ${DEFAULT-VALUE}).")
    int threads = DEFAULTS.threads();

    @Override
    public Integer call() throws InterruptedException {
        String key = apiKey != null ? apiKey : System.getenv("RLCD_SERVE_API_KEY");
        if (key != null && key.isEmpty()) throw new RlcdException("--api-key must not be empty");
        OpenAiServer.Options options = new OpenAiServer.Options(
                host,
                port,
                name != null ? name : model,
                key,
                batchSize,
                maxN,
                maxWaiting,
                threads,
                DEFAULTS.maxBodyBytes());
        // a client that sends part of a request and stalls holds an HTTP thread; the JDK's server lets it go after
        // this many seconds (read when its first server starts, so set here, before it)
        if (System.getProperty("sun.net.httpserver.maxReqTime") == null) {
            System.setProperty("sun.net.httpserver.maxReqTime", "120");
        }
        CausalLM lm = load(model, adapter, decoding.loading());
        OpenAiServer server;
        try {
            server = OpenAiServer.start(lm, options);
        } catch (RuntimeException e) {
            lm.close();
            throw e;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            server.close();
                            lm.close();
                            stopped.countDown();
                        },
                        "rlcd-serve-shutdown"));
        System.out.println("rlcd serve: " + lm + (adapter != null ? " + LoRA " + adapter : "") + " as '"
                + options.name() + "' on " + server.baseUrl() + " (chat format: " + server.chatFormat() + ", "
                + (key != null ? "API key required" : "no API key") + "); Ctrl-C stops");
        stopped.await();
        return 0;
    }

    /** {@code model}, with the LoRA adapter in {@code adapter} on it when that is not null. */
    static CausalLM load(String model, Path adapter, CausalLM.Options loading) {
        if (adapter != null && !Files.isRegularFile(adapter.resolve("adapter_config.json"))) {
            throw new RlcdException(adapter + ": not a LoRA adapter folder (no adapter_config.json); "
                    + "a fully trained policy is a model folder: pass it as --model");
        }
        CausalLM lm = CausalLM.load(model, loading);
        if (adapter == null) return lm;
        try {
            lm.model().setAdapter(LoraAdapter.load(adapter, lm.config(), lm.manager()));
            return lm;
        } catch (RuntimeException e) {
            lm.close();
            throw e;
        }
    }
}
