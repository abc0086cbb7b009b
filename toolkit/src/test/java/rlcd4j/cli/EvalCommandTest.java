package rlcd4j.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.eval.Outputs;

/** The eval command end to end against a local chat-completions server that prefers the longer response. */
class EvalCommandTest {
    @Test
    void judgesBothOrdersAndWritesTables(@TempDir Path dir) throws Exception {
        AtomicInteger requests = new AtomicInteger();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/chat/completions", ex -> {
            requests.incrementAndGet();
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            // A-text is between "(A) Assistant: " and "\n\n(B)"; answer the longer one.
            String p = com.google.gson.JsonParser.parseString(body)
                    .getAsJsonObject()
                    .getAsJsonArray("messages")
                    .get(1)
                    .getAsJsonObject()
                    .get("content")
                    .getAsString();
            int ia = p.indexOf("(A) Assistant: "),
                    ib = p.indexOf("\n\n(B) Assistant: "),
                    iq = p.indexOf("\n\n\n\nWhich");
            String ans = (ib - ia - 15) >= (iq - ib - 17) ? "(A)" : "(B)";
            byte[] out = ("{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"" + ans + "\"}}]}")
                    .getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, out.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(out);
            }
        });
        server.start();
        try {
            List<String> prompts =
                    List.of("Human: a\n\nAssistant:", "Human: b\n\nAssistant:", "Human: c\n\nAssistant:");
            Outputs.writeJsonl(
                    Outputs.of("long", null, prompts, List.of("a long answer here", "x", "another long answer")),
                    dir.resolve("a.jsonl"));
            Outputs.writeJsonl(
                    Outputs.of("short", null, prompts, List.of("short", "a much longer answer", "tiny")),
                    dir.resolve("b.jsonl"));
            String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
            Path out = dir.resolve("out");
            int code = Main.run(
                    "eval",
                    "--a",
                    dir.resolve("a.jsonl").toString(),
                    "--b",
                    dir.resolve("b.jsonl").toString(),
                    "--base-url",
                    url,
                    "--model",
                    "m",
                    "--out",
                    out.toString(),
                    "--resamples",
                    "200");
            assertEquals(0, code);
            assertEquals(6, requests.get());
            String summary = Files.readString(out.resolve("summary.csv"));
            assertTrue(summary.startsWith("model_a,model_b,n,wins_a,ties,wins_b,win_rate"), summary);
            assertTrue(summary.contains("long,short,3,2,0,1,0.666"), summary);
            assertTrue(Files.size(out.resolve("win_rate.png")) > 1000);
            // Rerun: all answers from the cache.
            assertEquals(
                    0,
                    Main.run(
                            "eval",
                            "--a",
                            dir.resolve("a.jsonl").toString(),
                            "--b",
                            dir.resolve("b.jsonl").toString(),
                            "--base-url",
                            url,
                            "--model",
                            "m",
                            "--out",
                            out.toString(),
                            "--resamples",
                            "200"));
            assertEquals(6, requests.get());
            assertEquals(
                    1,
                    Main.run(
                            "eval",
                            "--a",
                            dir.resolve("missing.jsonl").toString(),
                            "--b",
                            dir.resolve("b.jsonl").toString(),
                            "--base-url",
                            url,
                            "--out",
                            out.toString()));
        } finally {
            server.stop(0);
        }
    }
}
