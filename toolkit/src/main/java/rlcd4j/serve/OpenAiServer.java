package rlcd4j.serve;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.Generation;
import rlcd4j.engine.GenerationConfig;
import rlcd4j.engine.Generator;
import rlcd4j.engine.Tokenizer;
import rlcd4j.util.Json;
import rlcd4j.util.RlcdException;

/**
 * An OpenAI-compatible HTTP server on the project's own engine ({@code rlcd serve}): {@code GET /v1/models},
 * {@code POST /v1/completions} and {@code POST /v1/chat/completions}, as vLLM implements them (docs/serve.md). HTTP
 * threads check each request, queue its samples on the {@link EngineLoop} (one thread owns the model; concurrent
 * requests share its continuous batching) and wait for them. Any bad input gets one error in OpenAI's shape.
 */
public final class OpenAiServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OpenAiServer.class);
    /**
     * @param name        the model id clients send ({@code model}) and {@code /v1/models} lists
     * @param apiKey      null: no key; otherwise every request needs {@code Authorization: Bearer KEY}
     * @param batchSize   rows decoded together
     * @param maxN        the largest {@code n} (choices per prompt) a request may ask for
     * @param maxWaiting  samples that may wait for a row; beyond it requests get 429
     * @param threads     HTTP threads (each waits for its request's samples)
     * @param maxBodyBytes larger request bodies get 413
     */
    public record Options(
            String host,
            int port,
            String name,
            String apiKey,
            int batchSize,
            int maxN,
            int maxWaiting,
            int threads,
            int maxBodyBytes) {
        public Options {
            if (name == null || name.isBlank()) throw new RlcdException("--served-model-name must not be empty");
            if (batchSize < 1 || maxN < 1 || maxWaiting < 1 || threads < 1 || maxBodyBytes < 1) {
                throw new RlcdException(
                        "--batch-size, --max-n, --max-waiting, --threads and --max-body-bytes must be positive");
            }
        }

        public static Options defaults(String name) {
            return new Options("127.0.0.1", 8000, name, null, 16, 16, 1024, 64, 4 << 20);
        }

        public Options withPort(int p) {
            return new Options(host, p, name, apiKey, batchSize, maxN, maxWaiting, threads, maxBodyBytes);
        }

        public Options withApiKey(String key) {
            return new Options(host, port, name, key, batchSize, maxN, maxWaiting, threads, maxBodyBytes);
        }

        public Options withMaxWaiting(int w) {
            return new Options(host, port, name, apiKey, batchSize, maxN, w, threads, maxBodyBytes);
        }
    }

    /**
     * What the decoding loops did so far, summed over loops ({@link Generator.Stats}): to compare the batches the
     * server runs with the in-process engine's (SimulateBench).
     *
     * @param loops         decoding loops started (a loop ends when its last row ends and nothing waits)
     * @param samples       samples decoded to their end (whether or not their request still waited for them)
     * @param steps         decode steps
     * @param liveRows      rows sampling, summed over steps
     * @param idleRows      free rows computed anyway, summed over steps
     * @param joinedRunning samples that joined a loop already running (prefilled apart from its first batch)
     * @param relayouts     KV-cache re-layouts
     */
    public record DecodeStats(
            int loops,
            long samples,
            long steps,
            long liveRows,
            long idleRows,
            long joinedRunning,
            long relayouts,
            double prefillSeconds,
            double seconds) {
        static final DecodeStats NONE = new DecodeStats(0, 0, 0, 0, 0, 0, 0, 0, 0);

        DecodeStats plus(Generator.Stats s, long loopSamples) {
            return new DecodeStats(
                    loops + 1,
                    samples + loopSamples,
                    steps + s.steps(),
                    liveRows + s.liveRows(),
                    idleRows + s.idleRows(),
                    joinedRunning + s.joinedRunning(),
                    relayouts + s.relayouts(),
                    prefillSeconds + s.prefillSeconds(),
                    seconds + s.seconds());
        }
    }

    /** The most alternatives per position {@code logprobs} may ask for (vLLM's default limit). */
    static final int MAX_LOGPROBS = 20;

    private final CausalLM lm;
    private final Tokenizer tok;
    private final Options options;
    private final ChatFormat chat;
    private final EngineLoop engine;
    private final ExecutorService pool;
    private final HttpServer http;
    private final SecureRandom random = new SecureRandom();
    private final AtomicInteger served = new AtomicInteger();

    private OpenAiServer(CausalLM lm, Options options) throws IOException {
        this.lm = lm;
        this.tok = lm.tokenizer();
        this.options = options;
        this.chat = ChatFormat.of(lm.folder());
        this.engine = new EngineLoop(lm, options.batchSize(), options.maxWaiting());
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(options.threads(), r -> {
            Thread t = new Thread(r, "rlcd-serve-http-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        try {
            http = HttpServer.create(new InetSocketAddress(options.host(), options.port()), 128);
        } catch (IOException e) {
            engine.close();
            pool.shutdownNow();
            throw e;
        }
        http.setExecutor(pool);
        http.createContext("/", this::handle);
        http.start();
    }

    /** Starts serving {@code lm} (which the caller keeps and closes after this server). */
    public static OpenAiServer start(CausalLM lm, Options options) {
        try {
            return new OpenAiServer(lm, options);
        } catch (IOException e) {
            throw new RlcdException(
                    "cannot listen on " + options.host() + ":" + options.port() + ": " + e.getMessage(), e);
        }
    }

    /** The port it listens on (the one the system chose when {@link Options#port()} is 0). */
    public int port() {
        return http.getAddress().getPort();
    }

    /** {@code http://HOST:PORT/v1}, what clients take as their base URL. */
    public String baseUrl() {
        String h = options.host().contains(":") ? "[" + options.host() + "]" : options.host();
        return "http://" + h + ":" + port() + "/v1";
    }

    /** How chat messages become a prompt for this model. */
    public String chatFormat() {
        return chat.name().toLowerCase();
    }

    /** What the engine's decoding loops did so far (batch sizes, prefills), summed over loops. */
    public DecodeStats decodeStats() {
        return engine.stats();
    }

    /** Requests answered so far, errors included. */
    public int served() {
        return served.get();
    }

    @Override
    public void close() {
        http.stop(0);
        engine.close();
        pool.shutdownNow();
    }

    // ---- HTTP ------------------------------------------------------------------------------------------------------

    private void handle(HttpExchange ex) {
        int status = 200;
        JsonObject body;
        boolean[] stream = new boolean[2]; // asked for server-sent events; with the usage at the end
        try {
            body = route(ex, stream);
        } catch (ApiError e) {
            status = e.status;
            body = e.toJson();
        } catch (RuntimeException | Error e) {
            status = 500;
            body = new ApiError(500, "server_error", "internal error: " + e, null, null).toJson();
            LOG.error(
                    "rlcd serve: {} {}: {}",
                    ex.getRequestMethod(),
                    ex.getRequestURI().getPath(),
                    e.toString());
        }
        try {
            boolean events = status == 200 && stream[0];
            byte[] bytes = (events ? events(body, stream[1]) : Json.write(body)).getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", events ? "text/event-stream" : "application/json");
            ex.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        } catch (IOException e) {
            // the client went away; nothing to answer
        } finally {
            ex.close();
            served.incrementAndGet();
        }
    }

    private JsonObject route(HttpExchange ex, boolean[] stream) {
        String path = ex.getRequestURI().getPath();
        if (path.endsWith("/") && path.length() > 1) path = path.substring(0, path.length() - 1);
        String method = ex.getRequestMethod();
        boolean known =
                path.equals("/v1/models") || path.equals("/v1/completions") || path.equals("/v1/chat/completions");
        if (!known)
            throw new ApiError(
                    404,
                    "invalid_request_error",
                    "no such endpoint: " + path
                            + " (this server has /v1/models, /v1/completions and /v1/chat/completions)",
                    null,
                    "unknown_url");
        checkKey(ex);
        if (path.equals("/v1/models")) {
            if (!method.equals("GET")) throw notAllowed(method, path, "GET");
            return models();
        }
        if (!method.equals("POST")) throw notAllowed(method, path, "POST");
        JsonObject request = readBody(ex);
        String model = Requests.string(request, "model");
        if (model != null && !model.equals(options.name())) {
            throw new ApiError(
                    404,
                    "invalid_request_error",
                    "The model '" + model + "' does not exist; this server has '" + options.name() + "'",
                    "model",
                    "model_not_found");
        }
        stream[0] = Requests.bool(request, "stream", false);
        JsonElement so = request.get("stream_options");
        stream[1] = so != null && so.isJsonObject() && Requests.bool(so.getAsJsonObject(), "include_usage", false);
        return path.equals("/v1/completions") ? completions(request) : chatCompletions(request);
    }

    /**
     * A finished answer as server-sent events, for clients that ask for {@code stream: true}: the engine hands a
     * sample back only when it ends, so each choice comes whole in one chunk (chat: one {@code delta} with the role
     * and all the content), then the usage when {@code stream_options.include_usage} asks for it, then {@code [DONE]}.
     */
    private static String events(JsonObject answer, boolean usage) {
        boolean chat = answer.get("object").getAsString().equals("chat.completion");
        StringBuilder sb = new StringBuilder();
        for (JsonElement c : answer.getAsJsonArray("choices")) {
            JsonObject choice = c.getAsJsonObject().deepCopy();
            if (chat) {
                choice.add("delta", choice.remove("message"));
            }
            JsonArray one = new JsonArray();
            one.add(choice);
            sb.append("data: ").append(Json.write(chunk(answer, chat, one))).append("\n\n");
        }
        if (usage) {
            JsonObject last = chunk(answer, chat, new JsonArray());
            last.add("usage", answer.get("usage"));
            sb.append("data: ").append(Json.write(last)).append("\n\n");
        }
        return sb.append("data: [DONE]\n\n").toString();
    }

    private static JsonObject chunk(JsonObject answer, boolean chat, JsonArray choices) {
        JsonObject o = new JsonObject();
        o.add("id", answer.get("id"));
        o.addProperty("object", chat ? "chat.completion.chunk" : "text_completion");
        o.add("created", answer.get("created"));
        o.add("model", answer.get("model"));
        o.add("choices", choices);
        return o;
    }

    private static ApiError notAllowed(String method, String path, String allowed) {
        return new ApiError(
                405,
                "invalid_request_error",
                method + " is not allowed on " + path + "; use " + allowed,
                null,
                "method_not_allowed");
    }

    private void checkKey(HttpExchange ex) {
        if (options.apiKey() == null) return;
        String got = ex.getRequestHeaders().getFirst("Authorization");
        byte[] expected = ("Bearer " + options.apiKey()).getBytes(StandardCharsets.UTF_8);
        if (got == null || !MessageDigest.isEqual(expected, got.getBytes(StandardCharsets.UTF_8))) {
            throw new ApiError(
                    401,
                    "invalid_request_error",
                    got == null
                            ? "no API key: send the header 'Authorization: Bearer KEY'"
                            : "incorrect API key provided",
                    null,
                    "invalid_api_key");
        }
    }

    private JsonObject readBody(HttpExchange ex) {
        int limit = options.maxBodyBytes();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (InputStream in = ex.getRequestBody()) {
            byte[] b = new byte[8192];
            long read = 0;
            for (int r; (r = in.read(b)) >= 0; ) {
                read += r;
                if (read <= limit) {
                    buf.write(b, 0, r);
                } else if (read > 16L * limit) {
                    break; // the client gets the error and a reset, but no more of its body is read
                }
            }
            // the rest of a body somewhat too large is read and dropped: closing with it unread would reset the
            // connection before the client reads the 413
            if (read > limit) throw tooLarge(limit);
        } catch (IOException e) {
            throw ApiError.badRequest("the request body could not be read: " + e.getMessage(), null);
        }
        String text = buf.toString(StandardCharsets.UTF_8);
        if (text.isBlank()) throw ApiError.badRequest("the request body is empty; expected a JSON object", null);
        try {
            return Json.parseObject(text);
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest("the request body is not valid JSON: " + e.getMessage(), null);
        }
    }

    private static ApiError tooLarge(int limit) {
        return new ApiError(
                413,
                "invalid_request_error",
                "the request body is larger than " + limit + " bytes",
                null,
                "request_too_large");
    }

    private JsonObject models() {
        JsonObject m = new JsonObject();
        m.addProperty("id", options.name());
        m.addProperty("object", "model");
        m.addProperty("created", System.currentTimeMillis() / 1000);
        m.addProperty("owned_by", "rlcd4j");
        m.addProperty("max_model_len", lm.config().maxPositions());
        JsonArray data = new JsonArray();
        data.add(m);
        JsonObject o = new JsonObject();
        o.addProperty("object", "list");
        o.add("data", data);
        return o;
    }

    // ---- /v1/completions -------------------------------------------------------------------------------------------

    private JsonObject completions(JsonObject r) {
        Requests.refuseUnsupported(r, false);
        List<String> prompts = Requests.prompts(r.get("prompt"));
        int n = Requests.integer(r, "n", 1, 1, options.maxN());
        int maxTokens = Requests.integer(r, "max_tokens", 16, 0, Integer.MAX_VALUE);
        boolean echo = Requests.bool(r, "echo", false);
        Integer logprobs = r.has("logprobs") && !r.get("logprobs").isJsonNull()
                ? Requests.integer(r, "logprobs", 0, 0, MAX_LOGPROBS)
                : null;
        boolean includeStop = Requests.bool(r, "include_stop_str_in_output", false);
        GenerationConfig settings = Requests.settings(r, maxTokens, List.of());
        long seed = r.has("seed") && !r.get("seed").isJsonNull() ? Requests.longValue(r, "seed") : random.nextLong();

        List<long[]> ids = new ArrayList<>();
        for (int p = 0; p < prompts.size(); p++) {
            ids.add(promptIds(prompts.get(p), maxTokens, prompts.size() > 1 ? p : -1));
        }
        int samples = maxTokens > 0 ? prompts.size() * n : 0;
        engine.reserve(samples + (logprobs != null ? prompts.size() * (n + 1) : 0));

        List<CompletableFuture<Generation>> gens = new ArrayList<>();
        List<CompletableFuture<EngineLoop.Scores>> promptScores = new ArrayList<>();
        for (int p = 0; p < prompts.size(); p++) {
            if (echo && logprobs != null) promptScores.add(engine.score(ids.get(p), logprobs));
            for (int i = 0; i < n && maxTokens > 0; i++) {
                gens.add(engine.sample(prompts.get(p), settings, seed + (long) p * n + i));
            }
        }
        JsonArray choices = new JsonArray();
        long promptTokens = 0, completionTokens = 0;
        for (int p = 0; p < prompts.size(); p++) {
            long[] pIds = ids.get(p);
            promptTokens += pIds.length;
            EngineLoop.Scores ps = echo && logprobs != null ? await(promptScores.get(p)) : null;
            for (int i = 0; i < n; i++) {
                Generation g = maxTokens > 0 ? await(gens.get(p * n + i)) : null;
                long[] out = g == null ? new long[0] : g.ids();
                completionTokens += out.length;
                String text = g == null
                        ? ""
                        : includeStop && g.finishReason().equals("stop")
                                ? cutAfterFirst(tok.decode(out), settings.stopStrings())
                                : g.text();
                JsonObject c = new JsonObject();
                c.addProperty("index", p * n + i);
                c.addProperty("text", echo ? prompts.get(p) + text : text);
                if (logprobs == null) {
                    c.add("logprobs", JsonNull.INSTANCE);
                } else {
                    EngineLoop.Scores gs =
                            g != null && logprobs > 0 ? await(engine.score(concat(pIds, out), logprobs)) : null;
                    c.add("logprobs", logprobsJson(echo ? pIds : new long[0], ps, g, pIds.length, gs));
                }
                c.addProperty("finish_reason", g == null || g.finishReason().equals("length") ? "length" : "stop");
                c.addProperty("stop_reason", (String) null);
                // rlcd extension: the whole continuation with special tokens and the stop string (Generation.rawText)
                c.addProperty("raw_text", g == null ? "" : g.rawText());
                choices.add(c);
            }
        }
        return envelope("cmpl-", "text_completion", choices, promptTokens, completionTokens);
    }

    /**
     * The prompt's ids as the engine tokenises them, checked against the model's context: a prompt that cannot fit
     * gets 400 here, before anything is queued (the engine would end its whole batch on it).
     */
    private long[] promptIds(String prompt, int maxTokens, int index) {
        long[] ids = tok.encode(prompt, true);
        String which = index < 0 ? "the prompt" : "prompt " + index;
        if (ids.length == 0) throw ApiError.badRequest(which + " is empty after tokenisation", "prompt");
        int context = lm.config().maxPositions();
        if ((long) ids.length + maxTokens > context) {
            throw new ApiError(
                    400,
                    "invalid_request_error",
                    "This model's maximum context length is " + context
                            + " tokens. However, you requested " + ((long) ids.length + maxTokens) + " tokens ("
                            + ids.length
                            + " in " + which + ", " + maxTokens
                            + " for the completion). Please reduce the prompt or max_tokens.",
                    "prompt",
                    "context_length_exceeded");
        }
        return ids;
    }

    private static <T> T await(CompletableFuture<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiError(503, "server_error", "the server is shutting down", null, null);
        } catch (java.util.concurrent.CancellationException e) {
            throw new ApiError(503, "server_error", "the server is shutting down", null, null);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            String m = c instanceof RlcdException ? c.getMessage() : String.valueOf(c);
            LOG.error("rlcd serve: the engine failed: {}", m);
            throw new ApiError(500, "server_error", "the engine failed: " + m, null, null);
        }
    }

    private static long[] concat(long[] a, long[] b) {
        long[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    static String cutAfterFirst(String text, List<String> stops) {
        int cut = text.length();
        for (String s : stops) {
            int at = text.indexOf(s);
            if (at >= 0) cut = Math.min(cut, at + s.length());
        }
        return text.substring(0, cut);
    }

    /**
     * vLLM's completion logprobs: {@code tokens}, {@code token_logprobs}, {@code top_logprobs} (each position's
     * alternatives and its own token) and {@code text_offset}, over the echoed prompt ids (the first has no
     * log-probability) and then the generated ones. The prompt's come from a pass over the prompt alone; the generated
     * tokens' own from the engine's sampling, their alternatives from a pass over prompt and sample ({@code gs}).
     */
    private JsonObject logprobsJson(
            long[] echoed, EngineLoop.Scores ps, Generation g, int promptLength, EngineLoop.Scores gs) {
        JsonArray tokens = new JsonArray(), lps = new JsonArray(), tops = new JsonArray(), offsets = new JsonArray();
        long[] all = g == null ? echoed : concat(echoed, g.ids());
        List<String> pieces = pieces(all);
        int offset = 0;
        for (int t = 0; t < all.length; t++) {
            boolean prompt = t < echoed.length;
            String piece = pieces.get(t);
            boolean special = piece.isEmpty()
                    && !tok.decodeWithSpecial(new long[] {all[t]}).isEmpty();
            tokens.add(special ? tok.decodeWithSpecial(new long[] {all[t]}) : piece);
            offsets.add(offset);
            offset += piece.length();
            Float own = null; // the first prompt token has no context, so no log-probability
            if (!prompt) own = g.logprobs()[t - echoed.length];
            else if (t > 0) own = ps.logprobs()[t];
            lps.add(own == null ? JsonNull.INSTANCE : new JsonPrimitive(own));
            if (own == null) {
                tops.add(JsonNull.INSTANCE);
                continue;
            }
            EngineLoop.Scores s = prompt ? ps : gs;
            int at = prompt ? t : promptLength + t - echoed.length;
            Map<String, Float> top = new LinkedHashMap<>();
            if (s != null && s.topIds()[at] != null) {
                for (int k = 0; k < s.topIds()[at].length; k++) {
                    top.putIfAbsent(tok.decodeWithSpecial(new long[] {s.topIds()[at][k]}), s.topLogprobs()[at][k]);
                }
            }
            top.putIfAbsent(tokens.get(t).getAsString(), own);
            JsonObject m = new JsonObject();
            top.forEach(m::addProperty);
            tops.add(m);
        }
        JsonObject o = new JsonObject();
        o.add("tokens", tokens);
        o.add("token_logprobs", lps);
        o.add("top_logprobs", tops);
        o.add("text_offset", offsets);
        return o;
    }

    /**
     * Each token's text as it reads in the decoded sequence (without special tokens): decoded with a few tokens of
     * context before it, since a SentencePiece token alone loses its leading space and a byte token its character.
     */
    private List<String> pieces(long[] ids) {
        List<String> out = new ArrayList<>(ids.length);
        for (int t = 0; t < ids.length; t++) {
            int from = Math.max(0, t - 4);
            String before = tok.decode(java.util.Arrays.copyOfRange(ids, from, t));
            String with = tok.decode(java.util.Arrays.copyOfRange(ids, from, t + 1));
            out.add(with.startsWith(before) ? with.substring(before.length()) : tok.decode(new long[] {ids[t]}));
        }
        return out;
    }

    private static JsonObject usage(long prompt, long completion) {
        JsonObject u = new JsonObject();
        u.addProperty("prompt_tokens", prompt);
        u.addProperty("completion_tokens", completion);
        u.addProperty("total_tokens", prompt + completion);
        return u;
    }

    // ---- /v1/chat/completions --------------------------------------------------------------------------------------

    private JsonObject chatCompletions(JsonObject r) {
        Requests.refuseUnsupported(r, true);
        String prompt = chat.render(Requests.messages(r.get("messages")));
        int n = Requests.integer(r, "n", 1, 1, options.maxN());
        long promptLength = tok.encode(prompt, true).length;
        int context = lm.config().maxPositions();
        String field = r.has("max_completion_tokens")
                        && !r.get("max_completion_tokens").isJsonNull()
                ? "max_completion_tokens"
                : "max_tokens";
        int maxTokens = Requests.integer(r, field, (int) Math.max(1, context - promptLength), 1, Integer.MAX_VALUE);
        GenerationConfig settings = Requests.settings(r, maxTokens, chat.stops());
        long seed = r.has("seed") && !r.get("seed").isJsonNull() ? Requests.longValue(r, "seed") : random.nextLong();
        long[] ids = promptIds(prompt, maxTokens, -1);
        engine.reserve(n);
        List<CompletableFuture<Generation>> gens = new ArrayList<>();
        for (int i = 0; i < n; i++) gens.add(engine.sample(prompt, settings, seed + i));
        JsonArray choices = new JsonArray();
        long completionTokens = 0;
        for (int i = 0; i < n; i++) {
            Generation g = await(gens.get(i));
            completionTokens += g.ids().length;
            JsonObject message = new JsonObject();
            message.addProperty("role", "assistant");
            message.addProperty("content", g.text());
            JsonObject c = new JsonObject();
            c.addProperty("index", i);
            c.add("message", message);
            c.add("logprobs", JsonNull.INSTANCE);
            c.addProperty("finish_reason", g.finishReason().equals("length") ? "length" : "stop");
            choices.add(c);
        }
        return envelope("chatcmpl-", "chat.completion", choices, ids.length, completionTokens);
    }

    /** The fields every completion response shares around its choices. */
    private JsonObject envelope(
            String idPrefix, String object, JsonArray choices, long promptTokens, long completionTokens) {
        JsonObject o = new JsonObject();
        o.addProperty("id", idPrefix + Long.toHexString(random.nextLong()));
        o.addProperty("object", object);
        o.addProperty("created", System.currentTimeMillis() / 1000);
        o.addProperty("model", options.name());
        o.add("choices", choices);
        o.add("usage", usage(promptTokens, completionTokens));
        return o;
    }
}
