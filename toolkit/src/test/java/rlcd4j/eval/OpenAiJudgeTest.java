package rlcd4j.eval;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.eval.JudgePrompt.Task;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.Table;

/** The API judge against a chat-completions server on 127.0.0.1 that this test starts and scripts. */
class OpenAiJudgeTest {
    private static final String KEY = "sk-test-SECRET-0123456789";
    private static final String INSTRUCTION = "\n\nHuman: Is the sky blue?\n\nAssistant:";

    /** One scripted server behaviour per request, in order; when the script runs out, a normal "(A)" answer. */
    private final ConcurrentLinkedQueue<Consumer<HttpExchange>> script = new ConcurrentLinkedQueue<>();

    private final List<String> bodies = Collections.synchronizedList(new ArrayList<>());
    private final List<String> authHeaders = Collections.synchronizedList(new ArrayList<>());
    private final List<String> logs = Collections.synchronizedList(new ArrayList<>());
    private HttpServer server;
    private String baseUrl;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newCachedThreadPool()); // a slow answer must not block the retry behind it
        server.createContext("/v1/chat/completions", ex -> {
            bodies.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            authHeaders.add(ex.getRequestHeaders().getFirst("Authorization"));
            Consumer<HttpExchange> next = script.poll();
            (next != null ? next : ok("(A) The first one.")).accept(ex);
        });
        server.start();
        baseUrl = "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private static Consumer<HttpExchange> respond(int code, String body, String... headers) {
        return ex -> {
            try {
                for (int i = 0; i < headers.length; i += 2)
                    ex.getResponseHeaders().add(headers[i], headers[i + 1]);
                byte[] b = body.getBytes(StandardCharsets.UTF_8);
                ex.sendResponseHeaders(code, b.length);
                try (OutputStream o = ex.getResponseBody()) {
                    o.write(b);
                }
            } catch (IOException e) {
                // the client gave up (timeout); nothing to do
            }
        };
    }

    private static Consumer<HttpExchange> ok(String content) {
        JsonObject msg = new JsonObject();
        msg.addProperty("role", "assistant");
        msg.addProperty("content", content);
        return respond(
                200,
                "{\"id\":\"x\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":" + msg
                        + ",\"finish_reason\":\"stop\"}]}",
                "Content-Type",
                "application/json");
    }

    /** A chat-completions answer with the given content (null: JSON null), refusal (null: absent) and finish reason. */
    private static Consumer<HttpExchange> answer(String content, String refusal, String finishReason) {
        JsonObject msg = new JsonObject();
        msg.addProperty("role", "assistant");
        msg.add("content", content == null ? JsonNull.INSTANCE : new JsonPrimitive(content));
        if (refusal != null) msg.addProperty("refusal", refusal);
        JsonObject choice = new JsonObject();
        choice.addProperty("index", 0);
        choice.add("message", msg);
        choice.addProperty("finish_reason", finishReason);
        return respond(
                200,
                "{\"id\":\"x\",\"object\":\"chat.completion\",\"choices\":[" + choice + "]}",
                "Content-Type",
                "application/json");
    }

    private static Consumer<HttpExchange> slow(long millis, Consumer<HttpExchange> then) {
        return ex -> {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException ignored) {
            }
            then.accept(ex);
        };
    }

    private OpenAiJudge.Config judge(Path cache) {
        return OpenAiJudge.Config.defaults()
                .withBaseUrl(baseUrl)
                .withModel("judge-model")
                .withTask(Task.HELPFUL)
                .withApiKey(KEY)
                .withCache(cache)
                .withTimeout(Duration.ofSeconds(5))
                .withBackoff(Duration.ofMillis(20), Duration.ofMillis(200));
    }

    private OpenAiJudge create(OpenAiJudge.Config config) {
        return OpenAiJudge.create(config, logs::add);
    }

    @Test
    void sendsThePapersRequestAndParsesTheAnswer(@TempDir Path dir) {
        script.add(ok("Response (B) is more helpful."));
        Verdict v = create(judge(null)).judge(INSTRUCTION, "Yes.", "It is blue because of Rayleigh scattering.");
        assertEquals("B", v.answer());
        assertEquals(0.0, v.probFirst());
        JsonObject body = JsonParser.parseString(bodies.get(0)).getAsJsonObject();
        assertEquals("judge-model", body.get("model").getAsString());
        assertEquals(0, body.get("temperature").getAsInt());
        var msgs = body.getAsJsonArray("messages");
        assertEquals("system", msgs.get(0).getAsJsonObject().get("role").getAsString());
        assertEquals(
                "You are an intelligent AI assistant.",
                msgs.get(0).getAsJsonObject().get("content").getAsString());
        assertEquals(
                JudgePrompt.build(Task.HELPFUL, INSTRUCTION, "Yes.", "It is blue because of Rayleigh scattering."),
                msgs.get(1).getAsJsonObject().get("content").getAsString());
        assertEquals("Bearer " + KEY, authHeaders.get(0));
    }

    @Test
    void retriesRateLimitsServerErrorsAndMalformedJson(@TempDir Path dir) throws IOException {
        script.add(respond(429, "{\"error\":{\"message\":\"Rate limit reached\"}}", "Retry-After", "1"));
        script.add(respond(500, "{\"error\":{\"message\":\"boom\"}}"));
        script.add(respond(200, "{\"choices\": [ {\"message\": ")); // cut-off JSON
        script.add(respond(200, "{\"choices\": []}")); // JSON of the wrong shape
        script.add(ok("(B)"));
        Path cache = dir.resolve("cache.jsonl");
        OpenAiJudge j = create(judge(cache));
        long t0 = System.nanoTime();
        Verdict v = j.judge(INSTRUCTION, "a", "b");
        double secs = (System.nanoTime() - t0) / 1e9;
        assertEquals("B", v.answer());
        assertEquals(5, j.requestsSent());
        assertTrue(secs >= 0.95, "Retry-After: 1 must be honoured, took " + secs);
        assertEquals(4, logs.size(), logs.toString());
        assertTrue(
                logs.get(0).contains("HTTP 429")
                        && logs.get(1).contains("HTTP 500")
                        && logs.get(2).contains("malformed"),
                logs.toString());
        assertKeyNowhere(cache, j);
    }

    @Test
    void slowAnswerTimesOutThenRetries() {
        script.add(slow(2500, ok("(B) late")));
        OpenAiJudge j = create(judge(null).withTimeout(Duration.ofMillis(400)));
        Verdict v = j.judge(INSTRUCTION, "a", "b");
        assertEquals("A", v.answer()); // the retry got the default "(A)" answer, not the late one
        assertEquals(2, j.requestsSent());
        assertTrue(logs.get(0).contains("no answer within 400 ms"), logs.toString());
    }

    @Test
    void givesUpWithAClearErrorAfterRetries() {
        for (int i = 0; i < 3; i++) script.add(respond(200, "not json at all"));
        OpenAiJudge j = create(judge(null).withMaxRetries(2));
        script.add(answer(null, null, "stop"));
        RlcdException e = assertThrows(RlcdException.class, () -> j.judge(INSTRUCTION, "a", "b"));
        assertTrue(
                e.getMessage().contains("gave up")
                        && e.getMessage().contains("after 3 attempts")
                        && e.getMessage().contains("malformed"),
                e.getMessage());
        assertEquals(3, j.requestsSent());
    }

    @Test
    void authAndNotFoundFailAtOnceWithoutTheKey() {
        script.add(respond(401, "{\"error\":{\"message\":\"Incorrect API key provided: " + KEY + "\"}}"));
        OpenAiJudge j = create(judge(null));
        RlcdException e = assertThrows(RlcdException.class, () -> j.judge(INSTRUCTION, "a", "b"));
        assertTrue(e.getMessage().contains("OPENAI_API_KEY") && !e.getMessage().contains(KEY), e.getMessage());
        assertEquals(1, j.requestsSent());

        script.add(respond(404, "{\"error\":{\"message\":\"The model judge-model does not exist; key " + KEY + "\"}}"));
        RlcdException nf = assertThrows(RlcdException.class, () -> j.judge(INSTRUCTION, "a", "c"));
        assertTrue(
                nf.getMessage().contains("404")
                        && nf.getMessage().contains("judge-model")
                        && !nf.getMessage().contains(KEY),
                nf.getMessage());
        assertEquals(2, j.requestsSent());
    }

    @Test
    void cacheMakesRerunsFreeAndResumesAfterAnInterruption(@TempDir Path dir) throws IOException {
        Path cache = dir.resolve("judge.jsonl");
        script.add(ok("(B)"));
        script.add(ok("Hmm. However, (B) is better than (A)."));
        OpenAiJudge first = create(judge(cache));
        assertEquals("B", first.judge(INSTRUCTION, "a", "b").answer());
        assertEquals("B", first.judge(INSTRUCTION, "c", "d").answer());
        assertEquals(2, first.requestsSent());
        assertEquals(2, Files.readAllLines(cache).size());

        // Simulate a crash in the middle of writing a third answer.
        Files.writeString(cache, "{\"key\":\"abc\",\"resp", java.nio.file.StandardOpenOption.APPEND);
        OpenAiJudge again = create(judge(cache));
        assertEquals("B", again.judge(INSTRUCTION, "a", "b").answer());
        assertEquals("B", again.judge(INSTRUCTION, "c", "d").answer());
        assertEquals(0, again.requestsSent(), "both answers must come from the cache");
        assertEquals("A", again.judge(INSTRUCTION, "e", "f").answer()); // a new pair is asked (default "(A)")
        assertEquals(1, again.requestsSent());
        assertEquals(3, new VerdictCache(cache).size());
        // a different model is a different question
        OpenAiJudge other = create(judge(cache).withModel("other-model"));
        other.judge(INSTRUCTION, "a", "b");
        assertEquals(1, other.requestsSent());
        assertKeyNowhere(cache, again);
    }

    @Test
    void badCacheLineIsAnError(@TempDir Path dir) throws IOException {
        Path cache = dir.resolve("c.jsonl");
        Files.writeString(cache, "garbage\n{\"key\":\"k\",\"response\":\"(A)\"}\n");
        script.add(answer(null, null, "stop"));
        RlcdException e = assertThrows(RlcdException.class, () -> create(judge(cache)));
        assertTrue(e.getMessage().startsWith(cache + ":1: "), e.getMessage());
    }

    @Test
    void settingsFromTheEnvironment() {
        UnaryOperator<String> env = name -> switch (name) {
            case "OPENAI_API_KEY" -> KEY;
            case "OPENAI_BASE_URL" -> baseUrl + "/";
            default -> null;
        };
        OpenAiJudge j = OpenAiJudge.create(OpenAiJudge.Config.defaults().withModel("m"), logs::add, env);
        assertEquals(baseUrl, j.baseUrl());
        j.judge(INSTRUCTION, "a", "b");
        assertEquals("Bearer " + KEY, authHeaders.get(0));
        assertFalse(j.toString().contains(KEY));
        assertFalse(judge(null).toString().contains(KEY), "the config's toString hides the key too");
        assertEquals(
                "gpt-4-0314",
                OpenAiJudge.create(
                                OpenAiJudge.Config.defaults(),
                                logs::add,
                                n -> n.equals("OPENAI_BASE_URL") ? baseUrl : null)
                        .model());
        script.add(answer(null, null, "stop"));
        RlcdException e = assertThrows(
                RlcdException.class, () -> OpenAiJudge.create(OpenAiJudge.Config.defaults(), logs::add, n -> null));
        assertTrue(e.getMessage().contains("OPENAI_API_KEY"));
        // A local server without a key: no Authorization header at all.
        OpenAiJudge.create(OpenAiJudge.Config.defaults().withBaseUrl(baseUrl).withModel("m"), logs::add, n -> null)
                .judge(INSTRUCTION, "x", "y");
        assertNull(authHeaders.get(1));
    }

    @Test
    void nullContentIsRetriedAndNeverCachedAsATie(@TempDir Path dir) throws IOException {
        Path cache = dir.resolve("judge.jsonl");
        // A transient empty answer (null content, e.g. only tool calls) is retried like a malformed answer.
        script.add(answer(null, null, "tool_calls"));
        script.add(answer("", null, "stop"));
        script.add(ok("(B)"));
        OpenAiJudge j = create(judge(cache));
        assertEquals("B", j.judge(INSTRUCTION, "a", "b").answer());
        assertEquals(3, j.requestsSent());
        assertEquals(1, Files.readAllLines(cache).size());

        // An empty answer to the last retry: the pair is undecided for this run, and nothing is cached.
        for (int i = 0; i < 3; i++) script.add(answer(null, null, "stop"));
        OpenAiJudge few = create(judge(cache).withMaxRetries(2));
        Verdict failed = few.judge(INSTRUCTION, "c", "d");
        assertNull(failed.answer());
        assertTrue(
                failed.failed()
                        && failed.problem().contains("empty answer")
                        && failed.problem().contains("3 attempts"),
                failed.problem());
        assertEquals(0.5, failed.scoreFirst());
        assertEquals(3, few.requestsSent());
        assertTrue(logs.get(logs.size() - 1).contains("not cached"), logs.toString());
        assertEquals(1, Files.readAllLines(cache).size(), "an empty answer must not be cached");
        // So a rerun asks again (and gets the default "(A)").
        OpenAiJudge rerun = create(judge(cache));
        assertEquals("A", rerun.judge(INSTRUCTION, "c", "d").answer());
        assertEquals(1, rerun.requestsSent());

        // An explicit refusal is the model's answer to this prompt: not retried, not cached.
        script.add(answer(null, "I can't compare these responses.", "stop"));
        OpenAiJudge refused = create(judge(cache));
        Verdict r = refused.judge(INSTRUCTION, "e", "f");
        assertTrue(r.failed() && r.problem().startsWith("refused: I can't compare"), r.problem());
        assertEquals(1, refused.requestsSent());
        assertEquals(2, Files.readAllLines(cache).size());
        script.add(answer(null, null, "stop"));
        script.add(answer(null, null, "stop"));
        RlcdException e = assertThrows(
                RlcdException.class,
                () -> create(judge(cache).withMaxRetries(0)).complete("x"));
        assertTrue(e.getMessage().contains("no usable answer"), e.getMessage());
    }

    @Test
    void truncatedAnswerIsUndecidedAndNotCached(@TempDir Path dir) throws IOException {
        Path cache = dir.resolve("judge.jsonl");
        // Starts like a decided answer, but the server stopped at its token limit: not a complete judgement.
        script.add(answer("(A) is better, but only if we ignore that", null, "length"));
        OpenAiJudge j = create(judge(cache));
        Verdict v = j.judge(INSTRUCTION, "a", "b");
        assertNull(v.answer());
        assertEquals(0.5, v.scoreFirst());
        assertTrue(
                v.failed() && v.problem().contains("truncated") && v.problem().contains("length"), v.problem());
        assertEquals("(A) is better, but only if we ignore that", v.raw()); // kept for the pairs table, not parsed
        assertEquals(1, j.requestsSent(), "the same limit would cut a retry short again");
        assertFalse(Files.exists(cache) && !Files.readString(cache).isEmpty(), "a truncated answer must not be cached");
        OpenAiJudge rerun = create(judge(cache));
        assertEquals("A", rerun.judge(INSTRUCTION, "a", "b").answer());
        assertEquals(1, rerun.requestsSent());
    }

    @Test
    void cacheKeepsServersApart(@TempDir Path dir) throws IOException {
        HttpServer other = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        other.createContext("/v1/chat/completions", ex -> {
            ex.getRequestBody().readAllBytes();
            ok("(B) from the other server").accept(ex);
        });
        other.start();
        try {
            Path cache = dir.resolve("judge.jsonl");
            OpenAiJudge here = create(judge(cache));
            assertEquals("A", here.judge(INSTRUCTION, "a", "b").answer());
            // Same model name, same prompt, another server: its own answer, not this server's.
            String otherUrl = "http://127.0.0.1:" + other.getAddress().getPort() + "/v1";
            OpenAiJudge there = create(judge(cache).withBaseUrl(otherUrl));
            assertEquals("B", there.judge(INSTRUCTION, "a", "b").answer());
            assertEquals(1, there.requestsSent());
            // The same server spelled differently (case of scheme and host, trailing slash) shares the cache.
            OpenAiJudge again = create(judge(cache).withBaseUrl(baseUrl.replace("http://", "HTTP://") + "/"));
            assertEquals("A", again.judge(INSTRUCTION, "a", "b").answer());
            assertEquals(0, again.requestsSent());
            List<String> lines = Files.readAllLines(cache);
            assertEquals(2, lines.size());
            assertEquals(OpenAiJudge.serverKey(baseUrl), serverField(lines.get(0)));
            assertEquals(OpenAiJudge.serverKey(otherUrl), serverField(lines.get(1)));
        } finally {
            other.stop(0);
        }
    }

    @Test
    void serverKeyNormalisesOnlyWhatNamesTheSameServer() {
        assertEquals("https://api.openai.com/v1", OpenAiJudge.serverKey("HTTPS://API.OpenAI.com:443/v1/"));
        assertEquals("http://127.0.0.1:8000/v1", OpenAiJudge.serverKey("http://127.0.0.1:8000/v1//"));
        assertEquals("http://host/v1", OpenAiJudge.serverKey("http://user:secret@host:80/v1")); // no credentials kept
        assertNotEquals(
                OpenAiJudge.serverKey("http://127.0.0.1:8000/v1"), OpenAiJudge.serverKey("http://127.0.0.1:8001/v1"));
        assertNotEquals(OpenAiJudge.serverKey("http://host/v1"), OpenAiJudge.serverKey("https://host/v1"));
        // paths are case-sensitive
        assertNotEquals(OpenAiJudge.serverKey("http://host/V1"), OpenAiJudge.serverKey("http://host/v1"));
    }

    @Test
    void answersCachedWithoutAServerAreNotReusedAndSaidSo(@TempDir Path dir) throws IOException {
        // A line as the cache wrote it before the key included the server URL.
        Path cache = dir.resolve("old.jsonl");
        String oldKey = VerdictCache.key(
                "judge-model", JudgePrompt.system(), JudgePrompt.build(Task.HELPFUL, INSTRUCTION, "a", "b"));
        Files.writeString(cache, "{\"key\":\"" + oldKey + "\",\"model\":\"judge-model\",\"response\":\"(B)\"}\n");
        OpenAiJudge j = create(judge(cache));
        assertTrue(
                logs.stream().anyMatch(l -> l.contains("1 answers of judge-model without a server URL")),
                logs.toString());
        assertEquals("A", j.judge(INSTRUCTION, "a", "b").answer()); // asked again (default "(A)"), not the old "(B)"
        assertEquals(1, j.requestsSent());
        assertEquals(2, Files.readAllLines(cache).size()); // the old line stays
    }

    @Test
    void evaluationCountsFailedJudgements(@TempDir Path dir) {
        // Two pairs in both orders; the second request is cut off at the length limit.
        script.add(ok("(A)"));
        script.add(answer("(A) because", null, "length"));
        Table a = Outputs.of("m1", List.of("p0", "p1"), List.of(INSTRUCTION, INSTRUCTION), List.of("x", "y"));
        Table b = Outputs.of("m2", List.of("p0", "p1"), List.of(INSTRUCTION, INSTRUCTION), List.of("u", "v"));
        var r = PairwiseEvaluation.of(
                        a,
                        b,
                        create(judge(dir.resolve("c.jsonl"))),
                        PairwiseEvaluation.Config.defaults().withResamples(100))
                .run();
        Table s = r.summary();
        assertEquals(1, s.intColumn("failed_judgements").get(0));
        assertEquals(1.0 / 4, s.doubleColumn("undecided_rate").get(0), 1e-12);
        assertEquals(List.of("A", "A"), r.pairs().stringColumn("answer_a_first").asList());
        assertEquals(List.of("?", "A"), r.pairs().stringColumn("answer_b_first").asList());
        assertEquals(List.of(0.75, 0.5), r.pairs().doubleColumn("score").asList());
        String problem = r.pairs().stringColumn("problem").get(0);
        assertTrue(problem.startsWith("B first: truncated"), problem);
        assertEquals("", r.pairs().stringColumn("problem").get(1));
        // Pair p1 was decided in both orders and flipped (always "(A)"); p0 had one failed order and cannot flip.
        assertEquals(1.0, s.doubleColumn("flip_rate").get(0), 1e-12);
    }

    private static String serverField(String cacheLine) {
        return JsonParser.parseString(cacheLine).getAsJsonObject().get("server").getAsString();
    }

    private void assertKeyNowhere(Path cache, OpenAiJudge j) throws IOException {
        if (cache != null && Files.exists(cache))
            assertFalse(Files.readString(cache).contains(KEY), "key in the cache file");
        for (String l : logs) assertFalse(l.contains(KEY), "key in a log line: " + l);
        assertFalse(j.toString().contains(KEY));
        assertTrue(j.toString().contains("hidden"));
    }
}
