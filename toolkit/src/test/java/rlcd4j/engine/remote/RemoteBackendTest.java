package rlcd4j.engine.remote;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import rlcd4j.Fixtures;
import rlcd4j.engine.GenerationBackend;
import rlcd4j.engine.Tokenizer;
import rlcd4j.engine.llama.LlamaConfig;

/** Label scoring through a server: exact by echo, or top-k with the labels outside reported; retries mask the key. */
class RemoteBackendTest {
    static Tokenizer tok;
    static int context;

    @BeforeAll
    static void load() {
        LlamaConfig config = LlamaConfig.read(Fixtures.tinyStories().resolve("config.json"));
        tok = Tokenizer.load(Fixtures.tinyStories(), config);
        context = config.maxPositions();
    }

    @AfterAll
    static void close() {
        tok.close();
    }

    static OpenAiCompletionsBackend.Builder client(FakeOpenAiServer s, List<String> log) {
        return OpenAiCompletionsBackend.builder()
                .server(s.baseUrl())
                .tokenizer(tok, context)
                .maxInFlight(3)
                .backoff(Duration.ofMillis(5), Duration.ofMillis(20))
                .log(log::add);
    }

    @Test
    void echoGivesEachLabelTokensOwnLogprob() throws Exception {
        List<String> log = new ArrayList<>();
        long a = tok.lastTokenId("A"), b = tok.lastTokenId("B");
        List<String> prompts = List.of("Once upon a time (", "The answer is: (");
        try (var s = new FakeOpenAiServer(tok, 0, FakeOpenAiServer.Mode.ECHO, -1);
                var backend = client(s, log).build()) {
            assertEquals("fake-model", backend.model()); // asked /v1/models
            double[][] lp = backend.labelLogprobs(prompts, new long[] {a, b});
            for (int i = 0; i < prompts.size(); i++) {
                long[] ids = tok.encode(prompts.get(i), true);
                long[] withA = Arrays.copyOf(ids, ids.length + 1), withB = Arrays.copyOf(ids, ids.length + 1);
                withA[ids.length] = a;
                withB[ids.length] = b;
                assertEquals(FakeOpenAiServer.logprob(withA, ids.length), lp[i][0], 0.0);
                assertEquals(FakeOpenAiServer.logprob(withB, ids.length), lp[i][1], 0.0);
            }
            assertEquals(OpenAiCompletionsBackend.Scoring.ECHO, backend.scoring());
        }
    }

    @Test
    void withoutPromptLogprobsLabelsOutsideTheTopKAreNaNAndReported() throws Exception {
        List<String> log = new ArrayList<>();
        long a = tok.lastTokenId("A"), b = tok.lastTokenId("B");
        String prompt = "The answer is: (";
        long[] ids = tok.encode(prompt, true);
        long[] withA = Arrays.copyOf(ids, ids.length + 1);
        withA[ids.length] = a;
        String aText = tok.decode(withA).substring(tok.decode(ids).length());
        try (var s = new FakeOpenAiServer(tok, 0, FakeOpenAiServer.Mode.NO_ECHO, -1);
                var backend = client(s, log).build()) {
            s.top = Map.of(aText, -0.5, "zzz", -3.0);
            double[][] lp = backend.labelLogprobs(List.of(prompt), new long[] {a, b});
            assertEquals(-0.5, lp[0][0], 0.0);
            assertTrue(Double.isNaN(lp[0][1]), "label B is outside the top-k: " + lp[0][1]);
            assertEquals(OpenAiCompletionsBackend.Scoring.TOP_LOGPROBS, backend.scoring());
            assertEquals(1, backend.labelsOutsideTopK());
            assertTrue(log.stream().anyMatch(l -> l.contains("no prompt log-probabilities")), String.join("\n", log));
            assertTrue(log.stream().anyMatch(l -> l.contains("not among the server's top-20")), String.join("\n", log));
        }
    }

    @Test
    void serverErrorsAreRetriedAndNeverShowTheKey() throws Exception {
        List<String> log = new ArrayList<>();
        try (var s = new FakeOpenAiServer(tok, 0, FakeOpenAiServer.Mode.ECHO, -1);
                var backend = client(s, log)
                        .model("fake-model")
                        .apiKey("sk-top-secret")
                        .build()) {
            s.failuresQuotingKey = 2;
            var gens = backend.generate(
                    List.of("Hello"),
                    rlcd4j.engine.GenerationConfig.simulation().withMaxNewTokens(5),
                    new long[] {7});
            assertEquals(1, gens.size());
            assertEquals(2, backend.retries());
            assertEquals(2, log.size());
            for (String l : log) {
                assertTrue(l.contains("HTTP 500") && l.contains("***"), l);
                assertFalse(l.contains("sk-top-secret"), l);
            }
            assertFalse(backend.toString().contains("sk-top-secret"));
        }
    }

    @Test
    void theStopStringAndEosAreRebuiltAsTheEngineReportsThem() throws Exception {
        theStopStringIsRebuilt(false);
    }

    @Test
    void aStopStringLeftOutOfTheTextIsPutBackFromStopReason() throws Exception {
        theStopStringIsRebuilt(true);
    }

    private void theStopStringIsRebuilt(boolean onlyInStopReason) throws Exception {
        try (var s = new FakeOpenAiServer(tok, 0, FakeOpenAiServer.Mode.ECHO, -1);
                var backend = client(s, new ArrayList<>()).model("fake-model").build()) {
            s.stopStringOnlyInStopReason = onlyInStopReason;
            GenerationBackend g = backend;
            var cfg = rlcd4j.engine.GenerationConfig.simulation().withMaxNewTokens(5);
            int stops = 0;
            for (long seed = 0; seed < 12; seed++) {
                var gen = g.generate(List.of("Hi"), cfg, new long[] {seed}).get(0);
                if (gen.finishReason().equals("stop")) {
                    stops++;
                    assertTrue(
                            gen.rawText().endsWith("\n\nHuman") && !gen.text().contains("Human"), gen.rawText());
                } else {
                    assertEquals("length", gen.finishReason());
                    assertEquals(gen.text(), gen.rawText());
                }
            }
            assertTrue(stops > 0, "no sample ended on the stop string");
        }
    }
}
