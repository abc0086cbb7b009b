package rlcd4j.engine.remote;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import rlcd4j.Fixtures;
import rlcd4j.contrast.AttributeSpec;
import rlcd4j.contrast.Method;
import rlcd4j.contrast.Simulator;
import rlcd4j.data.HhRlhf;
import rlcd4j.data.PairRow;
import rlcd4j.data.PairStatus;
import rlcd4j.data.PromptSet;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.GenerationConfig;
import rlcd4j.eval.Outputs;
import rlcd4j.hub.HfHub;
import rlcd4j.progress.Progress;
import rlcd4j.progress.ProgressSink;
import rlcd4j.serve.OpenAiServer;
import rlcd4j.util.PostProcess;
import tech.tablesaw.api.Table;

/**
 * The client against {@code rlcd serve} ({@link OpenAiServer}) started on loopback: simulation (all three methods) and
 * decoding give what the in-process engine gives for the same seeds. Outputs, statuses and attempts are equal exactly.
 * {@code p_b} agrees to 1e-6, not bit for bit: the server sends log-probabilities (logits minus the normaliser), whose
 * softmax rounds differently from the logits'. {@code a_logit}/{@code b_logit} differ by that normaliser. (Its engine
 * thread once ran with libtorch's per-thread grad mode on, which changed the last float bits and halved its speed;
 * the engine now turns it off for decoding on any thread.)
 */
class EngineEqualityTest {
    static CausalLM lm;
    static ProgressSink oldSink;
    static final PromptSet PROMPTS =
            HhRlhf.read(Fixtures.hhHarmlessTest()).ids(0, 10).prompts("harmlessness");
    // TinyStories never starts a Human turn, so the paper's filter would drop every pair: no filter, pairs get scored
    static final Simulator.Options OPTIONS =
            Simulator.Options.defaults().withMaxNewTokens(12).withMaxAttempts(2).withPostProcess(PostProcess.none());

    @BeforeAll
    static void load() {
        lm = CausalLM.load(Fixtures.tinyStories());
        oldSink = Progress.setSink(ProgressSink.SILENT);
    }

    @AfterAll
    static void close() {
        lm.close();
        Progress.setSink(oldSink);
    }

    static OpenAiServer serve() {
        return OpenAiServer.start(lm, OpenAiServer.Options.defaults("tiny").withPort(0));
    }

    static OpenAiCompletionsBackend client(OpenAiServer s, List<String> log) {
        return OpenAiCompletionsBackend.builder()
                .server("http://127.0.0.1:" + s.port() + "/v1")
                .model("tiny")
                .modelFiles(Fixtures.tinyStories().toString(), HfHub.fromEnvironment())
                .maxInFlight(2)
                .log(log::add)
                .build();
    }

    @Test
    void simulationThroughTheServerEqualsInProcess() throws Exception {
        List<String> log = new ArrayList<>();
        try (var server = serve();
                var backend = client(server, log)) {
            for (Method m : Method.values()) {
                List<PairRow> local = Simulator.run(lm, PROMPTS, AttributeSpec.harmlessness(), m, OPTIONS)
                        .rows();
                List<PairRow> remote = Simulator.run(backend, PROMPTS, AttributeSpec.harmlessness(), m, OPTIONS)
                        .rows();
                assertEquals(local.size(), remote.size());
                int scored = 0;
                for (int i = 0; i < local.size(); i++) {
                    PairRow a = local.get(i), b = remote.get(i);
                    String what = m.id() + " row " + a.id();
                    assertEquals(a.status(), b.status(), what);
                    assertEquals(a.attempts(), b.attempts(), what);
                    assertEquals(a.chosen(), b.chosen(), what);
                    assertEquals(a.rejected(), b.rejected(), what);
                    assertEquals(a.error(), b.error(), what);
                    if (m != Method.RLCD && a.status() == PairStatus.OK) {
                        scored++;
                        assertEquals(a.pB(), b.pB(), 1e-6, what);
                        assertEquals(a.aLogit() - a.bLogit(), b.aLogit() - b.bLogit(), 1e-5, what);
                    }
                }
                if (m != Method.RLCD) assertTrue(scored > 0, m.id() + ": no pair was scored");
            }
            assertEquals(OpenAiCompletionsBackend.Scoring.ECHO, backend.scoring());
            // text prompts only, so rlcd serve (which takes no token-id prompts) can score them too
            assertEquals(0, backend.tokenIdPrompts());
        }
    }

    @Test
    void decodingThroughTheServerEqualsInProcess() throws Exception {
        GenerationConfig cfg =
                GenerationConfig.evaluation().withMaxNewTokens(16).withSeed(3);
        try (var server = serve();
                var backend = client(server, new ArrayList<>())) {
            Table local = Outputs.decode(lm, "tiny", PROMPTS, cfg, null);
            Table remote = Outputs.decode(backend, "tiny", PROMPTS, cfg, null);
            assertEquals(
                    local.stringColumn(Outputs.OUTPUT).asList(),
                    remote.stringColumn(Outputs.OUTPUT).asList());
        }
    }
}
