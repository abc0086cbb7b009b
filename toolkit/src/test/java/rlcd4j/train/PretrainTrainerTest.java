package rlcd4j.train;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDArray;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.TinyModels;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.GenerationConfig;
import rlcd4j.progress.Progress;
import rlcd4j.progress.ProgressSink;
import tech.tablesaw.api.Table;

class PretrainTrainerTest {
    static List<String> corpus() {
        List<String> docs = new ArrayList<>();
        String[] names = {"Tom", "Lily", "Sam", "Mia"};
        String[] things = {"ball", "cat", "car", "tree"};
        for (int i = 0; i < 200; i++) docs.add(names[i % 4] + " has a red " + things[(i / 4) % 4] + ".");
        return docs;
    }

    /** A progress sink that "kills" the run (throws) once a pretrain task reaches {@code atStep} steps. */
    static ProgressSink killAt(long atStep) {
        return new ProgressSink() {
            public void started(Progress p) {}

            public void updated(Progress p) {
                if (p.label().equals("pretrain") && p.done() >= atStep) throw new IllegalStateException("killed");
            }

            public void finished(Progress p) {}
        };
    }

    @Test
    void lossFallsAndAKilledRunResumesToTheSameWeights(@TempDir Path dir) {
        PretrainTrainer.Config cfg = PretrainTrainer.Config.defaults()
                .withSteps(80)
                .withBatch(4, 32)
                .withLr(1e-2, 3)
                .withCheckpointEvery(20);
        float[] uninterrupted;
        try (CausalLM lm = TinyModels.random(32, 2, 5)) {
            Table log = PretrainTrainer.train(lm, corpus(), cfg, dir.resolve("a"));
            double first = log.doubleColumn("loss").get(0),
                    last = log.doubleColumn("loss").get(log.rowCount() - 1);
            assertTrue(last < first * 0.3, "loss " + first + " -> " + last);
            uninterrupted = snapshot(lm);
            String text = lm.generate("", GenerationConfig.greedy(8)).text();
            assertTrue(text.contains("has a red"), text);
        }
        Path out = dir.resolve("b");
        ProgressSink old = Progress.setSink(killAt(53)); // checkpoint-40 is on disk, steps 41-52 are lost
        try (CausalLM lm = TinyModels.random(32, 2, 5)) {
            assertThrows(IllegalStateException.class, () -> PretrainTrainer.train(lm, corpus(), cfg, out));
        } finally {
            Progress.setSink(old);
        }
        assertEquals(out.resolve("checkpoint-40"), Checkpoint.latest(out));
        // other initial weights: the checkpoint must restore them all
        try (CausalLM lm = TinyModels.random(32, 2, 99)) {
            Table log = PretrainTrainer.train(lm, corpus(), cfg, out);
            assertArrayEquals(uninterrupted, snapshot(lm), "resumed weights differ from the uninterrupted run");
            assertEquals(
                    80.0,
                    log.doubleColumn("step").max(),
                    "the resumed log continues to the last step (steps count from 1, as in every trainer)");
        }
    }

    static float[] snapshot(CausalLM lm) {
        NDArray w = lm.model().weights().get("model.layers.1.mlp.down_proj.weight");
        return w.toFloatArray();
    }
}
