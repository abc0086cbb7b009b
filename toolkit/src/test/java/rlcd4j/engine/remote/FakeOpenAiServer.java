package rlcd4j.engine.remote;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import rlcd4j.engine.Tokenizer;

/**
 * A small deterministic stand-in for an OpenAI-compatible server on loopback, for tests: a sample's text depends only
 * on (prompt, seed), and an echoed prompt token's log-probability only on the tokens up to it. Its answers follow the
 * shapes of vLLM's /v1/completions. {@code dieAfter} requests into its life it stops answering (connections closed,
 * then the port shut), as a crashed server would.
 */
public final class FakeOpenAiServer implements AutoCloseable {
    /** {@code ECHO}: prompt log-probabilities like vLLM; {@code NO_ECHO}: only the generated token's (llama.cpp). */
    public enum Mode {
        ECHO,
        NO_ECHO
    }

    private final HttpServer server;
    private final Tokenizer tok;
    private final Mode mode;
    private final int dieAfter;
    private final AtomicInteger requests = new AtomicInteger();
    private volatile boolean dead;
    final List<JsonObject> bodies = Collections.synchronizedList(new ArrayList<>());
    public final List<String> authorizations = Collections.synchronizedList(new ArrayList<>());
    /** Answered with HTTP 500 quoting the Authorization header, to check that the client masks the key. */
    volatile int failuresQuotingKey;
    /** What a server without echo lists as the first generated token's top log-probabilities. */
    volatile java.util.Map<String, Double> top = java.util.Map.of(" the", -2.0);
    /** Leave the stop string out of the text (no include_stop_str_in_output), naming it in stop_reason. */
    volatile boolean stopStringOnlyInStopReason;

    public FakeOpenAiServer(Tokenizer tok, int port, Mode mode, int dieAfter) throws IOException {
        this.tok = tok;
        this.mode = mode;
        this.dieAfter = dieAfter;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 64);
        server.setExecutor(Executors.newFixedThreadPool(8));
        server.createContext("/v1/completions", this::completions);
        server.createContext(
                "/v1/models",
                ex -> send(ex, 200, "{\"object\":\"list\",\"data\":[{\"id\":\"fake-model\",\"object\":\"model\"}]}"));
        server.start();
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
    }

    int port() {
        return server.getAddress().getPort();
    }

    public int requests() {
        return requests.get();
    }

    private void completions(HttpExchange ex) throws IOException {
        int n = requests.incrementAndGet();
        if (dead || (dieAfter > 0 && n > dieAfter)) {
            if (!dead) {
                dead = true;
                new Thread(() -> server.stop(0)).start();
            }
            ex.close(); // no answer: the client sees the connection drop
            return;
        }
        JsonObject body = JsonParser.parseString(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8))
                .getAsJsonObject();
        bodies.add(body);
        authorizations.add(ex.getRequestHeaders().getFirst("Authorization"));
        if (failuresQuotingKey > 0) {
            failuresQuotingKey--;
            send(
                    ex,
                    500,
                    "{\"error\":{\"message\":\"overloaded; you sent "
                            + ex.getRequestHeaders().getFirst("Authorization")
                            + "\",\"type\":\"InternalServerError\",\"param\":null,\"code\":500}}");
            return;
        }
        boolean echo = body.has("echo") && body.get("echo").getAsBoolean();
        send(
                ex,
                200,
                echo && mode == Mode.ECHO
                        ? echoAnswer(body)
                        : body.has("logprobs") ? topAnswer(body) : sampleAnswer(body));
    }

    private long[] promptIds(JsonElement prompt) {
        if (prompt.isJsonArray()) {
            JsonArray a = prompt.getAsJsonArray();
            long[] ids = new long[a.size()];
            for (int i = 0; i < ids.length; i++) ids[i] = a.get(i).getAsLong();
            return ids;
        }
        synchronized (tok) {
            return tok.encode(prompt.getAsString(), true);
        }
    }

    /** log P(ids[j] | ids[..j]): any fixed function of the prefix will do for a test. */
    static double logprob(long[] ids, int j) {
        int h = Arrays.hashCode(Arrays.copyOf(ids, j + 1));
        return -0.01 - Math.floorMod(h, 1000) / 100.0;
    }

    private String echoAnswer(JsonObject body) {
        long[] ids = promptIds(body.get("prompt"));
        JsonArray tokens = new JsonArray(), lps = new JsonArray(), offsets = new JsonArray(), top = new JsonArray();
        for (int j = 0; j < ids.length; j++) {
            tokens.add("t" + ids[j]);
            offsets.add(j);
            if (j == 0) {
                lps.add(JsonNull.INSTANCE);
                top.add(JsonNull.INSTANCE);
            } else {
                lps.add(logprob(ids, j));
                JsonObject t = new JsonObject();
                t.addProperty("t" + ids[j], logprob(ids, j));
                top.add(t);
            }
        }
        int generated = body.get("max_tokens").getAsInt();
        for (int g = 0; g < generated; g++) {
            tokens.add("x");
            lps.add(-1.5);
            offsets.add(ids.length + g);
            JsonObject t = new JsonObject();
            t.addProperty("x", -1.5);
            top.add(t);
        }
        JsonObject lp = new JsonObject();
        lp.add("text_offset", offsets);
        lp.add("token_logprobs", lps);
        lp.add("tokens", tokens);
        lp.add("top_logprobs", top);
        return answer("x".repeat(generated), "length", lp, ids.length, generated);
    }

    /** Without echo: the first generated token's top alternatives, the test's {@link #top}. */
    private String topAnswer(JsonObject body) {
        JsonObject alternatives = new JsonObject();
        top.forEach(alternatives::addProperty);
        JsonObject lp = new JsonObject();
        lp.add("text_offset", array(0));
        lp.add("token_logprobs", array(-0.25));
        JsonArray tokens = new JsonArray();
        tokens.add("A");
        lp.add("tokens", tokens);
        JsonArray top = new JsonArray();
        top.add(alternatives);
        lp.add("top_logprobs", top);
        return answer("A", "length", lp, promptIds(body.get("prompt")).length, 1);
    }

    /** Text from (prompt, seed): usually a short reply that hands the turn back, sometimes a ramble that does not. */
    private String sampleAnswer(JsonObject body) {
        String prompt = body.get("prompt").getAsString();
        long seed = body.get("seed").getAsLong();
        int h = Math.floorMod(prompt.hashCode() * 31 + Long.hashCode(seed), 1_000_000);
        if (h % 4 == 0) return answer(" and then they walked on and on", "length", null, 10, 8);
        if (stopStringOnlyInStopReason) {
            String text = answer(" Reply " + h + ".\n\n", "stop", null, 10, 5);
            JsonObject o = JsonParser.parseString(text).getAsJsonObject();
            o.getAsJsonArray("choices").get(0).getAsJsonObject().addProperty("stop_reason", "Human");
            return o.toString();
        }
        return answer(" Reply " + h + ".\n\nHuman", "stop", null, 10, 5);
    }

    private static JsonArray array(double x) {
        JsonArray a = new JsonArray();
        a.add(x);
        return a;
    }

    private static String answer(
            String text, String finish, JsonObject logprobs, int promptTokens, int completionTokens) {
        JsonObject choice = new JsonObject();
        choice.addProperty("index", 0);
        choice.addProperty("text", text);
        choice.add("logprobs", logprobs == null ? JsonNull.INSTANCE : logprobs);
        choice.addProperty("finish_reason", finish);
        JsonArray choices = new JsonArray();
        choices.add(choice);
        JsonObject usage = new JsonObject();
        usage.addProperty("prompt_tokens", promptTokens);
        usage.addProperty("completion_tokens", completionTokens);
        usage.addProperty("total_tokens", promptTokens + completionTokens);
        JsonObject o = new JsonObject();
        o.addProperty("id", "cmpl-fake");
        o.addProperty("object", "text_completion");
        o.addProperty("model", "fake-model");
        o.add("choices", choices);
        o.add("usage", usage);
        return o.toString();
    }

    private static void send(HttpExchange ex, int code, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(code, b.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(b);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
}
