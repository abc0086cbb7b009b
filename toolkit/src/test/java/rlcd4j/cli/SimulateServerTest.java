package rlcd4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import rlcd4j.Fixtures;
import rlcd4j.engine.Tokenizer;
import rlcd4j.engine.llama.LlamaConfig;
import rlcd4j.engine.remote.FakeOpenAiServer;
import rlcd4j.util.RlcdException;

/** {@code rlcd simulate --server ...}: the flags, the key read from a named variable and never written. */
class SimulateServerTest {
    @Test
    void simulatesThroughAServerWithTheKeyFromTheNamedVariable(@TempDir Path dir) throws Exception {
        LlamaConfig config = LlamaConfig.read(Fixtures.tinyStories().resolve("config.json"));
        try (Tokenizer tok = Tokenizer.load(Fixtures.tinyStories(), config);
                var s = new FakeOpenAiServer(tok, 0, FakeOpenAiServer.Mode.ECHO, -1)) {
            Path out = dir.resolve("cli.jsonl");
            ByteArrayOutputStream err = new ByteArrayOutputStream(), stdout = new ByteArrayOutputStream();
            SimulateCommand cmd = new SimulateCommand();
            cmd.outStream = new PrintStream(stdout);
            cmd.errStream = new PrintStream(err);
            new CommandLine(cmd)
                    .parseArgs(
                            "--task",
                            "harmlessness",
                            "--method",
                            "rlcd",
                            "--model",
                            Fixtures.tinyStories().toString(),
                            "--prompts",
                            Fixtures.hhHarmlessTest().toString(),
                            "--limit",
                            "6",
                            "--max-new-tokens",
                            "20",
                            "--out",
                            out.toString(),
                            "--server",
                            s.baseUrl(),
                            "--server-api-key-env",
                            "RLCD_TEST_KEY");
            cmd.server.env = Map.of("RLCD_TEST_KEY", "sk-secret-123")::get;
            assertEquals(0, cmd.call());
            assertTrue(stdout.toString().contains("6 pairs"), stdout.toString());
            assertEquals(6, Files.readAllLines(out).size());
            assertTrue(
                    s.authorizations.size() >= 6 && s.authorizations.stream().allMatch("Bearer sk-secret-123"::equals));
            assertFalse(Files.readString(out).contains("sk-secret-123"));
            assertFalse(err.toString().contains("sk-secret-123"));
        }
    }

    @Test
    void decodesThroughAServer(@TempDir Path dir) throws Exception {
        LlamaConfig config = LlamaConfig.read(Fixtures.tinyStories().resolve("config.json"));
        Path prompts = dir.resolve("prompts.jsonl"), out = dir.resolve("outputs.jsonl");
        Files.writeString(
                prompts,
                "{\"id\": 0, \"prompt\": \"Human: Hi there\\n\\nAssistant:\"}\n"
                        + "{\"id\": 1, \"prompt\": \"Human: How are you?\\n\\nAssistant:\"}\n");
        try (Tokenizer tok = Tokenizer.load(Fixtures.tinyStories(), config);
                var s = new FakeOpenAiServer(tok, 0, FakeOpenAiServer.Mode.ECHO, -1)) {
            assertEquals(
                    0,
                    Main.run(
                            "decode",
                            "--model",
                            Fixtures.tinyStories().toString(),
                            "--prompts",
                            prompts.toString(),
                            "--out",
                            out.toString(),
                            "--max-new-tokens",
                            "8",
                            "--server",
                            s.baseUrl()));
            assertEquals(2, Files.readAllLines(out).size());
            assertEquals(2, s.requests());
        }
    }

    @Test
    void aNamedKeyVariableThatIsNotSetIsOneClearError(@TempDir Path dir) {
        SimulateCommand cmd = new SimulateCommand();
        new CommandLine(cmd)
                .parseArgs(
                        "--task",
                        "harmlessness",
                        "--method",
                        "rlcd",
                        "--model",
                        Fixtures.tinyStories().toString(),
                        "--prompts",
                        Fixtures.hhHarmlessTest().toString(),
                        "--limit",
                        "2",
                        "--out",
                        dir.resolve("x.jsonl").toString(),
                        "--server",
                        "http://127.0.0.1:9/v1",
                        "--server-api-key-env",
                        "RLCD_TEST_UNSET");
        cmd.server.env = Map.<String, String>of()::get;
        RlcdException e = assertThrows(RlcdException.class, cmd::call);
        assertTrue(e.getMessage().contains("RLCD_TEST_UNSET") && e.getMessage().contains("not set"), e.getMessage());
    }
}
