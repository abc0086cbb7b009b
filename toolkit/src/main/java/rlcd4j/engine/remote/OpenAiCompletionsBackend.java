package rlcd4j.engine.remote;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.LoggerFactory;
import rlcd4j.engine.Generation;
import rlcd4j.engine.GenerationBackend;
import rlcd4j.engine.GenerationConfig;
import rlcd4j.engine.GenerationQueue;
import rlcd4j.engine.Tokenizer;
import rlcd4j.engine.llama.LlamaConfig;
import rlcd4j.hub.HfHub;
import rlcd4j.util.Json;
import rlcd4j.util.RetryAfter;
import rlcd4j.util.RlcdException;

/**
 * {@link GenerationBackend} over one or more OpenAI-compatible servers (vLLM, SGLang, TGI, {@code rlcd serve}, ...),
 * through {@code /v1/completions} with raw prompts. The tokenizer is the model's own, loaded locally, so prompt-length
 * checks, filters and label ids are the in-process engine's.
 *
 * <pre>{@code
 * try (var server = OpenAiCompletionsBackend.builder().server("http://127.0.0.1:8000/v1")
 *         .modelFiles("huggyllama/llama-7b", HfHub.fromEnvironment()).build()) {
 *     Simulator.run(server, prompts, spec, Method.RLCD, options);
 * }
 * }</pre>
 *
 * <p>Sampling: one request per sample, {@code n: 1}, {@code seed} = the sample's own seed (so a server that seeds
 * choice i with {@code seed + i}, as {@code rlcd serve} does, draws what the in-process engine draws), plus
 * {@code temperature}, {@code top_p}, {@code max_tokens}, and when set {@code top_k}, {@code stop} with
 * {@code include_stop_str_in_output} and {@code bad_words} (vLLM's extensions). The server returns text, so a
 * {@link Generation}'s {@code ids} are the local tokenizer's encoding of that text (plus EOS when the server stopped
 * without a stop string) and its {@code logprobs} are NaN.
 *
 * <p>Label log-probabilities ({@link #labelLogprobs}), decided once per backend and logged: {@link Scoring#ECHO}
 * (exact: the prompt with the label token appended, {@code echo: true, logprobs: 1, max_tokens: 1}, or
 * {@code max_tokens: 0} when a server refuses 1; the label's entry of the echoed {@code token_logprobs}); where the
 * server returns no prompt log-probabilities (llama.cpp's server), {@link Scoring#TOP_LOGPROBS}: the top-k
 * log-probabilities of the first generated token, and a label outside them is NaN and reported, never guessed. The
 * prompt goes as text when the local tokenizer encodes prompt + label text into exactly the prompt's ids and the label
 * id; otherwise (e.g. LLaMA's {@code ▁A} after {@code (}) as token ids.
 *
 * <p>Robustness: up to {@code maxInFlight} requests per server, the least loaded server first; 429, 408, 409, 5xx,
 * timeouts and broken connections are retried with the judge's ({@code OpenAiJudge}) rules (1 s doubling to 60 s, a
 * {@code Retry-After} hint wins, 8 retries), each retry on the least loaded server. The API key only ever goes into the
 * {@code Authorization} header and is masked out of any server message passed on.
 */
public final class OpenAiCompletionsBackend implements GenerationBackend, AutoCloseable {
    /** How label log-probabilities are obtained. */
    public enum Scoring {
        /** Exact: the echoed prompt's own token log-probabilities ({@code echo} with {@code max_tokens: 1}). */
        ECHO,
        /** Exact, for servers that refuse {@code max_tokens: 1} with echo but take 0. */
        ECHO_MAX_TOKENS_0,
        /** Approximate coverage: the first generated token's top-k; labels outside it are NaN and reported. */
        TOP_LOGPROBS
    }

    private final List<Server> servers;
    private final String model;
    private final String apiKey; // never leaves this object except in the Authorization header
    private final Tokenizer tokenizer;
    private final boolean ownsTokenizer;
    private final int context;
    private final String name;
    /**
     * Requests in flight per server unless the builder says otherwise: twice {@code rlcd serve}'s default batch, so
     * that its next samples already wait there when rows end (docs/perf/simulation.md).
     */
    public static final int DEFAULT_MAX_IN_FLIGHT = 32;

    private final int maxInFlight;
    private final Duration timeout;
    private final int maxRetries;
    private final Duration initialBackoff, maxBackoff;
    private final int topLogprobs;
    private final Consumer<String> log;
    private final HttpClient http;
    private final ExecutorService pool;
    private final AtomicLong requests = new AtomicLong(), retries = new AtomicLong(), outsideTopK = new AtomicLong();
    private final AtomicLong tokenIdPrompts = new AtomicLong();
    private volatile Scoring scoring;

    private static final class Server {
        final String url;
        final AtomicInteger inFlight = new AtomicInteger();

        Server(String url) {
            this.url = url;
        }
    }

    private OpenAiCompletionsBackend(Builder b) {
        if (b.servers.isEmpty()) {
            throw new RlcdException(
                    "OpenAI-compatible backend: no server URL " + "(expected e.g. http://127.0.0.1:8000/v1)");
        }
        if (b.tokenizer == null) {
            throw new RlcdException("OpenAI-compatible backend: no tokenizer (give the model's folder or repo id)");
        }
        List<Server> list = new ArrayList<>();
        for (String u : b.servers) {
            String url = u.strip().replaceAll("/+$", "");
            try {
                URI uri = URI.create(url + "/completions");
                boolean http = uri.getScheme() != null && uri.getScheme().startsWith("http");
                if (!http) throw new IllegalArgumentException();
            } catch (IllegalArgumentException e) {
                throw new RlcdException(
                        "server URL '" + u + "' is not a valid http(s) URL (expected e.g. http://127.0.0.1:8000/v1)");
            }
            list.add(new Server(url));
        }
        this.servers = List.copyOf(list);
        this.apiKey = b.apiKey == null || b.apiKey.isBlank() ? null : b.apiKey.strip();
        this.tokenizer = b.tokenizer;
        this.ownsTokenizer = b.ownsTokenizer;
        this.context = b.context;
        this.maxInFlight = b.maxInFlight;
        this.timeout = b.timeout;
        this.maxRetries = b.maxRetries;
        this.initialBackoff = b.initialBackoff;
        this.maxBackoff = b.maxBackoff;
        this.topLogprobs = b.topLogprobs;
        this.log = b.log;
        this.scoring = b.scoring;
        this.http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        this.pool = Executors.newFixedThreadPool(servers.size() * maxInFlight, r -> {
            Thread t = new Thread(r, "openai-completions");
            t.setDaemon(true);
            return t;
        });
        try {
            this.model = b.model != null && !b.model.isBlank() ? b.model : discoverModel();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        this.name = b.name != null ? b.name : model;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String name() {
        return name;
    }

    /** The model name sent in every request. */
    public String model() {
        return model;
    }

    @Override
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public int contextLength() {
        return context;
    }

    /** Requests sent so far, retries included. */
    public long requestsSent() {
        return requests.get();
    }

    public long retries() {
        return retries.get();
    }

    /** Labels that fell outside the server's top-k so far (always 0 with exact scoring). */
    public long labelsOutsideTopK() {
        return outsideTopK.get();
    }

    /** Scoring prompts sent as token ids because prompt + label text does not tokenise back to the label's id. */
    public long tokenIdPrompts() {
        return tokenIdPrompts.get();
    }

    /** The scoring method in use, or null before the first {@link #labelLogprobs} call detects it. */
    public Scoring scoring() {
        return scoring;
    }

    @Override
    public String status() {
        int inFlight = 0;
        for (Server s : servers) inFlight += s.inFlight.get();
        return "in flight " + inFlight + "/" + servers.size() * maxInFlight + ", retries " + retries.get();
    }

    // ------------------------------------------------------------------------------------------------ sampling

    /** What a worker brings back: the request's answer, turned into a Generation on the caller's thread. */
    private record Answer<T>(T tag, String prompt, String text, String finishReason, String stopReason) {}

    @Override
    public <T> void generate(GenerationConfig config, GenerationQueue<T> queue) {
        CompletionService<Answer<T>> done = new ExecutorCompletionService<>(pool);
        Map<Future<Answer<T>>, T> running = new HashMap<>();
        int capacity = servers.size() * maxInFlight;
        try {
            while (true) {
                while (running.size() < capacity) {
                    GenerationQueue.Entry<T> e = queue.poll();
                    if (e == null) break;
                    String p = e.prompt();
                    long seed = e.seed();
                    T tag = e.tag();
                    running.put(done.submit(() -> sample(tag, p, seed, config)), tag);
                }
                if (running.isEmpty()) return;
                Future<Answer<T>> f = take(done);
                running.remove(f);
                Answer<T> a;
                try {
                    a = result(f);
                } catch (CancellationException ex) {
                    continue;
                }
                if (!queue.wanted(a.tag())) continue;
                queue.finished(List.of(new GenerationQueue.Done<>(a.tag(), generation(a, config))));
                // samples whose results are no longer wanted (their pair was dropped) need no more server time
                running.entrySet()
                        .removeIf(r -> !queue.wanted(r.getValue()) && r.getKey().cancel(true));
            }
        } catch (ExecutionException ex) {
            throw unwrap(ex);
        } finally {
            for (Future<Answer<T>> f : running.keySet()) f.cancel(true);
        }
    }

    private <T> Answer<T> sample(T tag, String prompt, long seed, GenerationConfig cfg) {
        JsonObject body = new JsonObject();
        body.addProperty("model", model);
        body.addProperty("prompt", prompt);
        body.addProperty("max_tokens", cfg.maxNewTokens());
        body.addProperty("temperature", cfg.temperature());
        body.addProperty("top_p", cfg.topP());
        if (cfg.topK() > 0) body.addProperty("top_k", cfg.topK());
        body.addProperty("seed", seed);
        body.addProperty("n", 1);
        if (!cfg.stopStrings().isEmpty()) {
            body.add("stop", strings(cfg.stopStrings()));
            body.addProperty("include_stop_str_in_output", true);
        }
        if (!cfg.bannedStrings().isEmpty()) body.add("bad_words", strings(cfg.bannedStrings()));
        Response r = post(body);
        if (r.code != 200) throw new RlcdException(fatal(r));
        Completion c = CompletionsJson.completion(r.body, redactor());
        return new Answer<>(tag, prompt, c.text(), c.finishReason(), c.stopReason());
    }

    /**
     * The in-process engine's view of a server's answer: {@code text} cut before the first stop string,
     * {@code rawText} with the stop string kept, and the EOS text added when the server stopped on no stop string.
     */
    private <T> Generation generation(Answer<T> a, GenerationConfig cfg) {
        String raw = a.text();
        // vLLM names the stop string it matched; a server that left it out of the text despite
        // include_stop_str_in_output gets it put back, since the paper's post-processing looks for it
        boolean stopOnlyInReason = a.stopReason() != null
                && cfg.stopStrings().contains(a.stopReason())
                && firstStop(raw, cfg.stopStrings()) < 0;
        if (stopOnlyInReason) {
            raw = raw + a.stopReason();
        }
        int cut = firstStop(raw, cfg.stopStrings());
        String reason;
        long[] ids = tokenizer.encode(raw, false);
        if (cut >= 0) {
            reason = "stop";
        } else if ("stop".equals(a.finishReason())) {
            reason = "eos"; // a stop without a stop string in the text: the model's EOS
            raw = raw + tokenizer.decodeWithSpecial(new long[] {tokenizer.eosId()});
            ids = Arrays.copyOf(ids, ids.length + 1);
            ids[ids.length - 1] = tokenizer.eosId();
        } else {
            reason = "length";
        }
        String text = cut >= 0 ? raw.substring(0, cut) : a.text();
        float[] logprobs = new float[ids.length];
        Arrays.fill(logprobs, Float.NaN);
        return new Generation(a.prompt(), tokenizer.encode(a.prompt(), true), ids, text, raw, logprobs, reason);
    }

    private static int firstStop(String text, List<String> stops) {
        int best = -1;
        for (String s : stops) {
            int i = text.indexOf(s);
            if (i >= 0 && (best < 0 || i < best)) best = i;
        }
        return best;
    }

    // ------------------------------------------------------------------------------------------------ scoring

    @Override
    public double[][] labelLogprobs(List<String> prompts, long[] labelIds) {
        double[][] out = new double[prompts.size()][labelIds.length];
        if (prompts.isEmpty()) return out;
        long[][] promptIds = new long[prompts.size()][];
        for (int i = 0; i < prompts.size(); i++) promptIds[i] = tokenizer.encode(prompts.get(i), true);
        if (scoring == null) detectScoring(prompts.get(0), promptIds[0], labelIds[0]);
        CompletionService<double[]> done = new ExecutorCompletionService<>(pool);
        Map<Future<double[]>, Integer> running = new HashMap<>();
        try {
            for (int i = 0; i < prompts.size(); i++) {
                int row = i;
                String prompt = prompts.get(i);
                long[] ids = promptIds[i];
                if (scoring == Scoring.TOP_LOGPROBS) {
                    String[] texts = new String[labelIds.length];
                    for (int k = 0; k < labelIds.length; k++) texts[k] = labelText(ids, labelIds[k]);
                    running.put(done.submit(() -> topLogprobs(row, prompt, ids, texts)), i);
                } else {
                    for (int k = 0; k < labelIds.length; k++) {
                        Object in = echoInput(prompt, ids, labelIds[k]);
                        int label = k;
                        int promptTokens = ids.length + 1;
                        running.put(done.submit(() -> new double[] {label, echoLogprob(in, promptTokens, scoring)}), i);
                    }
                }
            }
            while (!running.isEmpty()) {
                Future<double[]> f = take(done);
                int i = running.remove(f);
                double[] v = result(f);
                if (scoring == Scoring.TOP_LOGPROBS) out[i] = v;
                else out[i][(int) v[0]] = v[1];
            }
        } catch (ExecutionException ex) {
            throw unwrap(ex);
        } finally {
            for (Future<double[]> f : running.keySet()) f.cancel(true);
        }
        return out;
    }

    /** Tries exact scoring on one prompt (max_tokens 1, then 0), else falls back to top-k; logs the outcome once. */
    private synchronized void detectScoring(String prompt, long[] ids, long label) {
        if (scoring != null) return;
        Object in = echoInput(prompt, ids, label);
        List<String> problems = new ArrayList<>();
        int rejected = 0;
        for (Scoring s : List.of(Scoring.ECHO, Scoring.ECHO_MAX_TOKENS_0)) {
            Response r = post(echoBody(in, s));
            if (r.code == 401 || r.code == 403 || r.code == 404) throw new RlcdException(fatal(r));
            if (r.code != 200) {
                problems.add(s + ": HTTP " + r.code + " " + abbreviate(redact(r.body)));
                rejected++;
                continue;
            }
            try {
                CompletionsJson.promptLogprob(r.body, ids.length + 1, redactor());
                scoring = s;
                log.accept("labels: exact prompt log-probabilities from " + servers.get(0).url
                        + " (echo, logprobs 1, max_tokens "
                        + (s == Scoring.ECHO ? 1 : 0) + ")");
                return;
            } catch (CompletionsJson.NoPromptLogprobs e) {
                problems.add(s + ": " + e.getMessage());
            }
        }
        if (rejected == 2 && in instanceof long[]) {
            // a refusal of token-id prompts is not a lack of prompt log-probabilities: say so rather than fall back
            throw new RlcdException("the server refused the scoring prompt sent as token ids ("
                    + String.join("; ", problems)
                    + "); it went as ids because the prompt followed by the label's text does not tokenise back to the "
                    + "label's id; use a server that accepts token-id prompts (vLLM does)");
        }
        scoring = Scoring.TOP_LOGPROBS;
        log.accept("labels: the server returns no prompt log-probabilities (" + String.join("; ", problems)
                + "); using the top-" + topLogprobs + " log-probabilities of the first generated token instead, "
                + "and reporting labels outside them");
    }

    /** The prompt with the label appended: as text when that tokenises to exactly those ids, else as the ids. */
    private Object echoInput(String prompt, long[] promptIds, long label) {
        long[] ids = Arrays.copyOf(promptIds, promptIds.length + 1);
        ids[promptIds.length] = label;
        String text = prompt + labelText(promptIds, label);
        if (Arrays.equals(tokenizer.encode(text, true), ids)) return text;
        tokenIdPrompts.incrementAndGet();
        return ids;
    }

    /** The text a label token adds after the prompt's tokens. */
    private String labelText(long[] promptIds, long label) {
        long[] ids = Arrays.copyOf(promptIds, promptIds.length + 1);
        ids[promptIds.length] = label;
        String before = tokenizer.decode(promptIds), after = tokenizer.decode(ids);
        return after.startsWith(before) ? after.substring(before.length()) : tokenizer.decode(new long[] {label});
    }

    private JsonObject echoBody(Object input, Scoring s) {
        JsonObject body = new JsonObject();
        body.addProperty("model", model);
        if (input instanceof String text) body.addProperty("prompt", text);
        else body.add("prompt", ids((long[]) input));
        body.addProperty("echo", true);
        body.addProperty("logprobs", 1);
        body.addProperty("max_tokens", s == Scoring.ECHO ? 1 : 0);
        body.addProperty("temperature", 0);
        return body;
    }

    private double echoLogprob(Object input, int tokens, Scoring s) {
        Response r = post(echoBody(input, s));
        if (r.code != 200 && input instanceof long[]) {
            throw new RlcdException(fatal(r)
                    + " (the scoring prompt went as token ids, because the prompt followed by the "
                    + "label's text does not tokenise back to the label's id; "
                    + "this server must accept token-id prompts)");
        }
        if (r.code != 200) throw new RlcdException(fatal(r));
        return CompletionsJson.promptLogprob(r.body, tokens, redactor());
    }

    private double[] topLogprobs(int row, String prompt, long[] promptIds, String[] labelTexts) {
        JsonObject body = new JsonObject();
        body.addProperty("model", model);
        body.addProperty("prompt", prompt);
        body.addProperty("max_tokens", 1);
        body.addProperty("logprobs", topLogprobs);
        body.addProperty("temperature", 0);
        Response r = post(body);
        if (r.code != 200) throw new RlcdException(fatal(r));
        Map<String, Double> top = CompletionsJson.firstTopLogprobs(r.body, redactor());
        double[] out = new double[labelTexts.length];
        List<String> missing = new ArrayList<>();
        for (int k = 0; k < labelTexts.length; k++) {
            Double v = top.get(labelTexts[k]);
            out[k] = v == null ? Double.NaN : v;
            if (v == null) missing.add("'" + labelTexts[k] + "'");
        }
        if (!missing.isEmpty()) {
            outsideTopK.addAndGet(missing.size());
            log.accept("labels: scoring prompt " + row + " (" + promptIds.length + " tokens): "
                    + String.join(", ", missing)
                    + " not among the server's top-" + topLogprobs + " log-probabilities; left unscored (NaN)");
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------------ HTTP

    private record Response(int code, String body, String url) {}

    /** One request to {@code /completions}, retried on transient failures; any other answer is returned as it came. */
    private Response post(JsonObject body) {
        String json = Json.write(body);
        String lastProblem = "";
        for (int attempt = 0; ; attempt++) {
            Duration wait = backoff(attempt);
            Server s = leastLoaded();
            String url = s.url + "/completions";
            HttpRequest.Builder rb = HttpRequest.newBuilder(URI.create(url))
                    .timeout(timeout)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8));
            if (apiKey != null) rb.header("Authorization", "Bearer " + apiKey);
            s.inFlight.incrementAndGet();
            requests.incrementAndGet();
            try {
                HttpResponse<String> r =
                        http.send(rb.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
                int code = r.statusCode();
                if (code == 429 || code == 408 || code == 409 || code >= 500) {
                    lastProblem = url + ": HTTP " + code + " " + abbreviate(redact(r.body()));
                    Duration hinted = RetryAfter.of(r);
                    if (hinted != null) wait = hinted;
                } else {
                    return new Response(code, r.body(), url);
                }
            } catch (HttpTimeoutException e) {
                lastProblem = url + ": no answer within " + timeout.toMillis() + " ms";
            } catch (IOException e) {
                lastProblem = url + ": connection problem: " + e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RlcdException("OpenAI-compatible backend: interrupted while waiting for " + url);
            } finally {
                s.inFlight.decrementAndGet();
            }
            if (attempt >= maxRetries) {
                throw new RlcdException("OpenAI-compatible backend: gave up after " + (attempt + 1)
                        + " attempts; last: "
                        + lastProblem + " (rows finished so far are saved; rerun the same command to resume)");
            }
            retries.incrementAndGet();
            log.accept(String.format(
                    Locale.ROOT,
                    "server: %s; retrying in %.1f s (attempt %d of %d)",
                    lastProblem,
                    wait.toMillis() / 1000.0,
                    attempt + 2,
                    maxRetries + 1));
            sleep(wait);
        }
    }

    private Server leastLoaded() {
        Server best = servers.get(0);
        for (Server s : servers) if (s.inFlight.get() < best.inFlight.get()) best = s;
        return best;
    }

    private String discoverModel() {
        String url = servers.get(0).url + "/models";
        HttpRequest.Builder rb =
                HttpRequest.newBuilder(URI.create(url)).timeout(timeout).GET();
        if (apiKey != null) rb.header("Authorization", "Bearer " + apiKey);
        try {
            HttpResponse<String> r = http.send(rb.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            if (r.statusCode() != 200) throw new RlcdException(fatal(new Response(r.statusCode(), r.body(), url)));
            List<String> ids = CompletionsJson.modelIds(r.body(), redactor());
            if (ids.size() != 1) {
                throw new RlcdException(
                        url + " serves " + ids.size() + " models " + ids + "; name one with --server-model");
            }
            return ids.get(0);
        } catch (IOException e) {
            throw new RlcdException(url + ": cannot ask which model it serves (" + e + "); is the server up? "
                    + "Or name the model with --server-model");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RlcdException("interrupted while asking " + url + " for its model");
        }
    }

    private String fatal(Response r) {
        String message = CompletionsJson.errorMessage(r.body);
        String detail = abbreviate(redact(message != null ? message : r.body));
        return switch (r.code) {
            case 401, 403 ->
                r.url + " rejected the API key (HTTP " + r.code + "); check the variable named by --server-api-key-env";
            case 404 ->
                r.url + " answered HTTP 404: the model '" + model
                        + "' or the endpoint does not exist (the URL should end in "
                        + "/v1): " + detail;
            default -> r.url + " answered HTTP " + r.code + ": " + detail;
        };
    }

    private Duration backoff(int attempt) {
        long ms = initialBackoff.toMillis() << Math.min(attempt, 20);
        return Duration.ofMillis(Math.min(ms, maxBackoff.toMillis()));
    }

    private java.util.function.UnaryOperator<String> redactor() {
        return this::redact;
    }

    private String redact(String s) {
        return apiKey == null || s == null ? s : s.replace(apiKey, "***");
    }

    static String abbreviate(String s) {
        if (s == null) return "";
        return s.length() <= 200 ? s : s.substring(0, 197) + "...";
    }

    private static JsonArray strings(List<String> xs) {
        JsonArray a = new JsonArray();
        xs.forEach(a::add);
        return a;
    }

    private static JsonArray ids(long[] xs) {
        JsonArray a = new JsonArray();
        for (long x : xs) a.add(x);
        return a;
    }

    private static <V> Future<V> take(CompletionService<V> cs) {
        try {
            return cs.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RlcdException("OpenAI-compatible backend: interrupted");
        }
    }

    /** The value of a finished future (so it never waits). */
    private static <V> V result(Future<V> f) throws ExecutionException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RlcdException("OpenAI-compatible backend: interrupted");
        }
    }

    private static RuntimeException unwrap(ExecutionException ex) {
        Throwable c = ex.getCause();
        if (c instanceof RuntimeException re) return re;
        return new RlcdException("OpenAI-compatible backend: " + c, c);
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RlcdException("OpenAI-compatible backend: interrupted during backoff");
        }
    }

    @Override
    public void close() {
        pool.shutdownNow();
        if (ownsTokenizer) tokenizer.close();
    }

    @Override
    public String toString() {
        List<String> urls = new ArrayList<>();
        for (Server s : servers) urls.add(s.url);
        return "OpenAiCompletionsBackend[servers=" + urls + ", model=" + model + ", apiKey="
                + (apiKey == null ? "none" : "(set, hidden)") + ", maxInFlight=" + maxInFlight + "/server]";
    }

    /** Settings. */
    public static final class Builder {
        private final List<String> servers = new ArrayList<>();
        private String model, apiKey, name;
        private Tokenizer tokenizer;
        private boolean ownsTokenizer;
        private int context;
        private int maxInFlight = DEFAULT_MAX_IN_FLIGHT;
        private Duration timeout = Duration.ofMinutes(10);
        private int maxRetries = 8;
        private Duration initialBackoff = Duration.ofSeconds(1), maxBackoff = Duration.ofSeconds(60);
        private int topLogprobs = 20;
        private Consumer<String> log = LoggerFactory.getLogger(OpenAiCompletionsBackend.class)::warn;
        private Scoring scoring;

        private Builder() {}

        /** A server's base URL, e.g. {@code http://127.0.0.1:8000/v1}; call again for several used together. */
        public Builder server(String baseUrl) {
            servers.add(baseUrl);
            return this;
        }

        public Builder servers(List<String> baseUrls) {
            servers.addAll(baseUrls);
            return this;
        }
        /** The model name requests carry; default: the only model the first server lists at /models. */
        public Builder model(String m) {
            this.model = m;
            return this;
        }
        /** Sent as a bearer token. Read it from the environment; a key in code ends up in notebooks and histories. */
        public Builder apiKey(String key) {
            this.apiKey = key;
            return this;
        }
        /** The name tables record (default: the server's model name). */
        public Builder name(String n) {
            this.name = n;
            return this;
        }

        /** The tokenizer and context length of the served model (the tokenizer stays the caller's to close). */
        public Builder tokenizer(Tokenizer tok, int contextLength) {
            this.tokenizer = tok;
            this.context = contextLength;
            this.ownsTokenizer = false;
            return this;
        }

        /**
         * Tokenizer and context from the model's Hugging Face folder or repo id; for a repo only the config and
         * tokenizer files are fetched (through the HF cache), never the weights.
         */
        public Builder modelFiles(String nameOrPath, HfHub hub) {
            Path dir = Path.of(nameOrPath);
            if (!java.nio.file.Files.isDirectory(dir)) {
                Path config = hub.downloadFile("model", nameOrPath, null, "config.json");
                hub.downloadFile("model", nameOrPath, null, "tokenizer.json");
                for (String optional :
                        List.of("tokenizer_config.json", "special_tokens_map.json", "generation_config.json")) {
                    try {
                        hub.downloadFile("model", nameOrPath, null, optional);
                    } catch (RlcdException e) {
                        // optional files: the tokenizer falls back to tokenizer.json's own special tokens
                    }
                }
                dir = config.getParent();
            }
            LlamaConfig config = LlamaConfig.read(dir.resolve("config.json"));
            this.tokenizer = Tokenizer.load(dir, config);
            this.context = config.maxPositions();
            this.ownsTokenizer = true;
            if (name == null) name = nameOrPath;
            return this;
        }

        /**
         * Requests in flight per server (default 32, twice {@code rlcd serve}'s batch): servers batch continuously, so
         * keep more in flight than a server's batch, and its next samples wait there when rows end.
         */
        public Builder maxInFlight(int n) {
            if (n < 1) throw new RlcdException("requests in flight per server: " + n + "; expected 1 or more");
            this.maxInFlight = n;
            return this;
        }
        /** Per-request timeout (default 10 min: a 300-token sample on a loaded server can take minutes). */
        public Builder timeout(Duration d) {
            this.timeout = d;
            return this;
        }
        /** Retries after the first attempt (default 8). */
        public Builder maxRetries(int n) {
            if (n < 0) throw new RlcdException("maxRetries: " + n + "; expected 0 or more");
            this.maxRetries = n;
            return this;
        }
        /** First backoff (default 1 s), doubled per retry up to {@code max} (default 60 s). */
        public Builder backoff(Duration initial, Duration max) {
            this.initialBackoff = initial;
            this.maxBackoff = max;
            return this;
        }
        /** k of the top-k fallback (default 20; OpenAI's own API allows at most 5). */
        public Builder topLogprobs(int k) {
            if (k < 1) throw new RlcdException("top logprobs: " + k + "; expected 1 or more");
            this.topLogprobs = k;
            return this;
        }
        /** Skips detection (tests, or a server known to lack prompt log-probabilities). */
        public Builder scoring(Scoring s) {
            this.scoring = s;
            return this;
        }
        /** Where retry notices and the scoring method go (default: SLF4J at WARN). They never contain the key. */
        public Builder log(Consumer<String> log) {
            this.log = log;
            return this;
        }

        public OpenAiCompletionsBackend build() {
            return new OpenAiCompletionsBackend(this);
        }
    }
}
