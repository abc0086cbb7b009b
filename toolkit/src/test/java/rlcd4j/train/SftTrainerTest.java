package rlcd4j.train;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.Fixtures;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.llama.LoraAdapter;
import tech.tablesaw.api.Table;

class SftTrainerTest {
    static final List<String> PROBE = List.of("Once upon a time, Tom had a dog.", "Lily and the cat");

    static SftTrainer.Config fast() {
        return SftTrainer.Config.defaults()
                .withLearningRate(1e-3)
                .withBatchSize(8)
                .withMicroBatchSize(4)
                .withMaxLength(64);
    }

    static Table data(int n) {
        Table t = TinyData.storyPairs(n, 11);
        return Table.create(
                "sft", t.stringColumn("prompt"), t.stringColumn("chosen").copy().setName("response"));
    }

    @Test
    void fullFineTuningLowersTheLossAndSavesAHuggingFaceFolder(@TempDir Path out) {
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories())) {
            SftTrainer.Result r = new SftTrainer(fast()).train(lm, data(32), out);
            Table log = r.log();
            assertEquals(12, log.rowCount(), "3 epochs x 32/8 steps");
            double first = log.doubleColumn("loss").get(0),
                    last = log.doubleColumn("loss").get(11);
            System.out.println("sft loss " + first + " -> " + last);
            assertTrue(last < 0.8 * first, first + " -> " + last);
            assertNull(r.adapter());
            assertTrue(Files.exists(out.resolve("config.json")) && Files.exists(out.resolve("model.safetensors")));
            try (CausalLM again = CausalLM.load(out)) {
                assertArrayEquals(lm.nextTokenLogits(PROBE)[0], again.nextTokenLogits(PROBE)[0], 1e-5f);
            }
        }
    }

    @Test
    void microBatchSizeChangesMemoryNotTheResult() {
        float[][] w = new float[2][];
        int[] micro = {1, 8};
        for (int k = 0; k < 2; k++) {
            try (CausalLM lm = CausalLM.load(Fixtures.tinyStories())) {
                var cfg = fast().withEpochs(1)
                        .withMicroBatchSize(micro[k])
                        .withLora(PreferenceModelTrainer.lora(4, 8, 0, "q_proj,v_proj"));
                SftTrainer.Result r = new SftTrainer(cfg).train(lm, data(16), null);
                w[k] = PreferenceModelTrainerTest.concat(r.adapter().parameters());
                r.adapter().close();
            }
        }
        assertArrayEquals(w[0], w[1], 2e-5f);
    }

    @Test
    void loraAdapterSavedAndLoadedReproducesLogits(@TempDir Path out) {
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories())) {
            var cfg = fast().withEpochs(1).withLora(PreferenceModelTrainer.lora(4, 8, 0.1, "all"));
            SftTrainer.Result r = new SftTrainer(cfg).train(lm, data(16), out);
            float[] trained = lm.nextTokenLogits(PROBE)[1];
            lm.model().setAdapter(null);
            float[] bare = lm.nextTokenLogits(PROBE)[1];
            assertFalse(java.util.Arrays.equals(trained, bare), "the adapter changes the logits");
            assertTrue(Files.exists(out.resolve("adapter_model.safetensors"))
                    && Files.exists(out.resolve("adapter_config.json")));
            try (CausalLM fresh = CausalLM.load(Fixtures.tinyStories());
                    LoraAdapter loaded = LoraAdapter.load(out, fresh.config(), fresh.manager())) {
                fresh.model().setAdapter(loaded);
                assertArrayEquals(trained, fresh.nextTokenLogits(PROBE)[1], 1e-6f);
            }
            r.adapter().close();
        }
    }

    /** A separate JVM trains and is killed (SIGKILL) after its second checkpoint; this JVM resumes it. */
    @Test
    void runKilledWithSigkillResumesToTheSameWeights(@TempDir Path straight, @TempDir Path killed) throws Exception {
        float[] expected;
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories())) {
            SftTrainer.Result r = new SftTrainer(SftKillChild.config()).train(lm, SftKillChild.data(), straight);
            expected = PreferenceModelTrainerTest.concat(r.adapter().parameters());
            r.adapter().close();
        }
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g", "-Dai.djl.offline=true"));
        for (String prop : List.of(
                "ai.djl.pytorch.num_threads",
                "ai.djl.pytorch.num_interop_threads",
                "rlcd4j.shared",
                "rlcd4j.mklIntelPath")) { // the same MKL path as this JVM, or resuming is not bit-identical
            if (System.getProperty(prop) != null) cmd.add("-D" + prop + "=" + System.getProperty(prop));
        }
        cmd.addAll(
                List.of("-cp", System.getProperty("java.class.path"), SftKillChild.class.getName(), killed.toString()));
        Process child = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(killed.resolve("child.txt").toFile())
                .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.exists(killed.resolve("checkpoint-4")) && child.isAlive() && System.nanoTime() < deadline)
            Thread.sleep(50);
        child.destroyForcibly().waitFor();
        Path last = Checkpoint.latest(killed);
        assertNotNull(
                last, "the child checkpointed before it was killed: " + Files.readString(killed.resolve("child.txt")));
        long at = Long.parseLong(last.getFileName().toString().substring(11));
        assertTrue(at >= 4 && at < 8, "killed mid-run, latest " + last);
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories())) {
            SftTrainer.Result r = new SftTrainer(SftKillChild.config()).train(lm, SftKillChild.data(), killed);
            assertArrayEquals(
                    expected,
                    PreferenceModelTrainerTest.concat(r.adapter().parameters()),
                    0f,
                    "bit-identical after resuming from " + last);
            assertEquals(8, r.log().rowCount());
            r.adapter().close();
        }
    }
}
