package rlcd4j.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import rlcd4j.contrast.AttributeSpec;
import rlcd4j.contrast.Method;
import rlcd4j.contrast.Simulation;
import rlcd4j.data.HhRlhf;
import rlcd4j.data.PairRow;
import rlcd4j.data.PairStatus;
import rlcd4j.data.PairsTable;
import rlcd4j.data.PromptSet;
import rlcd4j.data.PromptSource;
import rlcd4j.data.SharedData;
import rlcd4j.data.SimulationLog;
import rlcd4j.hub.HfHub;
import rlcd4j.util.RlcdException;

class SimulateCommandTest {
    private static int run(SimulateCommand cmd, ByteArrayOutputStream err, String... args) {
        cmd.outStream = new PrintStream(new ByteArrayOutputStream());
        cmd.errStream = new PrintStream(err);
        new CommandLine(cmd).parseArgs(args); // then call() directly, so RlcdException reaches the test
        return cmd.call();
    }

    @Test
    void dryRunWritesThePlannedTable(@TempDir Path dir) {
        Path out = dir.resolve("pairs.jsonl");
        String prompts = SharedData.harmlessTest().toString();
        assertEquals(
                0,
                run(
                        new SimulateCommand(),
                        new ByteArrayOutputStream(),
                        "--task",
                        "harmlessness",
                        "--method",
                        "rlcd-rescore",
                        "--prompts",
                        prompts,
                        "--out",
                        out.toString(),
                        "--limit",
                        "40",
                        "--shard",
                        "1/4",
                        "--seed",
                        "0",
                        "--dry-run"));
        List<PairRow> rows = SimulationLog.read(out);
        assertEquals(10, rows.size());
        var expected = Simulation.plan(
                HhRlhf.read(SharedData.harmlessTest())
                        .prompts("harmlessness")
                        .limit(40)
                        .shard(1, 4),
                AttributeSpec.harmlessness(),
                Method.RLCD_RESCORE,
                0);
        assertEquals(expected, rows);
        assertEquals(PairsTable.COLUMNS, SimulationLog.readTable(out).columnNames());

        // a dry run never writes into an existing table
        RlcdException e = assertThrows(
                RlcdException.class,
                () -> run(
                        new SimulateCommand(),
                        new ByteArrayOutputStream(),
                        "--task",
                        "harmlessness",
                        "--method",
                        "rlcd",
                        "--prompts",
                        prompts,
                        "--out",
                        out.toString(),
                        "--dry-run"));
        assertTrue(e.getMessage().contains("already exists"), e.getMessage());
    }

    @Test
    void badLinesAreReportedAndTheRestGoesOn(@TempDir Path dir) throws Exception {
        Path in = dir.resolve("p.jsonl");
        Files.writeString(
                in, "{\"premise\": \"A cat learns to fly.\"}\n{broken\n{\"premise\": \"A dog learns to swim.\"}\n");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Path out = dir.resolve("o.jsonl");
        assertEquals(
                0,
                run(
                        new SimulateCommand(),
                        err,
                        "--task",
                        "outline",
                        "--method",
                        "rlaif",
                        "--prompts",
                        in.toString(),
                        "--out",
                        out.toString(),
                        "--dry-run"));
        assertTrue(err.toString().contains("skipped " + in + ":2: malformed JSON"), err.toString());
        assertEquals(
                List.of(0, 2), SimulationLog.read(out).stream().map(PairRow::id).toList());
    }

    @Test
    void generationNeedsAModel(@TempDir Path dir) {
        RlcdException e = assertThrows(
                RlcdException.class,
                () -> run(
                        new SimulateCommand(),
                        new ByteArrayOutputStream(),
                        "--task",
                        "helpful",
                        "--method",
                        "rlcd",
                        "--prompts",
                        SharedData.harmlessTest().toString(),
                        "--out",
                        dir.resolve("x.jsonl").toString()));
        assertTrue(e.getMessage().contains("needs --model"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("x.jsonl")));
    }

    @Test
    void unknownTaskOrMethod(@TempDir Path dir) {
        String[] base = {
            "--prompts",
            SharedData.harmlessTest().toString(),
            "--out",
            dir.resolve("x.jsonl").toString(),
            "--dry-run"
        };
        RlcdException e = assertThrows(
                RlcdException.class,
                () -> run(
                        new SimulateCommand(),
                        new ByteArrayOutputStream(),
                        concat(base, "--task", "funny", "--method", "rlcd")));
        assertTrue(e.getMessage().contains("unknown task 'funny'"));
        e = assertThrows(
                RlcdException.class,
                () -> run(
                        new SimulateCommand(),
                        new ByteArrayOutputStream(),
                        concat(base, "--task", "harmless", "--method", "dpo")));
        assertTrue(e.getMessage().contains("unknown method 'dpo'"));
    }

    @Test
    void generatesWithAModelAndResumes(@TempDir Path dir) throws Exception {
        Path in = dir.resolve("p.jsonl");
        Files.writeString(
                in,
                "{\"prompt\": \"Human: Hi there\\n\\nAssistant:\"}\n{broken\n"
                        + "{\"prompt\": \"Human: Tell me a story\\n\\nAssistant:\"}\n");
        Path out = dir.resolve("pairs.jsonl");
        String[] args = {
            "--task",
            "harmlessness",
            "--method",
            "rlcd",
            "--model",
            rlcd4j.Fixtures.tinyStories().toString(),
            "--prompts",
            in.toString(),
            "--out",
            out.toString(),
            "--max-new-tokens",
            "4",
            "--max-attempts",
            "1",
            "--batch-size",
            "2"
        };
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, run(new SimulateCommand(), err, args));
        assertTrue(err.toString().contains("skipped " + in + ":2: malformed JSON"), err.toString());
        List<PairRow> rows = SimulationLog.read(out);
        assertEquals(List.of(0, 2), rows.stream().map(PairRow::id).toList());
        // TinyStories never writes "Human": each side's one attempt fails, and the reason is recorded
        for (PairRow r : rows) {
            assertEquals(PairStatus.DROPPED, r.status());
            assertEquals(2, r.attempts());
            assertEquals("positive side (p+) failed post-processing 1 times: no_human_turn", r.error());
        }
        long size = Files.size(out);
        assertEquals(0, run(new SimulateCommand(), new ByteArrayOutputStream(), args)); // resumed: nothing left to do
        assertEquals(size, Files.size(out));
        String[] rlaif = args.clone();
        rlaif[3] = "rlaif";
        RlcdException e =
                assertThrows(RlcdException.class, () -> run(new SimulateCommand(), new ByteArrayOutputStream(), rlaif));
        assertTrue(
                e.getMessage().contains("method 'rlcd' but this run is task 'harmlessness', method 'rlaif'"),
                e.getMessage());
    }

    @Test
    void promptsFromTheHubCache(@TempDir Path dir) throws Exception {
        // A Hugging Face cache holding one dataset file of our own (2 HH-style rows); offline, so nothing is fetched.
        Path cache = dir.resolve("hub");
        Path repo = cache.resolve("datasets--Anthropic--hh-rlhf");
        Path file = repo.resolve("snapshots/c0ffee/harmless-base/test.jsonl.gz");
        Files.createDirectories(file.getParent());
        Files.createDirectories(repo.resolve("refs"));
        Files.writeString(repo.resolve("refs/main"), "c0ffee");
        try (var gz = new java.io.PrintStream(
                new java.util.zip.GZIPOutputStream(Files.newOutputStream(file)), true, "UTF-8")) {
            gz.print("{\"chosen\": \"\\n\\nHuman: Hi\\n\\nAssistant: Hello!\"}\n"
                    + "{\"chosen\": \"\\n\\nHuman: Bye\\n\\nAssistant: See you.\"}\n");
        }
        HfHub hub = new HfHub(cache, true);
        assertEquals(file, PromptSource.resolve("hh:harmless-base/test", hub));
        assertEquals(file, PromptSource.resolve("hf:Anthropic/hh-rlhf/harmless-base/test.jsonl.gz", hub));
        assertEquals(file, PromptSource.resolve("hf:Anthropic/hh-rlhf@c0ffee/harmless-base/test.jsonl.gz", hub));
        assertEquals(Path.of("local.jsonl"), PromptSource.resolve("local.jsonl", hub));
        assertEquals(
                List.of("Human: Hi\n\nAssistant:", "Human: Bye\n\nAssistant:"),
                PromptSource.load("hh:harmless-base/test", "harmlessness", true, hub).entries().stream()
                        .map(PromptSet.Entry::prompt)
                        .toList());
        RlcdException e = assertThrows(RlcdException.class, () -> PromptSource.resolve("hh:harmless-base/dev", hub));
        assertTrue(e.getMessage().contains("unknown HH-RLHF file 'harmless-base/dev'"), e.getMessage());
        e = assertThrows(RlcdException.class, () -> PromptSource.resolve("hf:Anthropic/hh-rlhf", hub));
        assertTrue(e.getMessage().contains("expected hf:ORG/NAME/PATH"), e.getMessage());
        e = assertThrows(RlcdException.class, () -> PromptSource.resolve("hh:helpful-base/train", hub));
        assertTrue(
                e.getMessage().contains("helpful-base/train.jsonl.gz is not in the Hugging Face cache"),
                e.getMessage());

        SimulateCommand cmd = new SimulateCommand();
        cmd.hub = hub;
        Path out = dir.resolve("dry.jsonl");
        assertEquals(
                0,
                run(
                        cmd,
                        new ByteArrayOutputStream(),
                        "--task",
                        "harmlessness",
                        "--method",
                        "rlcd",
                        "--prompts",
                        "hh:harmless-base/test",
                        "--out",
                        out.toString(),
                        "--dry-run"));
        assertEquals(2, SimulationLog.read(out).size());
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
