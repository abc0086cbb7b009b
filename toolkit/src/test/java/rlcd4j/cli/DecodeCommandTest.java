package rlcd4j.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import rlcd4j.Fixtures;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.llama.LoraAdapter;
import rlcd4j.eval.Outputs;
import rlcd4j.train.PreferenceModel;
import tech.tablesaw.api.Table;

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
        assertEquals(
                0,
                Main.run(
                        "decode",
                        "--model",
                        model,
                        "--prompts",
                        prompts.toString(),
                        "--out",
                        a.toString(),
                        "--max-new-tokens",
                        "8",
                        "--seed",
                        "1",
                        "--name",
                        "seed1"));
        assertEquals(
                0,
                Main.run(
                        "decode",
                        "--model",
                        model,
                        "--prompts",
                        prompts.toString(),
                        "--out",
                        b.toString(),
                        "--max-new-tokens",
                        "8",
                        "--seed",
                        "2",
                        "--limit",
                        "3"));
        Table ta = Outputs.readJsonl(a), tb = Outputs.readJsonl(b);
        assertEquals(
                List.of("3", "5", "8"),
                ta.sortAscendingOn(Outputs.ID).stringColumn(Outputs.ID).asList());
        assertEquals(List.of("seed1"), ta.stringColumn(Outputs.MODEL).unique().asList());
        assertEquals(
                List.of("TinyStories-656K"),
                tb.stringColumn(Outputs.MODEL).unique().asList(),
                "default name: the folder's");
        // Rerun with other settings into the same file: refused, file untouched.
        byte[] before = Files.readAllBytes(a);
        assertEquals(
                1,
                Main.run(
                        "decode",
                        "--model",
                        model,
                        "--prompts",
                        prompts.toString(),
                        "--out",
                        a.toString(),
                        "--max-new-tokens",
                        "9",
                        "--seed",
                        "1",
                        "--name",
                        "seed1"));
        assertArrayEquals(before, Files.readAllBytes(a));

        Path out = dir.resolve("eval");
        String[] args = {
            "--a",
            a.toString(),
            "--b",
            b.toString(),
            "--judge",
            "local",
            "--judge-model",
            model,
            "--task",
            "harmless",
            "--out",
            out.toString(),
            "--resamples",
            "200"
        };
        assertEquals(0, Main.run(concat("eval", args)));
        List<String> summary = Files.readAllLines(out.resolve("summary.csv"));
        assertTrue(summary.get(0).startsWith("model_a,model_b,n,"), summary.toString());
        assertTrue(summary.get(1).startsWith("seed1,TinyStories-656K,3,"), summary.toString());
        assertTrue(summary.get(1).contains("local:" + model + "/harmless"), summary.toString());
        Path cache = out.resolve("judge-cache.jsonl");
        assertEquals(6, Files.readAllLines(cache).size(), "both orders of 3 pairs");
        byte[] cached = Files.readAllBytes(cache);
        assertEquals(0, Main.run(concat("eval", args)));
        assertArrayEquals(cached, Files.readAllBytes(cache), "a rerun is served from the cache");

        assertEquals(
                1,
                Main.run(
                        "eval", "--a", a.toString(), "--b", b.toString(), "--judge", "local", "--out", out.toString()));
    }

    @Test
    void hhRlhfTestSplit(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("o.jsonl");
        assertEquals(
                0,
                Main.run(
                        "decode",
                        "--model",
                        Fixtures.tinyStories().toString(),
                        "--prompts",
                        Fixtures.hhHarmlessTest().toString(),
                        "--split",
                        "test",
                        "--limit",
                        "2",
                        "--max-new-tokens",
                        "4",
                        "--out",
                        out.toString()));
        Table t = Outputs.readJsonl(out);
        assertEquals(
                List.of("1000", "1001"),
                t.sortAscendingOn(Outputs.ID).stringColumn(Outputs.ID).asList());
        for (String p : t.stringColumn(Outputs.PROMPT))
            assertTrue(p.startsWith("Human:") && p.endsWith("Assistant:"), p);
        assertEquals(
                1,
                Main.run(
                        "decode",
                        "--model",
                        Fixtures.tinyStories().toString(),
                        "--prompts",
                        Fixtures.hhHarmlessTest().toString(),
                        "--split",
                        "train",
                        "--out",
                        out.toString()));
    }

    @Test
    void decodesTheAdapterFolderThatPpoWithLoraWrites(@TempDir Path dir) throws Exception {
        Path pm = dir.resolve("pm");
        var lora = new LoraAdapter.Config(4, 8, 0, Set.of("q_proj", "v_proj"));
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories());
                PreferenceModel rm = PreferenceModel.create(lm, lora, 128, 1)) {
            rm.save(pm);
        }
        Path prompts = prompts(dir);
        Path ppo = dir.resolve("ppo");
        assertEquals(
                0,
                new CommandLine(new PpoCommand())
                        .execute(
                                "--policy",
                                Fixtures.tinyStories().toString(),
                                "--reward-model",
                                pm.toString(),
                                "--prompts",
                                prompts.toString(),
                                "--out",
                                ppo.toString(),
                                "--steps",
                                "2",
                                "--rollout-batch",
                                "4",
                                "--step-batch",
                                "4",
                                "--micro-batch",
                                "4",
                                "--response-length",
                                "6",
                                "--lora-rank",
                                "4"));
        Path policy = ppo.resolve("policy");
        assertTrue(Files.exists(policy.resolve("adapter_config.json")), "ppo --lora-rank writes an adapter folder");
        Path out = dir.resolve("o.jsonl");
        assertEquals(
                0,
                Main.run(
                        "decode",
                        "--model",
                        policy.toString(),
                        "--prompts",
                        prompts.toString(),
                        "--out",
                        out.toString(),
                        "--max-new-tokens",
                        "6"));
        assertEquals(3, Outputs.readJsonl(out).rowCount());
    }

    @Test
    void anAdapterDecodesOnItsBaseAndChangesTheOutputs(@TempDir Path dir) throws Exception {
        Path adapter = dir.resolve("policy");
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories())) {
            var config = new LoraAdapter.Config(4, 8, 0.0, Set.copyOf(LoraAdapter.ALL_TARGETS));
            LoraAdapter a = LoraAdapter.create(lm.config(), config, lm.manager(), 7);
            for (var e : a.parameters().entrySet()) { // a trained adapter: B no longer zero
                if (!e.getKey().endsWith("lora_B.weight")) continue;
                float[] v = new float[(int) e.getValue().size()];
                for (int i = 0; i < v.length; i++)
                    v[i] = (float) Math.sin(i * 0.7 + e.getKey().length());
                e.getValue().set(v);
            }
            a.save(adapter, lm.folder().toAbsolutePath().toString()); // as PpoTrainer.savePolicy does
            a.close();
        }
        Path prompts = prompts(dir);
        Path base = dir.resolve("base.jsonl"), tuned = dir.resolve("tuned.jsonl"), given = dir.resolve("given.jsonl");
        String[] greedy = {"--prompts", prompts.toString(), "--max-new-tokens", "8", "--temperature", "0"};
        String tiny = Fixtures.tinyStories().toString();
        assertEquals(0, Main.run(concat("decode", greedy, "--model", tiny, "--out", base.toString())));
        assertEquals(0, Main.run(concat("decode", greedy, "--model", adapter.toString(), "--out", tuned.toString())));
        assertEquals(
                0,
                Main.run(concat(
                        "decode", greedy, "--model", adapter.toString(), "--base", tiny, "--out", given.toString())));
        List<String> b = outputs(base), t = outputs(tuned);
        assertNotEquals(b, t, "the adapter is applied");
        assertEquals(t, outputs(given), "--base names the same base");
        assertEquals(
                List.of("policy"),
                Outputs.readJsonl(tuned).stringColumn(Outputs.MODEL).unique().asList());

        // An adapter whose base is unknown or gone: one clear error naming the file and the way out.
        Path config = adapter.resolve("adapter_config.json");
        String moved = Files.readString(config).replace(Fixtures.tinyStories().toAbsolutePath() + "", "/no/such/base");
        Files.writeString(config, moved);
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        java.io.PrintStream stderr = System.err;
        int code;
        System.setErr(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            code = Main.run(concat("decode", greedy, "--model", adapter.toString(), "--out", "" + dir.resolve("x")));
        } finally {
            System.setErr(stderr);
        }
        assertEquals(1, code, err.toString());
        assertTrue(
                err.toString().contains("adapter_config.json")
                        && err.toString().contains("/no/such/base")
                        && err.toString().contains("--base"),
                err.toString());
    }

    private static Path prompts(Path dir) throws Exception {
        Path prompts = dir.resolve("prompts.jsonl");
        Files.writeString(prompts, """
                {"id": 3, "prompt": "\\n\\nHuman: Tell me about a cat.\\n\\nAssistant:"}
                {"id": 5, "prompt": "\\n\\nHuman: What is a ball?\\n\\nAssistant:"}
                {"id": 8, "prompt": "\\n\\nHuman: Hi there\\n\\nAssistant:"}
                """);
        return prompts;
    }

    private static List<String> outputs(Path file) {
        return Outputs.readJsonl(file)
                .sortAscendingOn(Outputs.ID)
                .stringColumn(Outputs.OUTPUT)
                .asList();
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    /** A command's name before its arguments, as {@code rlcd} takes them. */
    private static String[] concat(String command, String[] a, String... b) {
        return concat(concat(new String[] {command}, a), b);
    }
}
