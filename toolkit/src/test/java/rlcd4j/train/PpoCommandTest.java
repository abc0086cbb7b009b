package rlcd4j.train;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import rlcd4j.Fixtures;
import rlcd4j.cli.PpoCommand;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.llama.LoraAdapter;
import rlcd4j.util.RlcdException;

/** {@code rlcd ppo} end to end on TinyStories-656K with a (fresh) LoRA preference model. */
class PpoCommandTest {
    @Test
    void writesCheckpointLogAndPolicy(@TempDir Path dir) throws Exception {
        Path pm = dir.resolve("pm");
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories());
                PreferenceModel rm = PreferenceModel.create(
                        lm, new LoraAdapter.Config(4, 8, 0.0, Set.of("q_proj", "v_proj")), 128, 1)) {
            rm.save(pm);
        }
        Path prompts = dir.resolve("prompts.jsonl");
        Files.write(
                prompts, List.of("{\"prompt\": \"Once upon a time\"}", "", "{\"instruction\": \"Tom and his dog\"}"));
        Path out = dir.resolve("ppo");
        int code = new CommandLine(new PpoCommand())
                .execute(
                        "--policy",
                        Fixtures.tinyStories().toString(),
                        "--reward-model",
                        pm.toString(),
                        "--prompts",
                        prompts.toString(),
                        "--out",
                        out.toString(),
                        "--steps",
                        "1",
                        "--rollout-batch",
                        "4",
                        "--step-batch",
                        "4",
                        "--micro-batch",
                        "4",
                        "--response-length",
                        "6",
                        "--lora-rank",
                        "4",
                        "--warmup-steps",
                        "0",
                        "--kl",
                        "0.05");
        assertEquals(0, code);
        // One real update: with warmup the first step's rate would be 0 and nothing would train.
        String row = Files.readAllLines(out.resolve("log.csv")).get(1);
        List<String> header =
                List.of(Files.readAllLines(out.resolve("log.csv")).get(0).split(","));
        assertTrue(Double.parseDouble(row.split(",")[header.indexOf("lr")]) > 0, "the step trained at a positive rate");
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories());
                LoraAdapter trained = LoraAdapter.load(out.resolve("policy"), lm.config(), lm.manager())) {
            float moved = 0;
            for (var e : trained.parameters().entrySet()) {
                if (e.getKey().contains("lora_B"))
                    moved += e.getValue().abs().sum().getFloat();
            }
            assertTrue(moved > 0, "LoRA's B matrices start at 0; a real update moves them");
        }
        assertTrue(Files.exists(out.resolve("checkpoint-1").resolve(Checkpoint.STATE)));
        assertTrue(Files.exists(out.resolve("log.csv")));
        assertTrue(Files.exists(out.resolve("policy").resolve("adapter_model.safetensors")));

        Files.writeString(prompts, "{\"prompt\": \"ok\"}\n{\"text\": 3}\n");
        Path bad = prompts;
        RlcdException e = assertThrows(RlcdException.class, () -> invokeRead(bad));
        assertTrue(e.getMessage().contains(":2:"), e.getMessage());
    }

    private static void invokeRead(Path p) throws Exception {
        var m = PpoCommand.class.getDeclaredMethod("readPrompts", Path.class);
        m.setAccessible(true);
        try {
            m.invoke(null, p);
        } catch (java.lang.reflect.InvocationTargetException ite) {
            throw (Exception) ite.getCause();
        }
    }
}
