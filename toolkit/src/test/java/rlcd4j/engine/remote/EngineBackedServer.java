package rlcd4j.engine.remote;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import rlcd4j.engine.Batch;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.Generation;
import rlcd4j.engine.GenerationConfig;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A loopback stand-in for {@code rlcd serve} in tests: /v1/completions answered by the in-process engine, one request
 * at a time, following the contract (a request's {@code seed} seeds its one sample; the stop string is kept in the
 * text as {@code include_stop_str_in_output} asks; EOS is a "stop" without a stop string). For echo requests only the
 * last prompt token's log-probability is computed, exactly as {@link CausalLM#nextTokenLogits} scores the token after
 * the rest; the other prompt positions are placeholders (-1), which the client never reads.
 */
final class EngineBackedServer implements AutoCloseable {
    private final HttpServer server;
    private final CausalLM lm;

    EngineBackedServer(CausalLM lm) throws IOException {
        this.lm = lm;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.createContext("/v1/completions", this::completions);
        server.start();
    }

    String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
    }

    private synchronized void completions(HttpExchange ex) throws IOException {
        JsonObject body = JsonParser.parseString(new String(ex.getRequestBody().readAllBytes(),
                StandardCharsets.UTF_8)).getAsJsonObject();
        String answer = body.has("echo") && body.get("echo").getAsBoolean() ? echo(body) : sample(body);
        byte[] b = answer.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(200, b.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(b);
        }
    }

    private static List<String> strings(JsonObject o, String key) {
        List<String> out = new ArrayList<>();
        if (o.has(key)) for (JsonElement e : o.getAsJsonArray(key)) out.add(e.getAsString());
        return out;
    }

    private String sample(JsonObject body) {
        String prompt = body.get("prompt").getAsString();
        List<String> stops = strings(body, "stop");
        GenerationConfig cfg = new GenerationConfig(body.get("max_tokens").getAsInt(),
                body.get("temperature").getAsDouble(),
                body.has("top_k") ? body.get("top_k").getAsInt() : 0, body.get("top_p").getAsDouble(), 0, stops,
                strings(body, "bad_words"), 1);
        Generation g = lm.generate(List.of(prompt), cfg, new long[] {body.get("seed").getAsLong()}).get(0);
        String text = g.text();
        if (g.finishReason().equals("stop")) {
            int cut = -1, len = 0;
            for (String s : stops) {
                int i = g.rawText().indexOf(s);
                if (i >= 0 && (cut < 0 || i < cut)) { cut = i; len = s.length(); }
            }
            text = g.rawText().substring(0, cut + len);
        }
        return answer(text, g.finishReason().equals("length") ? "length" : "stop", null);
    }

    private String echo(JsonObject body) {
        JsonElement p = body.get("prompt");
        long[] ids;
        if (p.isJsonArray()) {
            ids = new long[p.getAsJsonArray().size()];
            for (int i = 0; i < ids.length; i++) ids[i] = p.getAsJsonArray().get(i).getAsLong();
        } else {
            ids = lm.tokenizer().encode(p.getAsString(), true);
        }
        long[] prefix = Arrays.copyOf(ids, ids.length - 1);
        float[] logits;
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            Batch b = Batch.leftPadded(lm.manager(), List.of(prefix), lm.tokenizer().padId());
            NDArray hidden = lm.model().forward(b.ids(), b.positions(), b.mask(), null);
            logits = lm.model().logits(hidden.get(":, -1, :")).toType(DataType.FLOAT32, false).toFloatArray();
        }
        double m = Double.NEGATIVE_INFINITY, s = 0;
        for (float x : logits) m = Math.max(m, x);
        for (float x : logits) s += Math.exp(x - m);
        double last = logits[(int) ids[ids.length - 1]] - (m + Math.log(s));
        JsonArray lps = new JsonArray();
        lps.add(JsonNull.INSTANCE);
        for (int j = 1; j < ids.length - 1; j++) lps.add(-1.0);
        lps.add(last);
        int generated = body.get("max_tokens").getAsInt();
        for (int g = 0; g < generated; g++) lps.add(-1.0);
        JsonObject lp = new JsonObject();
        lp.add("token_logprobs", lps);
        JsonObject o = JsonParser.parseString(answer("", "length", lp)).getAsJsonObject();
        o.getAsJsonObject("usage").addProperty("prompt_tokens", ids.length);
        return o.toString();
    }

    private static String answer(String text, String finish, JsonObject logprobs) {
        JsonObject choice = new JsonObject();
        choice.addProperty("index", 0);
        choice.addProperty("text", text);
        choice.add("logprobs", logprobs == null ? JsonNull.INSTANCE : logprobs);
        choice.addProperty("finish_reason", finish);
        JsonArray choices = new JsonArray();
        choices.add(choice);
        JsonObject o = new JsonObject();
        o.addProperty("object", "text_completion");
        o.add("choices", choices);
        o.add("usage", new JsonObject());
        return o.toString();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
