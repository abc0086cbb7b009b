package rlcd4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.Fixtures;
import rlcd4j.eval.Outputs;
import tech.tablesaw.api.Table;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** {@code rlcd decode} then {@code rlcd eval --judge local}, end to end on TinyStories-656K. */
class DecodeCommandTest {
    @Test
    void decodeTwoPoliciesThenJudgeThemLocally(@TempDir Path dir) throws Exception {
        Path prompts = dir.resolve("prompts.jsonl");
        Files.writeString(prompts, """
                {"id": 3, "prompt": "\\n\\nHuman: Tell me about a cat.\\n\\nAssistant:"}
                {"id": 5, "prompt": "\\n\\nHuman: What is a ball?\\n\\nAssistant:"}
                {"id": 8, "prompt": "\\n\\nHuman: Hi there\\n\\nAssistant:"}
                """);
        String model = Fixtures.tinyStories().toString();
        Path a = dir.resolve("a.jsonl"), b = dir.resolve("b.jsonl");
        assertEquals(0, DecodeCommand.run("--model", model, "--prompts", prompts.toString(), "--out", a.toString(),
                "--max-new-tokens", "8", "--seed", "1", "--name", "seed1"));
        assertEquals(0, DecodeCommand.run("--model", model, "--prompts", prompts.toString(), "--out", b.toString(),
                "--max-new-tokens", "8", "--seed", "2", "--limit", "3"));
        Table ta = Outputs.readJsonl(a), tb = Outputs.readJsonl(b);
        assertEquals(List.of("3", "5", "8"), ta.sortAscendingOn(Outputs.ID).stringColumn(Outputs.ID).asList());
        assertEquals(List.of("seed1"), ta.stringColumn(Outputs.MODEL).unique().asList());
        assertEquals(List.of("TinyStories-656K"), tb.stringColumn(Outputs.MODEL).unique().asList(), "default name: the folder's");
        // Rerun with other settings into the same file: refused, file untouched.
        byte[] before = Files.readAllBytes(a);
        assertEquals(1, DecodeCommand.run("--model", model, "--prompts", prompts.toString(), "--out", a.toString(),
                "--max-new-tokens", "9", "--seed", "1", "--name", "seed1"));
        assertArrayEquals(before, Files.readAllBytes(a));

        Path out = dir.resolve("eval");
        String[] args = {"--a", a.toString(), "--b", b.toString(), "--judge", "local", "--judge-model", model,
                "--task", "harmless", "--out", out.toString(), "--resamples", "200"};
        assertEquals(0, EvalCommand.run(args));
        List<String> summary = Files.readAllLines(out.resolve("summary.csv"));
        assertTrue(summary.get(0).startsWith("model_a,model_b,n,"), summary.toString());
        assertTrue(summary.get(1).startsWith("seed1,TinyStories-656K,3,"), summary.toString());
        assertTrue(summary.get(1).contains("local:" + model + "/harmless"), summary.toString());
        Path cache = out.resolve("judge-cache.jsonl");
        assertEquals(6, Files.readAllLines(cache).size(), "both orders of 3 pairs");
        byte[] cached = Files.readAllBytes(cache);
        assertEquals(0, EvalCommand.run(args));
        assertArrayEquals(cached, Files.readAllBytes(cache), "a rerun is served from the cache");

        assertEquals(1, EvalCommand.run("--a", a.toString(), "--b", b.toString(), "--judge", "local", "--out", out.toString()));
    }

    @Test
    void hhRlhfTestSplit(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("o.jsonl");
        assertEquals(0, DecodeCommand.run("--model", Fixtures.tinyStories().toString(), "--prompts", Fixtures.hhHarmlessTest().toString(),
                "--split", "test", "--limit", "2", "--max-new-tokens", "4", "--out", out.toString()));
        Table t = Outputs.readJsonl(out);
        assertEquals(List.of("1000", "1001"), t.sortAscendingOn(Outputs.ID).stringColumn(Outputs.ID).asList());
        for (String p : t.stringColumn(Outputs.PROMPT)) assertTrue(p.startsWith("Human:") && p.endsWith("Assistant:"), p);
        assertEquals(1, DecodeCommand.run("--model", Fixtures.tinyStories().toString(), "--prompts", Fixtures.hhHarmlessTest().toString(),
                "--split", "train", "--out", out.toString()));
    }
}
