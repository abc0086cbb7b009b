package rlcd4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import rlcd4j.RlcdException;
import rlcd4j.contrast.AttributeSpec;
import rlcd4j.contrast.Method;
import rlcd4j.contrast.Simulation;
import rlcd4j.data.HhRlhf;
import rlcd4j.data.PairRow;
import rlcd4j.data.PairsTable;
import rlcd4j.data.SharedData;
import rlcd4j.data.SimulationLog;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

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
        assertEquals(0, run(new SimulateCommand(), new ByteArrayOutputStream(), "--task", "harmlessness", "--method", "rlcd-rescore",
                "--prompts", prompts, "--out", out.toString(), "--limit", "40", "--shard", "1/4", "--seed", "0", "--dry-run"));
        List<PairRow> rows = SimulationLog.read(out);
        assertEquals(10, rows.size());
        var expected = Simulation.plan(HhRlhf.read(SharedData.harmlessTest()).prompts("harmlessness").limit(40).shard(1, 4),
                AttributeSpec.harmlessness(), Method.RLCD_RESCORE, 0);
        assertEquals(expected, rows);
        assertEquals(PairsTable.COLUMNS, SimulationLog.readTable(out).columnNames());

        // a dry run never writes into an existing table
        RlcdException e = assertThrows(RlcdException.class, () -> run(new SimulateCommand(), new ByteArrayOutputStream(),
                "--task", "harmlessness", "--method", "rlcd", "--prompts", prompts, "--out", out.toString(), "--dry-run"));
        assertTrue(e.getMessage().contains("already exists"), e.getMessage());
    }

    @Test
    void badLinesAreReportedAndTheRestGoesOn(@TempDir Path dir) throws Exception {
        Path in = dir.resolve("p.jsonl");
        Files.writeString(in, "{\"premise\": \"A cat learns to fly.\"}\n{broken\n{\"premise\": \"A dog learns to swim.\"}\n");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Path out = dir.resolve("o.jsonl");
        assertEquals(0, run(new SimulateCommand(), err, "--task", "outline", "--method", "rlaif", "--prompts", in.toString(),
                "--out", out.toString(), "--dry-run"));
        assertTrue(err.toString().contains("skipped " + in + ":2: malformed JSON"), err.toString());
        assertEquals(List.of(0, 2), SimulationLog.read(out).stream().map(PairRow::id).toList());
    }

    @Test
    void generationNeedsAModel(@TempDir Path dir) {
        RlcdException e = assertThrows(RlcdException.class, () -> run(new SimulateCommand(), new ByteArrayOutputStream(),
                "--task", "helpful", "--method", "rlcd", "--prompts", SharedData.harmlessTest().toString(),
                "--out", dir.resolve("x.jsonl").toString()));
        assertTrue(e.getMessage().contains("needs --model"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("x.jsonl")));
    }

    @Test
    void unknownTaskOrMethod(@TempDir Path dir) {
        String[] base = {"--prompts", SharedData.harmlessTest().toString(), "--out", dir.resolve("x.jsonl").toString(), "--dry-run"};
        RlcdException e = assertThrows(RlcdException.class, () -> run(new SimulateCommand(), new ByteArrayOutputStream(),
                concat(base, "--task", "funny", "--method", "rlcd")));
        assertTrue(e.getMessage().contains("unknown task 'funny'"));
        e = assertThrows(RlcdException.class, () -> run(new SimulateCommand(), new ByteArrayOutputStream(),
                concat(base, "--task", "harmless", "--method", "dpo")));
        assertTrue(e.getMessage().contains("unknown method 'dpo'"));
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
