package rlcd4j.bench;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.cpu.NativeThreads;
import rlcd4j.serve.OpenAiServer;

/**
 * A bounded soak of {@code rlcd serve} on loopback (issue #22): {@code requests} requests from {@code concurrency}
 * clients at once, good and bad mixed in a fixed cycle of ten: malformed JSON, a prompt too long for the context, an
 * unknown model, a wrong key, {@code n} over the limit, a client that sends a whole request and leaves before the
 * answer, a client that leaves mid-body, and three good ones (sampled completions of 1-64 tokens, echo with logprobs,
 * chat). Every answered request must get the status its kind expects. The server runs in this JVM, so the resident
 * memory read from /proc/self/status counts the clients too (a few MB); it is read after the first 200 requests and
 * at the end, and must not have grown by more than 10%. Exit code 0 when every check holds. Run it with a fixed,
 * pre-touched heap ({@code -Xms512m -Xmx512m -XX:+AlwaysPreTouch}): otherwise the JVM growing its heap towards its
 * default maximum (a quarter of the machine's memory) counts as growth, though it is garbage not yet collected.
 *
 * <pre>java -Dai.djl.offline=true -Xms512m -Xmx512m -XX:+AlwaysPreTouch -cp ... rlcd4j.bench.ServeSoak \
 *     [modelDir] [requests] [concurrency]</pre>
 */
public final class ServeSoak {
    private ServeSoak() {}

    static final String KEY = "sk-soak";

    public static void main(String[] args) throws Exception {
        NativeThreads.tuneWaiting();
        String model = args.length > 0 ? args[0] : "../shared/models/TinyStories-656K";
        int requests = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
        int concurrency = args.length > 2 ? Integer.parseInt(args[2]) : 16;
        try (CausalLM lm = CausalLM.load(model);
                OpenAiServer server = OpenAiServer.start(
                        lm, OpenAiServer.Options.defaults("soak").withPort(0).withApiKey(KEY))) {
            HttpClient client = HttpClient.newBuilder()
                    .connectTimeout(Duration.ofSeconds(10))
                    .build();
            String longPrompt = "the dog ran and ".repeat(lm.config().maxPositions());
            Map<String, AtomicInteger> byKind = new ConcurrentHashMap<>();
            List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            AtomicLong rssAt200 = new AtomicLong(-1), heapAt200 = new AtomicLong(-1);
            AtomicInteger done = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(concurrency);
            long t0 = System.nanoTime();
            List<Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < requests; i++) {
                int id = i;
                futures.add(pool.submit(() -> {
                    String kind = one(client, server, id, longPrompt, failures);
                    byKind.computeIfAbsent(kind, k -> new AtomicInteger()).incrementAndGet();
                    if (done.incrementAndGet() == 200) {
                        rssAt200.set(rssKb());
                        heapAt200.set(heapKbAfterGc());
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) f.get();
            pool.shutdown();
            double seconds = (System.nanoTime() - t0) / 1e9;
            String last = one(client, server, 7, longPrompt, failures); // still serving good requests
            long rssEnd = rssKb(), heapEnd = heapKbAfterGc();
            double growth = (rssEnd - rssAt200.get()) / (double) rssAt200.get();
            System.out.printf(
                    "ServeSoak: %d requests, %d clients at once, %.1f s; by kind %s%n",
                    requests, concurrency, seconds, new TreeMap<>(byKind));
            System.out.printf(
                    "resident memory: %d kB after 200 requests, %d kB at the end (%+.1f%%); "
                            + "last good request: %s%n",
                    rssAt200.get(), rssEnd, 100 * growth, last);
            System.out.printf(
                    "Java heap in use after a GC: %d kB after 200 requests, %d kB at the end%n",
                    heapAt200.get(), heapEnd);
            System.out.println(
                    "wrong answers: " + failures.size() + (failures.isEmpty() ? "" : ", first: " + failures.get(0)));
            boolean ok = failures.isEmpty() && growth <= 0.10;
            System.out.println(ok ? "PASS" : "FAIL");
            System.exit(ok ? 0 : 1);
        }
    }

    /** Sends request {@code i} of the cycle and checks its status; returns its kind. */
    private static String one(HttpClient client, OpenAiServer server, int i, String longPrompt, List<String> failures) {
        String seed = ", \"seed\": " + i;
        String kind = List.of(
                        "malformed",
                        "too_long",
                        "unknown_model",
                        "wrong_key",
                        "n_over_limit",
                        "left_before_answer",
                        "left_mid_body",
                        "completion",
                        "echo_logprobs",
                        "chat")
                .get(i % 10);
        String path = "/completions", key = KEY, body;
        int status = 400;
        switch (i % 10) {
            case 0 -> body = "{\"prompt\": \"Sam\", ";
            case 1 -> body = "{\"prompt\": \"" + longPrompt + "\"}";
            case 2 -> {
                body = "{\"model\": \"x\", \"prompt\": \"Sam\"}";
                status = 404;
            }
            case 3 -> {
                body = "{\"prompt\": \"Sam\"}";
                key = "sk-wrong";
                status = 401;
            }
            case 4 -> body = "{\"prompt\": \"Sam\", \"n\": 1000}";
            case 5, 6 -> body = "{\"prompt\": \"Lily\", \"max_tokens\": 64" + seed + "}";
            case 7 -> {
                body = "{\"prompt\": \"Once upon a time\", \"max_tokens\": " + (1 + i % 64) + ", \"n\": " + (1 + i % 3)
                        + seed + "}";
                status = 200;
            }
            case 8 -> {
                body = "{\"prompt\": \"Tom had a big red ball\", \"echo\": true, \"logprobs\": 1, \"max_tokens\": 1"
                        + seed + "}";
                status = 200;
            }
            default -> {
                path = "/chat/completions";
                body = "{\"messages\": [{\"role\": \"user\", \"content\": \"Tell me a story.\"}], \"max_tokens\": 32,"
                        + " \"temperature\": 0.8" + seed + "}";
                status = 200;
            }
        }
        try {
            if (i % 10 == 5 || i % 10 == 6) leave(server, body, i % 10 == 6);
            else expect(client, server.baseUrl() + path, kind, body, key, status, failures);
        } catch (Exception e) {
            failures.add("request " + i + ": " + e);
        }
        return kind;
    }

    private static void expect(
            HttpClient client, String url, String kind, String body, String key, int status, List<String> failures)
            throws Exception {
        HttpResponse<String> r = client.send(
                HttpRequest.newBuilder(URI.create(url))
                        .header("Authorization", "Bearer " + key)
                        .timeout(Duration.ofMinutes(5))
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        JsonObject o = JsonParser.parseString(r.body()).getAsJsonObject();
        boolean shaped = status == 200
                ? o.has("choices")
                : o.has("error") && o.getAsJsonObject("error").has("message");
        if (r.statusCode() != status || !shaped) {
            failures.add(kind + ": expected " + status + ", got " + r.statusCode() + " " + abbreviate(r.body()));
        }
    }

    /** A client that leaves: after sending the whole request, or half of its body. */
    private static void leave(OpenAiServer server, String body, boolean midBody) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            OutputStream out = s.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: soak\r\nAuthorization: Bearer " + KEY
                            + "\r\nContent-Length: " + b.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            out.write(b, 0, midBody ? b.length / 2 : b.length);
            out.flush();
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }

    private static long heapKbAfterGc() {
        System.gc();
        Runtime rt = Runtime.getRuntime();
        return (rt.totalMemory() - rt.freeMemory()) / 1024;
    }

    private static long rssKb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/self/status: " + e.getMessage(), e);
        }
        throw new IllegalStateException("no VmRSS line in /proc/self/status");
    }
}
