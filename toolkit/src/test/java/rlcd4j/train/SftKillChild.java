package rlcd4j.train;

import java.nio.file.Path;
import rlcd4j.Fixtures;
import rlcd4j.engine.CausalLM;
import rlcd4j.progress.Progress;
import rlcd4j.progress.ProgressSink;
import tech.tablesaw.api.Table;

/** The JVM that {@link SftTrainerTest} kills: an SFT run slowed down by a progress sink, so the kill lands mid-run. */
public final class SftKillChild {
    static SftTrainer.Config config() {
        return SftTrainerTest.fast()
                .withEpochs(2)
                .withBatchSize(4)
                .withMicroBatchSize(2)
                .withSaveEvery(2)
                .withLora(PreferenceModelTrainer.lora(4, 8, 0.2, "q_proj,v_proj,gate_proj"));
    }

    static Table data() {
        return SftTrainerTest.data(16);
    }

    public static void main(String[] args) {
        Progress.setSink(new ProgressSink() {
            public void started(Progress p) {}

            public void updated(Progress p) {
                try {
                    Thread.sleep(150);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }

            public void finished(Progress p) {}
        });
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories())) {
            new SftTrainer(config()).train(lm, data(), Path.of(args[0]));
        }
    }
}
