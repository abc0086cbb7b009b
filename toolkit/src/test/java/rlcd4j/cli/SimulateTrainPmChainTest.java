package rlcd4j.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import rlcd4j.Rlcd;
import rlcd4j.sandbox.SandboxTask;

/**
 * {@code rlcd simulate} then {@code rlcd train-pm} (and {@code dpo}, {@code sft}) on its output, which holds dropped
 * rows (issue 21).
 */
class SimulateTrainPmChainTest {

    @Test
    void trainPmTrainsOnTheKeptRowsOfASimulationWithDroppedRows(@TempDir Path dir) throws Exception {
        List<String> lines = new ArrayList<>();
        for (String p : Rlcd.sandboxPrompts(SandboxTask.HARMLESS, 8, false, 0)) {
            com.google.gson.JsonObject o = new com.google.gson.JsonObject();
            o.addProperty("prompt", p);
            lines.add(o.toString());
        }
        Path prompts = dir.resolve("prompts.jsonl");
        Files.write(prompts, lines);
        Path pairs = dir.resolve("pairs.jsonl");
        String model = Rlcd.sandboxModel().toString();
        // 24 new tokens: some samples reach the next "Human:" turn (kept), most do not (dropped after one attempt).
        SimulateCommand simulate = new SimulateCommand();
        simulate.outStream = new PrintStream(new ByteArrayOutputStream());
        simulate.errStream = new PrintStream(new ByteArrayOutputStream());
        assertEquals(
                0,
                new CommandLine(simulate)
                        .execute(
                                "--task",
                                "harmlessness",
                                "--method",
                                "rlcd",
                                "--model",
                                model,
                                "--prompts",
                                prompts.toString(),
                                "--out",
                                pairs.toString(),
                                "--max-new-tokens",
                                "24",
                                "--max-attempts",
                                "1",
                                "--batch-size",
                                "8",
                                "--seed",
                                "0"));
        int ok = 0, dropped = 0;
        for (String line : Files.readAllLines(pairs)) {
            String status =
                    JsonParser.parseString(line).getAsJsonObject().get("status").getAsString();
            if (status.equals("ok")) ok++;
            if (status.equals("dropped")) dropped++;
        }
        assertTrue(
                ok > 0 && dropped > 0,
                "the simulation kept some pairs and dropped some: " + ok + " ok, " + dropped + " dropped");

        String[] small = {"--model", model, "--batch-size", "1", "--max-length", "64", "--lr", "1e-4", "--epochs", "1"};
        run(
                new TrainPmCommand(),
                concat(
                        small,
                        "--pairs",
                        pairs.toString(),
                        "--out",
                        dir.resolve("pm").toString(),
                        "--eval-size",
                        "0"));
        assertTrue(Files.exists(dir.resolve("pm/preference_model.json")));
        // One pair per step, one epoch: one step per kept pair, and the dropped rows are not trained on.
        assertEquals(ok, Files.readAllLines(dir.resolve("pm/log.jsonl")).size());
        // The same file chains into DPO and into context distillation (SFT on the chosen side).
        run(
                new DpoCommand(),
                concat(
                        small,
                        "--pairs",
                        pairs.toString(),
                        "--out",
                        dir.resolve("dpo").toString()));
        assertEquals(ok, Files.readAllLines(dir.resolve("dpo/log.jsonl")).size());
        run(
                new SftCommand(),
                concat(
                        small,
                        "--data",
                        pairs.toString(),
                        "--out",
                        dir.resolve("sft").toString()));
        assertEquals(ok, Files.readAllLines(dir.resolve("sft/log.jsonl")).size());
    }

    /** Runs a training command as the CLI does; it must exit 0 (its error line is the failure message). */
    private static void run(Object command, String... args) {
        PrintStream oldErr = System.err, oldOut = System.out;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try {
            System.setErr(new PrintStream(err, true));
            System.setOut(new PrintStream(new ByteArrayOutputStream(), true));
            code = new CommandLine(command).execute(args);
        } finally {
            System.setErr(oldErr);
            System.setOut(oldOut);
        }
        assertEquals(0, code, err.toString());
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
