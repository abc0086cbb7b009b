package rlcd4j.eval;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
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
import org.slf4j.LoggerFactory;
import rlcd4j.eval.JudgePrompt.Task;
import rlcd4j.util.RetryAfter;
import rlcd4j.util.RlcdException;

/**
 * The paper's GPT-4 judge over any OpenAI-compatible chat-completions server (OpenAI, vLLM, llama.cpp's server, ...):
 * system message {@code "You are an intelligent AI assistant."}, the paper's prompt ({@link JudgePrompt}) as the user
 * message, temperature 0, and the paper's answer parsing ({@link VerdictParser}).
 *
 * <p>Settings come from the {@link Config}, else the environment: {@code OPENAI_API_KEY}, {@code OPENAI_BASE_URL}
 * (default {@code https://api.openai.com/v1}). The key is only ever put in the {@code Authorization} header: it is not printed,
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
    private final String server; // baseUrl normalised, for the cache key
    private final String model;
    private final String apiKey; // never leaves this object except in the Authorization header
    private final Task task;
    private final VerdictCache cache;
    private final Duration timeout;
    private final int maxRetries;
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private final Consumer<String> log;
    private final HttpClient http;
    private int calls;

    private OpenAiJudge(Config c, Consumer<String> log, UnaryOperator<String> env) {
        Objects.requireNonNull(c, "config");
        String url = c.baseUrl() != null ? c.baseUrl() : env.apply("OPENAI_BASE_URL");
        this.baseUrl = (url == null || url.isBlank() ? DEFAULT_BASE_URL : url.strip()).replaceAll("/+$", "");
        String key = c.apiKey() != null ? c.apiKey() : env.apply("OPENAI_API_KEY");
        this.apiKey = key == null || key.isBlank() ? null : key.strip();
        if (apiKey == null && baseUrl.equals(DEFAULT_BASE_URL))
            throw new RlcdException("OpenAI judge: no API key; set the environment variable OPENAI_API_KEY "
                    + "(or OPENAI_BASE_URL for a local server that needs none)");
        this.model = c.model() != null ? c.model() : JudgePrompt.paperModel();
        this.server = serverKey(baseUrl);
        this.task = c.task();
        this.cache = c.cache() == null ? null : new VerdictCache(c.cache());
        this.timeout = c.timeout();
        this.maxRetries = c.maxRetries();
        this.initialBackoff = c.initialBackoff();
        this.maxBackoff = c.maxBackoff();
        this.log = Objects.requireNonNull(log, "log");
        this.http = HttpClient.newBuilder().connectTimeout(c.timeout()).build();
        try {
            URI.create(baseUrl + "/chat/completions");
        } catch (IllegalArgumentException e) {
            throw new RlcdException("OpenAI judge: base URL '" + baseUrl
                    + "' is not a valid URL (expected e.g. http://127.0.0.1:8000/v1)");
        }
        int stale = cache == null ? 0 : cache.withoutServer(model);
        if (stale > 0)
            log.accept("judge: " + cache.file() + " holds " + stale + " answers of " + model + " without a server URL "
                    + "(cached before the key included it); they are not reused, and those pairs are asked again");
    }

    /** A judge with {@code config}'s settings; retry notices go to SLF4J at WARN. */
    public static OpenAiJudge create(Config config) {
        return create(config, LoggerFactory.getLogger(OpenAiJudge.class)::warn);
    }

    /** A judge with {@code config}'s settings; retry notices go to {@code log} (they never contain the key). */
    public static OpenAiJudge create(Config config, Consumer<String> log) {
        return create(config, log, System::getenv);
    }

    /** For tests: environment variables are read from {@code env}. */
    static OpenAiJudge create(Config config, Consumer<String> log, UnaryOperator<String> env) {
        return new OpenAiJudge(config, log, env);
    }

    /** The paper's judge for a task, with key and base URL from the environment and answers cached in {@code cacheFile}. */
    public static OpenAiJudge forTask(Task task, String model, Path cacheFile) {
        return create(Config.defaults().withTask(task).withModel(model).withCache(cacheFile));
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

    public String model() {
        return model;
    }

    public String baseUrl() {
        return baseUrl;
    }

    public Task task() {
        return task;
    }

    @Override
    public String toString() {
        return "OpenAiJudge[baseUrl=" + baseUrl + ", model=" + model + ", task=" + task.key() + ", apiKey="
                + (apiKey == null ? "none" : "(set, hidden)") + ", cache=" + (cache == null ? "none" : cache.file())
                + "]";
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
        HttpRequest.Builder rb = HttpRequest.newBuilder(uri)
                .timeout(timeout)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString(), StandardCharsets.UTF_8));
        if (apiKey != null) rb.header("Authorization", "Bearer " + apiKey);
        HttpRequest request = rb.build();

        String lastProblem = "";
        boolean empty = false; // the last attempt's answer was empty: after the last retry that is a failed verdict
        for (int attempt = 0; ; attempt++) {
            Duration wait = backoff(attempt);
            empty = false;
            try {
                synchronized (this) {
                    calls++;
                }
                HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
                int code = r.statusCode();
                if (code == 200) {
                    Reply reply = reply(r.body());
                    if (reply == null) {
                        lastProblem = "malformed answer (expected JSON with choices[0].message.content): "
                                + Outputs.abbreviate(redact(r.body()));
                    } else if ("length".equals(reply.finishReason())) {
                        return new Answer(
                                reply.text(),
                                "truncated: the server stopped at its length limit (finish_reason \"length\")");
                    } else if ("content_filter".equals(reply.finishReason())) {
                        return new Answer(
                                reply.text(),
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
                throw new RlcdException("OpenAI judge: gave up on " + uri + " after " + (attempt + 1)
                        + " attempts; last: " + lastProblem);
            log.accept(String.format(
                    "judge: %s; retrying in %.1f s (attempt %d of %d)",
                    lastProblem, wait.toMillis() / 1000.0, attempt + 2, maxRetries + 1));
            sleep(wait);
        }
    }

    private String fatal(int code, String body) {
        String where = baseUrl + "/chat/completions";
        return switch (code) {
            case 401, 403 ->
                "OpenAI judge: " + where + " rejected the API key (HTTP " + code + "); check OPENAI_API_KEY";
            case 404 ->
                "OpenAI judge: " + where + " answered HTTP 404: the model '" + model
                        + "' or the endpoint does not exist "
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
            return new Reply(
                    c == null || c.isJsonNull() ? "" : c.getAsString(),
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

    /**
     * Settings of an {@link OpenAiJudge}; {@link #defaults()} are the paper's. A null base URL, model or key comes
     * from the environment or the defaults in the class comment. {@link #toString()} hides the key.
     *
     * @param baseUrl        e.g. {@code http://127.0.0.1:8000/v1}; null: {@code OPENAI_BASE_URL}, else
     *                       {@value OpenAiJudge#DEFAULT_BASE_URL}
     * @param model          null: the paper's {@code gpt-4-0314}
     * @param apiKey         null: {@code OPENAI_API_KEY}. Prefer the environment; a key in code ends up in notebooks
     *                       and histories
     * @param task           which of the paper's questions to ask (helpful)
     * @param cache          JSONL file of answers already received (created if missing); null: no cache
     * @param timeout        per-request timeout (120 s)
     * @param maxRetries     retries after the first attempt (8)
     * @param initialBackoff first backoff (1 s), doubled per retry up to {@code maxBackoff} (60 s)
     */
    public record Config(
            String baseUrl,
            String model,
            String apiKey,
            Task task,
            Path cache,
            Duration timeout,
            int maxRetries,
            Duration initialBackoff,
            Duration maxBackoff) {
        public Config {
            Objects.requireNonNull(task, "task");
            Objects.requireNonNull(timeout, "timeout");
            Objects.requireNonNull(initialBackoff, "initialBackoff");
            Objects.requireNonNull(maxBackoff, "maxBackoff");
            if (maxRetries < 0) throw new RlcdException("maxRetries: " + maxRetries + "; expected 0 or more");
        }

        public static Config defaults() {
            return new Config(
                    null,
                    null,
                    null,
                    Task.HELPFUL,
                    null,
                    Duration.ofSeconds(120),
                    8,
                    Duration.ofSeconds(1),
                    Duration.ofSeconds(60));
        }

        public Config withBaseUrl(String v) {
            return new Config(v, model, apiKey, task, cache, timeout, maxRetries, initialBackoff, maxBackoff);
        }

        public Config withModel(String v) {
            return new Config(baseUrl, v, apiKey, task, cache, timeout, maxRetries, initialBackoff, maxBackoff);
        }

        public Config withApiKey(String v) {
            return new Config(baseUrl, model, v, task, cache, timeout, maxRetries, initialBackoff, maxBackoff);
        }

        public Config withTask(Task v) {
            return new Config(baseUrl, model, apiKey, v, cache, timeout, maxRetries, initialBackoff, maxBackoff);
        }

        public Config withCache(Path v) {
            return new Config(baseUrl, model, apiKey, task, v, timeout, maxRetries, initialBackoff, maxBackoff);
        }

        public Config withTimeout(Duration v) {
            return new Config(baseUrl, model, apiKey, task, cache, v, maxRetries, initialBackoff, maxBackoff);
        }

        public Config withMaxRetries(int v) {
            return new Config(baseUrl, model, apiKey, task, cache, timeout, v, initialBackoff, maxBackoff);
        }

        public Config withBackoff(Duration initial, Duration max) {
            return new Config(baseUrl, model, apiKey, task, cache, timeout, maxRetries, initial, max);
        }

        @Override
        public String toString() {
            return "OpenAiJudge.Config[baseUrl=" + baseUrl + ", model=" + model + ", apiKey="
                    + (apiKey == null ? "none" : "(set, hidden)") + ", task=" + task.key() + ", cache=" + cache
                    + ", timeout=" + timeout + ", maxRetries=" + maxRetries + ", backoff=" + initialBackoff + ".."
                    + maxBackoff + "]";
        }
    }
}
