package rlcd4j.train;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import rlcd4j.Fixtures;
import rlcd4j.cli.DpoCommand;
import rlcd4j.cli.Main;
import rlcd4j.cli.SftCommand;
import rlcd4j.cli.TrainPmCommand;
import tech.tablesaw.api.Table;

/** The three commands end to end on a TRL-format JSONL file. */
class TrainCommandsTest {

    static Path writePairs(Path dir, int n) throws Exception {
        Table t = TinyData.markerPairs(n, 9);
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            com.google.gson.JsonObject o = new com.google.gson.JsonObject();
            o.addProperty("prompt", t.stringColumn("prompt").get(i));
            o.addProperty("chosen", t.stringColumn("chosen").get(i));
            o.addProperty("rejected", t.stringColumn("rejected").get(i));
            o.addProperty("p_chosen", 1.0);
            lines.add(o.toString());
        }
        Path f = dir.resolve("pairs.jsonl");
        Files.write(f, lines);
        return f;
    }

    @Test
    void trainPmSftAndDpoWriteTheirFolders(@TempDir Path dir) throws Exception {
        Path pairs = writePairs(dir, 12);
        String model = Fixtures.tinyStories().toString();
        String[] small = {
            "--model", model, "--lr", "1e-3", "--batch-size", "4", "--max-length", "64", "--lora-rank", "4"
        };
        assertEquals(
                0,
                new CommandLine(new TrainPmCommand())
                        .execute(concat(
                                small,
                                "--pairs",
                                pairs.toString(),
                                "--out",
                                dir.resolve("pm").toString(),
                                "--eval-size",
                                "4",
                                "--human-pairs",
                                Fixtures.hhHarmlessTest().toString(),
                                "--human-limit",
                                "3",
                                "--epochs",
                                "3")));
        // Real updates that move the right way (the first step's rate is 0: one warmup step).
        List<Double> pmMargin = column(dir.resolve("pm/log.jsonl"), "margin");
        assertTrue(column(dir.resolve("pm/log.jsonl"), "lr").stream().anyMatch(lr -> lr > 0));
        assertTrue(pmMargin.get(pmMargin.size() - 1) > pmMargin.get(0), "preference margin grows: " + pmMargin);
        assertTrue(Files.exists(dir.resolve("pm/preference_model.json"))
                && Files.exists(dir.resolve("pm/adapter/adapter_model.safetensors")));
        assertTrue(Files.exists(dir.resolve("pm/checkpoint-6/trainer_state.json")), "3 epochs of 2 steps");
        String[] sft = {"--model", model, "--lr", "1e-2", "--batch-size", "4", "--max-length", "64", "--lora-rank", "4"
        };
        assertEquals(
                0,
                new CommandLine(new SftCommand())
                        .execute(concat(
                                sft,
                                "--data",
                                pairs.toString(),
                                "--out",
                                dir.resolve("sft").toString(),
                                "--epochs",
                                "4")));
        assertTrue(Files.exists(dir.resolve("sft/adapter_config.json")));
        // 4 epochs of 3 steps: compare whole epochs
        List<Double> sftLoss = column(dir.resolve("sft/log.jsonl"), "loss");
        double firstEpoch = sftLoss.subList(0, 3).stream().mapToDouble(x -> x).sum(),
                lastEpoch = sftLoss.subList(9, 12).stream().mapToDouble(x -> x).sum();
        assertTrue(lastEpoch < firstEpoch, "SFT loss falls: " + sftLoss);
        assertEquals(
                0,
                new CommandLine(new DpoCommand())
                        .execute(concat(
                                small,
                                "--pairs",
                                pairs.toString(),
                                "--out",
                                dir.resolve("dpo").toString(),
                                "--epochs",
                                "1",
                                "--loss",
                                "ipo")));
        assertTrue(Files.exists(dir.resolve("dpo/adapter_model.safetensors")));
        assertEquals(3, Files.readAllLines(dir.resolve("dpo/log.jsonl")).size());
        List<Double> dpoLoss = column(dir.resolve("dpo/log.jsonl"), "loss");
        assertTrue(dpoLoss.get(2) < dpoLoss.get(0), "IPO loss falls after the warmup step: " + dpoLoss);
    }

    @Test
    void badInputGivesOneClearError(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.jsonl");
        Files.writeString(
                bad,
                "{\"prompt\": \"a\", \"chosen\": \"b\", \"rejected\": \"c\"}\n{\"prompt\": \"a\", \"chosen\": \"b\"}\n");
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true));
        int code;
        try {
            code = Main.run(
                    "dpo",
                    "--model",
                    Fixtures.tinyStories().toString(),
                    "--pairs",
                    bad.toString(),
                    "--out",
                    dir.resolve("o").toString());
        } finally {
            System.setErr(old);
        }
        assertEquals(1, code);
        assertTrue(err.toString().contains("bad.jsonl:2: field \"rejected\" is missing"), err.toString());
    }

    static List<Double> column(Path logJsonl, String name) throws java.io.IOException {
        List<Double> out = new ArrayList<>();
        for (String line : Files.readAllLines(logJsonl)) {
            out.add(com.google.gson.JsonParser.parseString(line)
                    .getAsJsonObject()
                    .get(name)
                    .getAsDouble());
        }
        return out;
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
