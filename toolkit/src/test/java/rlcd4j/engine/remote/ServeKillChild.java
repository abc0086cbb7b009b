package rlcd4j.engine.remote;

import java.nio.file.Path;
import java.time.Duration;
import rlcd4j.Fixtures;
import rlcd4j.contrast.AttributeSpec;
import rlcd4j.contrast.Method;
import rlcd4j.contrast.Simulator;
import rlcd4j.data.HhRlhf;
import rlcd4j.data.PromptSet;
import rlcd4j.hub.HfHub;
import rlcd4j.progress.Progress;
import rlcd4j.progress.ProgressSink;
import rlcd4j.util.PostProcess;

/**
 * The simulating JVM of {@link ServeKillResumeIT}: an RLAIF simulation through {@code rlcd serve} at {@code args[0]},
 * appending its pairs to {@code args[1]} (resuming what is there), with the client's default retries but a shorter
 * first backoff, so that a server restarted within about a minute is waited for.
 */
public final class ServeKillChild {
    static final int PROMPTS = 48;
    static final Simulator.Options OPTIONS = Simulator.Options.defaults()
            .withMaxNewTokens(24)
            .withBatchSize(4)
            .withMaxAttempts(2)
            .withPostProcess(PostProcess.none()); // TinyStories never writes "Human": no filter

    private ServeKillChild() {}

    static PromptSet prompts() {
        return HhRlhf.read(Fixtures.hhHarmlessTest()).ids(0, PROMPTS).prompts("harmlessness");
    }

    public static void main(String[] args) {
        Progress.setSink(ProgressSink.SILENT);
        try (var backend = OpenAiCompletionsBackend.builder()
                .server(args[0])
                .model("tiny")
                .modelFiles(Fixtures.tinyStories().toString(), HfHub.fromEnvironment())
                .maxInFlight(2)
                .backoff(Duration.ofMillis(250), Duration.ofSeconds(4))
                .maxRetries(30)
                .log(System.out::println)
                .build()) {
            var t = Simulator.run(
                    backend,
                    prompts(),
                    AttributeSpec.harmlessness(),
                    Method.RLAIF,
                    OPTIONS.withOutput(Path.of(args[1])));
            System.out.println("done: " + t.size() + " rows, " + backend.retries() + " retries");
        }
    }
}
