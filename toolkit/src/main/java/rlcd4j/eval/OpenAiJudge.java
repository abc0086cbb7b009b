package rlcd4j.eval;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import rlcd4j.util.RetryAfter;
import rlcd4j.util.RlcdException;
import org.slf4j.LoggerFactory;
import rlcd4j.eval.JudgePrompt.Task;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * The paper's GPT-4 judge over any OpenAI-compatible chat-completions server (OpenAI, vLLM, llama.cpp's server, ...):
 * system message {@code "You are an intelligent AI assistant."}, the paper's prompt ({@link JudgePrompt}) as the user
 * message, temperature 0, and the paper's answer parsing ({@link VerdictParser}).
 *
 * <p>Settings come from the builder, else the environment: {@code OPENAI_API_KEY}, {@code OPENAI_BASE_URL} (default
 * {@code https://api.openai.com/v1}). The key is only ever put in the {@code Authorization} header: it is not printed,
 * logged, cached or shown by {@link #toString()}, and it is masked out of any server message we pass on.
 *
 * <p>Rate limits (429), server errors (5xx, 408, 409), timeouts, broken connections and malformed answers are retried
 * with exponential backoff (1 s, 2 s, 4 s ... capped at 60 s; a {@code Retry-After} or {@code retry-after-ms} header
 * wins), up to 8 retries. 400, 401, 403 and 404 fail at once with what to fix. An empty answer (null or empty
 * content) is retried the same way. Every answer is appended to the cache file, when one is set, before it is used; the
 * cache key includes the server URL ({@link #serverKey}), the model, the system message and the prompt.
 *
 * <p>Some answers are not judgements: cut off at the server's length limit ({@code finish_reason: "length"}), stopped
 * by a content filter, an explicit refusal, or still empty after the last retry. The first three are not retried (the
 * same request meets the same limit, filter or refusal). Each becomes a {@link Verdict#failed failed} verdict:
 * undecided for this run, never cached, so a rerun asks again; {@link PairwiseEvaluation} counts them.
 */
public final class OpenAiJudge implements Judge {
    public static final String DEFAULT_BASE_URL = "https://api.openai.com/v1";

    private final String baseUrl;
    private final String server;   // baseUrl normalised, for the cache key
    private final String model;
    private final String apiKey;   // never leaves this object except in the Authorization header
    private final Task task;
    private final VerdictCache cache;
    private final Duration timeout;
    private final int maxRetries;
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private final Consumer<String> log;
    private final HttpClient http;
    private int calls;

    private OpenAiJudge(Builder b) {
        UnaryOperator<String> env = b.env;
        String url = b.baseUrl != null ? b.baseUrl : env.apply("OPENAI_BASE_URL");
        this.baseUrl = (url == null || url.isBlank() ? DEFAULT_BASE_URL : url.strip()).replaceAll("/+$", "");
        String key = b.apiKey != null ? b.apiKey : env.apply("OPENAI_API_KEY");
        this.apiKey = key == null || key.isBlank() ? null : key.strip();
        if (apiKey == null && baseUrl.equals(DEFAULT_BASE_URL))
            throw new RlcdException("OpenAI judge: no API key; set the environment variable OPENAI_API_KEY "
                    + "(or OPENAI_BASE_URL for a local server that needs none)");
        this.model = b.model != null ? b.model : JudgePrompt.paperModel();
        this.server = serverKey(baseUrl);
        this.task = Objects.requireNonNull(b.task, "task");
        this.cache = b.cacheFile == null ? null : new VerdictCache(b.cacheFile);
        this.timeout = b.timeout;
        this.maxRetries = b.maxRetries;
        this.initialBackoff = b.initialBackoff;
        this.maxBackoff = b.maxBackoff;
        this.log = b.log;
        this.http = HttpClient.newBuilder().connectTimeout(b.timeout).build();
        try {
            URI.create(baseUrl + "/chat/completions");
        } catch (IllegalArgumentException e) {
            throw new RlcdException("OpenAI judge: base URL '" + baseUrl + "' is not a valid URL (expected e.g. http://127.0.0.1:8000/v1)");
        }
        int stale = cache == null ? 0 : cache.withoutServer(model);
        if (stale > 0)
            log.accept("judge: " + cache.file() + " holds " + stale + " answers of " + model + " without a server URL "
                    + "(cached before the key included it); they are not reused, and those pairs are asked again");
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The paper's judge for a task, with key and base URL from the environment and answers cached in {@code cacheFile}. */
    public static OpenAiJudge forTask(Task task, String model, Path cacheFile) {
        return builder().task(task).model(model).cache(cacheFile).build();
    }

    @Override
    public Verdict judge(String instruction, String first, String second) {
        Answer a = answer(JudgePrompt.build(task, instruction, first, second));
        return a.problem() == null ? Verdict.fromText(a.text()) : Verdict.failed(a.problem(), a.text());
    }

    /** The judge's raw answer to one user message (cached); an error when the judge gave no usable answer. */
    public String complete(String userMessage) {
        Answer a = answer(userMessage);
        if (a.problem() != null)
            throw new RlcdException("OpenAI judge: no usable answer from " + baseUrl + ": " + a.problem());
        return a.text();
    }

    /** A usable answer ({@code problem} null; cached), or why there is none ({@code text}: what came; not cached). */
    private record Answer(String text, String problem) {}

    private Answer answer(String userMessage) {
        String key = VerdictCache.key(server, model, JudgePrompt.system(), userMessage);
        if (cache != null) {
            String hit = cache.get(key);
            if (hit != null) return new Answer(hit, null);
        }
        Answer answer = call(userMessage);
        if (answer.problem() != null) {
            log.accept("judge: no usable answer (" + answer.problem() + "); counted as undecided, not cached");
        } else if (cache != null) {
            cache.put(key, model, server, answer.text());
        }
        return answer;
    }

    /**
     * The base URL as the cache key sees it: scheme and host in lower case, a default port (80, 443) left out, no user
     * info, no trailing slash. Two spellings of one server share answers; two servers never do.
     */
    static String serverKey(String baseUrl) {
        try {
            URI u = new URI(baseUrl.strip()).normalize();
            if (u.getScheme() == null || u.getHost() == null) return baseUrl.strip();
            String scheme = u.getScheme().toLowerCase(Locale.ROOT);
            int port = u.getPort();
            boolean defaultPort = port == 80 && scheme.equals("http") || port == 443 && scheme.equals("https");
            String path = u.getRawPath() == null ? "" : u.getRawPath().replaceAll("/+$", "");
            return scheme + "://" + u.getHost().toLowerCase(Locale.ROOT) + (port < 0 || defaultPort ? "" : ":" + port)
                    + path + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery());
        } catch (URISyntaxException e) {
            return baseUrl.strip();
        }
    }

    /** How many HTTP requests this judge has sent (retries included). */
    public synchronized int requestsSent() {
        return calls;
    }

    @Override
    public String name() {
        return "openai:" + model + "/" + task.key();
    }

    public String model() { return model; }
    public String baseUrl() { return baseUrl; }
    public Task task() { return task; }

    @Override
    public String toString() {
        return "OpenAiJudge[baseUrl=" + baseUrl + ", model=" + model + ", task=" + task.key() + ", apiKey="
                + (apiKey == null ? "none" : "(set, hidden)") + ", cache=" + (cache == null ? "none" : cache.file()) + "]";
    }

    private Answer call(String userMessage) {
        JsonObject body = new JsonObject();
        body.addProperty("model", model);
        JsonArray messages = new JsonArray();
        messages.add(message("system", JudgePrompt.system()));
        messages.add(message("user", userMessage));
        body.add("messages", messages);
        body.addProperty("temperature", 0);
        URI uri = URI.create(baseUrl + "/chat/completions");
        HttpRequest.Builder rb = HttpRequest.newBuilder(uri).timeout(timeout)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString(), StandardCharsets.UTF_8));
        if (apiKey != null) rb.header("Authorization", "Bearer " + apiKey);
        HttpRequest request = rb.build();

        String lastProblem = "";
        boolean empty = false;   // the last attempt's answer was empty: after the last retry that is a failed verdict
        for (int attempt = 0; ; attempt++) {
            Duration wait = backoff(attempt);
            empty = false;
            try {
                synchronized (this) { calls++; }
                HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
                int code = r.statusCode();
                if (code == 200) {
                    Reply reply = reply(r.body());
                    if (reply == null) {
                        lastProblem = "malformed answer (expected JSON with choices[0].message.content): "
                                + Outputs.abbreviate(redact(r.body()));
                    } else if ("length".equals(reply.finishReason())) {
                        return new Answer(reply.text(),
                                "truncated: the server stopped at its length limit (finish_reason \"length\")");
                    } else if ("content_filter".equals(reply.finishReason())) {
                        return new Answer(reply.text(),
                                "stopped by the server's content filter (finish_reason \"content_filter\")");
                    } else if (reply.refusal() != null && reply.text().isEmpty()) {
                        return new Answer(reply.refusal(), "refused: " + Outputs.abbreviate(reply.refusal()));
                    } else if (reply.text().isEmpty()) {
                        empty = true;
                        lastProblem = "empty answer (no content; finish_reason " + reply.finishReason() + ")";
                    } else {
                        return new Answer(reply.text(), null);
                    }
                } else if (code == 429 || code == 408 || code == 409 || code >= 500) {
                    lastProblem = "HTTP " + code + " " + Outputs.abbreviate(redact(r.body()));
                    Duration hinted = RetryAfter.of(r);
                    if (hinted != null) wait = hinted;
                } else {
                    throw new RlcdException(fatal(code, r.body()));
                }
            } catch (HttpTimeoutException e) {
                lastProblem = "no answer within " + timeout.toMillis() + " ms";
            } catch (IOException e) {
                lastProblem = "connection problem: " + e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RlcdException("OpenAI judge: interrupted while waiting for " + uri);
            }
            if (attempt >= maxRetries && empty)
                return new Answer("", lastProblem + " after " + (attempt + 1) + " attempts");
            if (attempt >= maxRetries)
                throw new RlcdException("OpenAI judge: gave up on " + uri + " after " + (attempt + 1) + " attempts; last: " + lastProblem);
            log.accept(String.format("judge: %s; retrying in %.1f s (attempt %d of %d)", lastProblem,
                    wait.toMillis() / 1000.0, attempt + 2, maxRetries + 1));
            sleep(wait);
        }
    }

    private String fatal(int code, String body) {
        String where = baseUrl + "/chat/completions";
        return switch (code) {
            case 401, 403 -> "OpenAI judge: " + where + " rejected the API key (HTTP " + code + "); check OPENAI_API_KEY";
            case 404 -> "OpenAI judge: " + where + " answered HTTP 404: the model '" + model + "' or the endpoint does not exist "
                    + "(the base URL should end in /v1; the paper's gpt-4-0314 has been retired, pass another model): "
                    + Outputs.abbreviate(redact(body));
            default -> "OpenAI judge: " + where + " answered HTTP " + code + ": " + Outputs.abbreviate(redact(body));
        };
    }

    private Duration backoff(int attempt) {
        long ms = initialBackoff.toMillis() << Math.min(attempt, 20);
        return Duration.ofMillis(Math.min(ms, maxBackoff.toMillis()));
    }

    /** One chat completion: content ("" when null), refusal (null when absent), finish reason (may be null). */
    record Reply(String text, String refusal, String finishReason) {}

    /** choices[0] of a chat-completions body, or null when the body is not that shape. */
    static Reply reply(String body) {
        try {
            JsonObject o = JsonParser.parseString(body).getAsJsonObject();
            JsonObject choice = o.getAsJsonArray("choices").get(0).getAsJsonObject();
            JsonObject msg = choice.getAsJsonObject("message");
            JsonElement c = msg.get("content"), refusal = msg.get("refusal"), finish = choice.get("finish_reason");
            return new Reply(c == null || c.isJsonNull() ? "" : c.getAsString(),
                    refusal == null || refusal.isJsonNull() ? null : refusal.getAsString(),
                    finish == null || finish.isJsonNull() ? null : finish.getAsString());
        } catch (RuntimeException e) {
            return null;
        }
    }

    private String redact(String s) {
        return apiKey == null || s == null ? s : s.replace(apiKey, "***");
    }

    private static JsonObject message(String role, String content) {
        JsonObject m = new JsonObject();
        m.addProperty("role", role);
        m.addProperty("content", content);
        return m;
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RlcdException("OpenAI judge: interrupted during backoff");
        }
    }

    /** Settings; anything not set comes from the environment or the defaults in the class comment. */
    /** How long to wait for one answer unless {@link Builder#timeout} says otherwise. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(120);

    public static final class Builder {
        private String baseUrl, model, apiKey;
        private Task task = Task.HELPFUL;
        private Path cacheFile;
        private Duration timeout = DEFAULT_TIMEOUT;
        private int maxRetries = 8;
        private Duration initialBackoff = Duration.ofSeconds(1), maxBackoff = Duration.ofSeconds(60);
        private Consumer<String> log = LoggerFactory.getLogger(OpenAiJudge.class)::warn;
        private UnaryOperator<String> env = System::getenv;

        private Builder() {}

        /** e.g. {@code http://127.0.0.1:8000/v1}; default {@code OPENAI_BASE_URL}, else {@value #DEFAULT_BASE_URL}. */
        public Builder baseUrl(String url) { this.baseUrl = url; return this; }
        /** Default: the paper's {@code gpt-4-0314}. */
        public Builder model(String model) { this.model = model; return this; }
        /** Default: {@code OPENAI_API_KEY}. Prefer the environment; a key in code ends up in notebooks and histories. */
        public Builder apiKey(String key) { this.apiKey = key; return this; }
        /** Which of the paper's questions to ask (default helpful). */
        public Builder task(Task task) { this.task = task; return this; }
        /** JSONL file of answers already received (created if missing); null: no cache. */
        public Builder cache(Path file) { this.cacheFile = file; return this; }
        /** Per-request timeout (default 120 s). */
        public Builder timeout(Duration d) { this.timeout = d; return this; }
        /** Retries after the first attempt (default 8). */
        public Builder maxRetries(int n) {
            if (n < 0) throw new RlcdException("maxRetries: " + n + "; expected 0 or more");
            this.maxRetries = n; return this;
        }
        /** First backoff (default 1 s), doubled per retry up to {@code max} (default 60 s). */
        public Builder backoff(Duration initial, Duration max) { this.initialBackoff = initial; this.maxBackoff = max; return this; }
        /** Where retry notices go (default: SLF4J at WARN). They never contain the key. */
        public Builder log(Consumer<String> log) { this.log = log; return this; }
        /** For tests: where environment variables are read from. */
        Builder environment(UnaryOperator<String> env) { this.env = env; return this; }

        public OpenAiJudge build() { return new OpenAiJudge(this); }
    }
}
