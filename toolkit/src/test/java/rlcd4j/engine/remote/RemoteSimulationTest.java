package rlcd4j.engine.remote;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.Fixtures;
import rlcd4j.contrast.AttributeSpec;
import rlcd4j.contrast.Method;
import rlcd4j.contrast.Simulator;
import rlcd4j.data.HhRlhf;
import rlcd4j.data.PairRow;
import rlcd4j.data.PairStatus;
import rlcd4j.data.PreferencePairs;
import rlcd4j.data.PromptSet;
import rlcd4j.engine.Tokenizer;
import rlcd4j.engine.llama.LlamaConfig;
import rlcd4j.progress.Progress;
import rlcd4j.progress.ProgressSink;
import rlcd4j.util.Json;
import rlcd4j.util.RlcdException;
import rlcd4j.util.Seeds;

/** Simulation through OpenAI-compatible servers (fakes on loopback): requests, several servers, kill and resume. */
class RemoteSimulationTest {
    static Tokenizer tok;
    static int context;
    static ProgressSink oldSink;
    static final PromptSet PROMPTS =
            HhRlhf.read(Fixtures.hhHarmlessTest()).ids(0, 24).prompts("harmlessness");
    static final Simulator.Options OPTIONS = Simulator.Options.defaults().withMaxNewTokens(20);

    @BeforeAll
    static void load() {
        LlamaConfig config = LlamaConfig.read(Fixtures.tinyStories().resolve("config.json"));
        tok = Tokenizer.load(Fixtures.tinyStories(), config);
        context = config.maxPositions();
        oldSink = Progress.setSink(ProgressSink.SILENT);
    }

    @AfterAll
    static void close() {
        tok.close();
        Progress.setSink(oldSink);
    }

    static OpenAiCompletionsBackend.Builder client(List<String> urls, List<String> log) {
        return OpenAiCompletionsBackend.builder()
                .servers(urls)
                .model("fake-model")
                .tokenizer(tok, context)
                .maxInFlight(4)
                .backoff(Duration.ofMillis(5), Duration.ofMillis(20))
                .timeout(Duration.ofSeconds(20))
                .log(log::add);
    }

    static Map<Integer, String> rowsById(Path file) throws Exception {
        Map<Integer, String> rows = new LinkedHashMap<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) continue;
            JsonObject o = Json.parseObject(line);
            int id = o.get("id").getAsInt();
            assertFalse(rows.containsKey(id), "id " + id + " written twice in " + file);
            rows.put(id, line);
        }
        return rows;
    }

    @Test
    void rlaifThroughTwoServersSendsThePerSampleSeedsAndScoresExactly(@TempDir Path dir) throws Exception {
        List<String> log = new ArrayList<>();
        try (var a = new FakeOpenAiServer(tok, 0, FakeOpenAiServer.Mode.ECHO, -1);
                var b = new FakeOpenAiServer(tok, 0, FakeOpenAiServer.Mode.ECHO, -1);
                var backend = client(List.of(a.baseUrl(), b.baseUrl()), log).build()) {
            PreferencePairs t = Simulator.run(
                    backend,
                    PROMPTS,
                    AttributeSpec.harmlessness(),
                    Method.RLAIF,
                    OPTIONS.withOutput(dir.resolve("p.jsonl")));
            assertEquals(PROMPTS.size(), t.size());
            assertTrue(
                    a.requests() > 0 && b.requests() > 0, "both servers used: " + a.requests() + ", " + b.requests());
            assertEquals(OpenAiCompletionsBackend.Scoring.ECHO, backend.scoring());
            assertTrue(
                    log.stream().anyMatch(l -> l.contains("exact prompt log-probabilities")), String.join("\n", log));

            List<JsonObject> bodies = new ArrayList<>(a.bodies);
            bodies.addAll(b.bodies);
            Set<Long> seeds = new HashSet<>();
            for (JsonObject body : bodies) {
                if (body.has("echo")) continue;
                seeds.add(body.get("seed").getAsLong());
                assertEquals(1, body.get("n").getAsInt());
                assertEquals(50, body.get("top_k").getAsInt());
                assertEquals(20, body.get("max_tokens").getAsInt());
                assertEquals("[\"Human\"]", body.get("stop").toString());
                assertTrue(body.get("include_stop_str_in_output").getAsBoolean());
                assertEquals("[\"\\\\\",\"`\"]", body.get("bad_words").toString());
            }
            int ok = 0;
            for (PairRow r : t.rows()) {
                if (r.status() != PairStatus.OK) continue;
                ok++;
                assertTrue(seeds.contains(Seeds.sampleSeed(0, r.id(), 0, 1)), "first sample of prompt " + r.id());
                assertTrue(seeds.contains(Seeds.sampleSeed(0, r.id(), 1, 1)), "second sample of prompt " + r.id());
                // the label log-probabilities are the fake's value for the echoed label token
                assertTrue(r.aLogit() < 0 && r.bLogit() < 0);
                assertEquals(rlcd4j.util.RlaifLabel.probB(r.aLogit(), r.bLogit()), r.pB(), 1e-12);
            }
            assertTrue(ok >= PROMPTS.size() / 2, ok + " pairs kept");
        }
    }

    @Test
    void aServerKilledMidRunLosesAndDuplicatesNoPairOnResume(@TempDir Path dir) throws Exception {
        Path whole = dir.resolve("whole.jsonl"), resumed = dir.resolve("resumed.jsonl");
        List<String> log = new ArrayList<>();
        // pairs are scored (and written) 4 at a time, so some are written before the server dies
        Simulator.Options options = OPTIONS.withBatchSize(4);
        try (var s = new FakeOpenAiServer(tok, 0, FakeOpenAiServer.Mode.ECHO, -1);
                var backend = client(List.of(s.baseUrl()), log).build()) {
            Simulator.run(backend, PROMPTS, AttributeSpec.harmlessness(), Method.RLAIF, options.withOutput(whole));
        }
        Map<Integer, String> expected = rowsById(whole);
        assertEquals(PROMPTS.size(), expected.size());

        int port;
        try (var dying = new FakeOpenAiServer(tok, 0, FakeOpenAiServer.Mode.ECHO, 40);
                var backend =
                        client(List.of(dying.baseUrl()), log).maxRetries(2).build()) {
            port = dying.port();
            RlcdException e = assertThrows(
                    RlcdException.class,
                    () -> Simulator.run(
                            backend, PROMPTS, AttributeSpec.harmlessness(), Method.RLAIF, options.withOutput(resumed)));
            assertTrue(e.getMessage().contains("gave up"), e.getMessage());
        }
        int before = rowsById(resumed).size();
        assertTrue(before > 0 && before < PROMPTS.size(), before + " rows written before the server died");

        try (var restarted = new FakeOpenAiServer(tok, port, FakeOpenAiServer.Mode.ECHO, -1);
                var backend = client(List.of(restarted.baseUrl()), log).build()) {
            PreferencePairs t = Simulator.run(
                    backend, PROMPTS, AttributeSpec.harmlessness(), Method.RLAIF, options.withOutput(resumed));
            assertEquals(PROMPTS.size(), t.size());
        }
        Map<Integer, String> after = rowsById(resumed); // fails on a duplicated id
        assertEquals(expected.keySet(), new HashSet<>(after.keySet()));
        for (int id : expected.keySet()) assertEquals(expected.get(id), after.get(id), "row " + id);
    }
}
