package rlcd4j.serve;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import rlcd4j.Fixtures;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.Generation;
import rlcd4j.engine.GenerationConfig;
import rlcd4j.engine.Scored;

/**
 * {@code rlcd serve} on 127.0.0.1 with TinyStories-656K: what it answers equals what the in-process engine gives for
 * the same prompts, settings and seeds (choice i of a request with seed S samples with seed S + i), and every bad
 * request gets its 4xx in OpenAI's error shape while the server keeps serving.
 */
class OpenAiServerTest {
    static final String KEY = "sk-serve-test-7f3a";
    static final String NAME = "tiny";
    static CausalLM lm;
    static OpenAiServer server;
    static HttpClient client;

    @BeforeAll
    static void start() {
        lm = CausalLM.load(Fixtures.tinyStories());
        server = OpenAiServer.start(
                lm, OpenAiServer.Options.defaults(NAME).withPort(0).withApiKey(KEY));
        client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
        if (lm != null) lm.close();
    }

    record Reply(int status, JsonObject body) {}

    static Reply send(String method, String path, String body, String key) throws Exception {
        HttpRequest.Builder b =
                HttpRequest.newBuilder(URI.create(server.baseUrl() + path)).timeout(Duration.ofSeconds(120));
        if (key != null) b.header("Authorization", "Bearer " + key);
        b.method(
                method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) b.header("Content-Type", "application/json");
        HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), JsonParser.parseString(r.body()).getAsJsonObject());
    }

    static Reply post(String path, String body) throws Exception {
        return send("POST", path, body, KEY);
    }

    static JsonObject ok(Reply r) {
        assertEquals(200, r.status(), r.body().toString());
        return r.body();
    }

    static JsonObject choice(JsonObject reply, int i) {
        return reply.getAsJsonArray("choices").get(i).getAsJsonObject();
    }

    static final String PROMPT = "Once upon a time, there was a little girl named Lily. She";

    @Test
    void listsTheModel() throws Exception {
        JsonObject r = ok(send("GET", "/models", null, KEY));
        assertEquals("list", r.get("object").getAsString());
        JsonObject m = r.getAsJsonArray("data").get(0).getAsJsonObject();
        assertEquals(NAME, m.get("id").getAsString());
        assertEquals(512, m.get("max_model_len").getAsInt());
    }

    @Test
    void greedyCompletionEqualsTheEngine() throws Exception {
        JsonObject r = ok(post(
                "/completions",
                "{\"model\": \"tiny\", \"prompt\": \"" + PROMPT + "\", \"temperature\": 0, \"max_tokens\": 40}"));
        Generation g = lm.generate(List.of(PROMPT), GenerationConfig.greedy(40), new long[] {0})
                .get(0);
        assertEquals(g.text(), choice(r, 0).get("text").getAsString());
        assertEquals(
                g.finishReason().equals("length") ? "length" : "stop",
                choice(r, 0).get("finish_reason").getAsString());
        assertEquals(
                g.promptIds().length,
                r.getAsJsonObject("usage").get("prompt_tokens").getAsInt());
        assertEquals(
                g.ids().length,
                r.getAsJsonObject("usage").get("completion_tokens").getAsInt());
        assertEquals("text_completion", r.get("object").getAsString());
    }

    @Test
    void seededChoicesEqualTheEngineWithSeedPlusIndex() throws Exception {
        JsonObject r = ok(post(
                "/completions",
                "{\"model\": \"tiny\", \"prompt\": \"" + PROMPT + "\", \"n\": 3,"
                        + " \"seed\": 41, \"temperature\": 0.9, \"top_p\": 0.95, \"top_k\": 40, \"max_tokens\": 60,"
                        + " \"stop\": [\".\"], \"bad_words\": [\"z\"], \"logprobs\": 0}"));
        GenerationConfig cfg = GenerationConfig.defaults()
                .withMaxNewTokens(60)
                .withTemperature(0.9)
                .withTopP(0.95)
                .withTopK(40)
                .withStopStrings(List.of("."))
                .withBannedStrings(List.of("z"));
        List<Generation> alone = lm.generate(List.of(PROMPT, PROMPT, PROMPT), cfg, new long[] {41, 42, 43});
        boolean differ = false;
        for (int i = 0; i < 3; i++) {
            JsonObject c = choice(r, i);
            Generation g = alone.get(i);
            assertEquals(i, c.get("index").getAsInt());
            assertEquals(g.text(), c.get("text").getAsString());
            assertEquals(g.rawText(), c.get("raw_text").getAsString());
            assertEquals(
                    g.finishReason().equals("length") ? "length" : "stop",
                    c.get("finish_reason").getAsString());
            assertFalse(c.get("text").getAsString().contains("z"));
            JsonArray lps = c.getAsJsonObject("logprobs").getAsJsonArray("token_logprobs");
            assertEquals(g.ids().length, lps.size());
            // batched with other rows, a log-probability may differ in its last bits (as in ContinuousBatchingTest)
            for (int t = 0; t < lps.size(); t++)
                assertEquals(g.logprobs()[t], lps.get(t).getAsFloat(), 1e-4f, t + "");
            differ |= !g.text().equals(alone.get(0).text());
        }
        assertTrue(differ, "three seeds gave three identical samples: " + r);
    }

    @Test
    void aListOfPromptsNumbersChoicesPromptByPrompt() throws Exception {
        JsonObject r = ok(post(
                "/completions",
                "{\"prompt\": [\"Tom had a\", \"The cat\"], \"n\": 2, \"seed\": 5," + " \"max_tokens\": 20}"));
        List<String> prompts = List.of("Tom had a", "Tom had a", "The cat", "The cat");
        List<Generation> alone =
                lm.generate(prompts, GenerationConfig.defaults().withMaxNewTokens(20), new long[] {5, 6, 7, 8});
        for (int j = 0; j < 4; j++) {
            assertEquals(j, choice(r, j).get("index").getAsInt());
            assertEquals(alone.get(j).text(), choice(r, j).get("text").getAsString(), "choice " + j);
        }
        assertEquals(
                alone.get(0).promptIds().length + alone.get(2).promptIds().length,
                r.getAsJsonObject("usage").get("prompt_tokens").getAsInt());
    }

    @Test
    void concurrentRequestsWithDifferentSettingsEachEqualTheEngine() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Reply>> replies = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                String body = "{\"prompt\": \"Tom had a\", \"seed\": " + (100 + i) + ", \"max_tokens\": " + (10 + 5 * i)
                        + (i % 2 == 0 ? ", \"temperature\": 1" : ", \"temperature\": 0.7, \"top_k\": 20") + "}";
                replies.add(pool.submit(() -> post("/completions", body)));
            }
            for (int i = 0; i < 8; i++) {
                GenerationConfig cfg = GenerationConfig.defaults().withMaxNewTokens(10 + 5 * i);
                if (i % 2 == 1) cfg = cfg.withTemperature(0.7).withTopK(20);
                Generation g = lm.generate(List.of("Tom had a"), cfg, new long[] {100 + i})
                        .get(0);
                assertEquals(
                        g.text(),
                        choice(ok(replies.get(i).get()), 0).get("text").getAsString(),
                        "request " + i);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void echoedPromptLogprobsEqualTheEnginesScoring() throws Exception {
        Scored s = lm.score("", PROMPT); // the prompt's tokens after BOS, scored as the engine scores continuations
        for (int maxTokens : new int[] {0, 1}) {
            JsonObject c = choice(
                    ok(post(
                            "/completions",
                            "{\"prompt\": \"" + PROMPT + "\", \"echo\": true," + " \"logprobs\": 1, \"max_tokens\": "
                                    + maxTokens + ", \"temperature\": 0}")),
                    0);
            assertTrue(c.get("text").getAsString().startsWith(PROMPT));
            JsonObject lp = c.getAsJsonObject("logprobs");
            JsonArray own = lp.getAsJsonArray("token_logprobs");
            assertEquals(1 + s.ids().length + maxTokens, own.size(), lp.toString());
            assertTrue(own.get(0).isJsonNull());
            assertTrue(lp.getAsJsonArray("top_logprobs").get(0).isJsonNull());
            // bit for bit: the engine thread scores without autograd, as the test's thread does (with libtorch's
            // per-thread grad mode left on there, the products took another path: -0.019096805 vs -0.019096687)
            for (int t = 0; t < s.ids().length; t++) {
                assertEquals(s.logprobs()[t], own.get(t + 1).getAsFloat(), 0f, "token " + t);
            }
            assertEquals(own.size(), lp.getAsJsonArray("tokens").size());
            assertEquals(own.size(), lp.getAsJsonArray("text_offset").size());
            // the last prompt token's alternatives: the best first, and the token itself among them
            JsonObject top =
                    lp.getAsJsonArray("top_logprobs").get(s.ids().length).getAsJsonObject();
            String token = lp.getAsJsonArray("tokens").get(s.ids().length).getAsString();
            assertTrue(top.has(token), top + " " + token);
        }
    }

    @Test
    void includeStopStrInOutputKeepsTheStopString() throws Exception {
        String body = "{\"prompt\": \"Once upon a time\", \"temperature\": 0, \"max_tokens\": 100, \"stop\": [\".\"]";
        JsonObject without = choice(ok(post("/completions", body + "}")), 0);
        JsonObject with = choice(ok(post("/completions", body + ", \"include_stop_str_in_output\": true}")), 0);
        assertEquals("stop", without.get("finish_reason").getAsString());
        assertFalse(without.get("text").getAsString().contains("."));
        assertEquals(without.get("text").getAsString() + ".", with.get("text").getAsString());
    }

    @Test
    void chatUsesThePlainFormatForAModelWithoutATemplate() throws Exception {
        JsonObject r = ok(post(
                "/chat/completions",
                "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\","
                        + " \"content\": \"Tell me a story.\"}], \"temperature\": 0, \"max_tokens\": 30}"));
        String prompt = "\n\nHuman: Tell me a story.\n\nAssistant:";
        Generation g = lm.generate(
                        List.of(prompt),
                        GenerationConfig.greedy(30).withStopStrings(List.of("\n\nHuman:")),
                        new long[] {0})
                .get(0);
        JsonObject c = choice(r, 0);
        assertEquals("assistant", c.getAsJsonObject("message").get("role").getAsString());
        assertEquals(g.text(), c.getAsJsonObject("message").get("content").getAsString());
        assertEquals("chat.completion", r.get("object").getAsString());
        assertEquals("plain", server.chatFormat());
    }

    @Test
    void streamedAnswersComeWholeAsServerSentEvents() throws Exception {
        HttpResponse<String> r = client.send(
                HttpRequest.newBuilder(URI.create(server.baseUrl() + "/chat/completions"))
                        .header("Authorization", "Bearer " + KEY)
                        .POST(HttpRequest.BodyPublishers.ofString("{\"messages\": [{\"role\":"
                                + " \"user\", \"content\": \"Hi\"}], \"temperature\": 0, \"max_tokens\": 12, \"stream\": true,"
                                + " \"stream_options\": {\"include_usage\": true}}"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("text/event-stream", r.headers().firstValue("Content-Type").orElse(""));
        String[] events = r.body().split("\n\n");
        assertEquals(3, events.length, r.body());
        JsonObject first =
                JsonParser.parseString(events[0].substring("data: ".length())).getAsJsonObject();
        assertEquals("chat.completion.chunk", first.get("object").getAsString());
        JsonObject whole = ok(post(
                "/chat/completions",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}],"
                        + " \"temperature\": 0, \"max_tokens\": 12}"));
        String plain =
                choice(whole, 0).getAsJsonObject("message").get("content").getAsString();
        assertEquals(
                plain, choice(first, 0).getAsJsonObject("delta").get("content").getAsString());
        assertTrue(events[1].contains("\"usage\""), events[1]);
        assertEquals("data: [DONE]", events[2]);
    }

    static void assertError(int status, String code, Reply r) {
        assertEquals(status, r.status(), r.body().toString());
        JsonObject e = r.body().getAsJsonObject("error");
        assertNotNull(e, r.body().toString());
        for (String f : List.of("message", "type", "param", "code")) assertTrue(e.has(f), f + " missing: " + e);
        assertFalse(e.get("message").getAsString().isBlank());
        if (code != null) assertEquals(code, e.get("code").getAsString(), e.toString());
    }

    static void stillServes() throws Exception {
        JsonObject r = ok(post("/completions", "{\"prompt\": \"Sam\", \"max_tokens\": 3, \"temperature\": 0}"));
        assertEquals(1, r.getAsJsonArray("choices").size());
    }

    @Test
    void badInputGetsItsErrorAndTheServerKeepsServing() throws Exception {
        String longPrompt = "the dog ran and ".repeat(200);
        assertError(400, null, post("/completions", "{\"prompt\": \"Sam\", "));
        stillServes();
        assertError(400, null, post("/completions", ""));
        assertError(400, null, post("/completions", "[1, 2]"));
        assertError(400, "context_length_exceeded", post("/completions", "{\"prompt\": \"" + longPrompt + "\"}"));
        stillServes();
        assertError(400, "context_length_exceeded", post("/completions", "{\"prompt\": \"Sam\", \"max_tokens\": 600}"));
        assertError(
                400,
                "context_length_exceeded",
                post(
                        "/chat/completions",
                        "{\"messages\": [{\"role\": \"user\", \"content\": \"" + longPrompt + "\"}]}"));
        assertError(404, "model_not_found", post("/completions", "{\"model\": \"gpt-4\", \"prompt\": \"Sam\"}"));
        assertError(400, null, post("/completions", "{\"prompt\": \"Sam\", \"n\": 17}"));
        assertError(400, null, post("/completions", "{\"prompt\": \"Sam\", \"n\": 0}"));
        assertError(400, null, post("/completions", "{\"prompt\": \"Sam\", \"temperature\": \"hot\"}"));
        assertError(400, null, post("/completions", "{\"prompt\": \"Sam\", \"top_p\": 0}"));
        assertError(400, null, post("/completions", "{\"prompt\": [1, 2, 3]}"));
        assertError(400, null, post("/completions", "{\"max_tokens\": 3}"));
        assertError(400, null, post("/completions", "{\"prompt\": \"Sam\", \"logprobs\": 21}"));
        assertError(400, null, post("/completions", "{\"prompt\": \"Sam\", \"stream\": \"yes\"}"));
        assertError(
                400, null, post("/chat/completions", "{\"messages\": [{\"role\": \"robot\", \"content\": \"hi\"}]}"));
        assertError(400, null, post("/chat/completions", "{\"messages\": []}"));
        assertError(413, "request_too_large", post("/completions", "{\"prompt\": \"" + "a".repeat(5 << 20) + "\"}"));
        assertError(404, "unknown_url", post("/v2/engines", "{}"));
        assertError(405, null, send("GET", "/completions", null, KEY));
        stillServes();
    }

    @Test
    void moreSamplesThanMayWaitGet429() throws Exception {
        OpenAiServer.Options options =
                OpenAiServer.Options.defaults(NAME).withPort(0).withMaxWaiting(2);
        try (OpenAiServer small = OpenAiServer.start(lm, options)) {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(small.baseUrl() + "/completions"));
            HttpResponse<String> r = client.send(
                    b.POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"Sam\", \"n\": 3, \"max_tokens\": 2}"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            JsonObject error = JsonParser.parseString(r.body()).getAsJsonObject();
            assertError(429, "queue_full", new Reply(r.statusCode(), error));
            r = client.send(
                    b.POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"Sam\", \"n\": 2, \"max_tokens\": 2}"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
        }
    }

    @Test
    void aWrongOrMissingKeyGets401() throws Exception {
        assertError(401, "invalid_api_key", send("POST", "/completions", "{\"prompt\": \"Sam\"}", "sk-wrong"));
        assertError(401, "invalid_api_key", send("GET", "/models", null, null));
        Reply r = send("GET", "/models", null, "sk-wrong");
        assertFalse(r.body().toString().contains(KEY), "the error must not echo the key");
        stillServes();
    }

    @Test
    void clientsThatCloseMidRequestDoNotBreakTheServer() throws Exception {
        int port = server.port();
        // the body is cut off: the server reads an early end of stream
        try (Socket s = new Socket("127.0.0.1", port)) {
            OutputStream out = s.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY
                            + "\r\nContent-Length: 1000\r\n\r\n{\"prompt\": \"Sa")
                    .getBytes(StandardCharsets.UTF_8));
            out.flush();
        }
        // a whole request whose client leaves before the answer: the server's write fails, and it goes on
        for (int i = 0; i < 4; i++) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                String body = "{\"prompt\": \"Lily\", \"max_tokens\": 200, \"seed\": " + i + "}";
                s.getOutputStream()
                        .write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY
                                        + "\r\nContent-Length: " + body.length() + "\r\n\r\n" + body)
                                .getBytes(StandardCharsets.UTF_8));
                s.getOutputStream().flush();
            }
        }
        // half a request line, then gone
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.getOutputStream().write("POST /v1/comp".getBytes(StandardCharsets.UTF_8));
        }
        stillServes();
        // and a client that reads only part of an answer
        try (Socket s = new Socket("127.0.0.1", port)) {
            String body = "{\"prompt\": \"Lily\", \"max_tokens\": 50, \"n\": 8, \"logprobs\": 5, \"echo\": true}";
            s.getOutputStream()
                    .write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY
                                    + "\r\nContent-Length: " + body.length() + "\r\n\r\n" + body)
                            .getBytes(StandardCharsets.UTF_8));
            InputStream in = s.getInputStream();
            assertTrue(in.read(new byte[16]) > 0);
        } catch (IOException e) {
            fail(e);
        }
        stillServes();
        greedyCompletionEqualsTheEngine();
    }
}
