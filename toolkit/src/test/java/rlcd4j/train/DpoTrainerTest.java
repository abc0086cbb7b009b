package rlcd4j.train;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.Fixtures;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.Scored;
import rlcd4j.engine.llama.LoraAdapter;
import rlcd4j.progress.Progress;
import rlcd4j.progress.ProgressSink;
import tech.tablesaw.api.Table;

class DpoTrainerTest {

    static DpoTrainer.Config fast() {
        return DpoTrainer.Config.defaults()
                .withLearningRate(5e-3)
                .withEpochs(3)
                .withBatchSize(8)
                .withMicroBatchSize(4)
                .withMaxLength(64)
                .withLora(PreferenceModelTrainer.lora(8, 16, 0, "all"));
    }

    /** Mean over pairs of [log pi(chosen) - log pi(rejected)] under the model's current adapter, SFT text format. */
    static double logRatio(CausalLM lm, Table pairs) {
        double s = 0;
        for (int i = 0; i < pairs.rowCount(); i++) {
            String[] c = SftTrainer.text(
                    pairs.stringColumn("prompt").get(i),
                    pairs.stringColumn("chosen").get(i));
            String[] r = SftTrainer.text(
                    pairs.stringColumn("prompt").get(i),
                    pairs.stringColumn("rejected").get(i));
            List<Scored> sc = lm.score(List.of(c[0], r[0]), List.of(c[1], r[1]));
            s += sc.get(0).sum() - sc.get(1).sum();
        }
        return s / pairs.rowCount();
    }

    @Test
    void dpoWithLoraRaisesTheChosenMinusRejectedMargin(@TempDir Path out) {
        Table pairs = TinyData.storyPairs(16, 21);
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories())) {
            double before = logRatio(lm, pairs);
            DpoTrainer.Result r = new DpoTrainer(fast()).train(lm, pairs, out);
            Table log = r.log();
            System.out.println(log.print());
            assertEquals(6, log.rowCount());
            assertEquals(0.0, log.doubleColumn("reward_margin").get(0), 1e-3, "the policy starts as the reference");
            assertEquals(Math.log(2), log.doubleColumn("loss").get(0), 1e-3);
            assertTrue(
                    log.doubleColumn("reward_margin").get(5) > 0.5,
                    "margin grew: " + log.doubleColumn("reward_margin").get(5));
            assertTrue(log.columnNames()
                    .containsAll(List.of(
                            "reward_chosen", "reward_rejected", "reward_accuracy", "logp_chosen", "logp_rejected")));
            double after = logRatio(lm, pairs); // adapter active
            lm.model().setAdapter(null);
            assertEquals(before, logRatio(lm, pairs), 1e-3, "the reference (adapter off) is the untouched base");
            System.out.println("DPO log-ratio chosen - rejected: " + before + " -> " + after);
            assertTrue(after - before > 5, before + " -> " + after);
            r.adapter().close();
        }
    }

    @Test
    void anAdapterTheModelCarriesIsTheReferenceAndTheStartOfThePolicy() {
        // The rule PPO follows: the model as passed in (adapter included) is the reference, and the policy trains a
        // copy of that adapter. Before the fix DPO dropped the adapter: reference and policy were the bare base.
        Table pairs = TinyData.storyPairs(8, 23);
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories());
                LoraAdapter sft = LoraAdapter.create(
                        lm.config(), PreferenceModelTrainer.lora(4, 8, 0, "q_proj,v_proj"), lm.manager(), 5)) {
            sft.parameters().forEach((k, a) -> {
                if (k.contains("lora_B"))
                    Checkpoint.assign(a, lm.manager().randomNormal(0, 0.3f, a.getShape(), a.getDataType()));
            });
            lm.model().setAdapter(sft);
            double withSft = logRatio(lm, pairs);
            float[] start = PreferenceModelTrainerTest.concat(sft.parameters());
            DpoTrainer.Result r =
                    new DpoTrainer(fast().withEpochs(1).withLora(null).withWarmupRatio(0)).train(lm, pairs, null);
            assertNotNull(r.adapter(), "the carried adapter is trained (as a copy), not the whole model");
            assertNotSame(sft, r.adapter());
            assertEquals(0.0, r.log().doubleColumn("reward_margin").get(0), 1e-3, "the policy starts as the reference");
            float[] trained = PreferenceModelTrainerTest.concat(r.adapter().parameters());
            assertEquals(start.length, trained.length);
            double moved = 0, fromZero = 0;
            for (int i = 0; i < start.length; i++) {
                moved += Math.abs(trained[i] - start[i]);
                fromZero += Math.abs(start[i]);
            }
            assertTrue(
                    moved > 0 && moved < 0.5 * fromZero,
                    "the policy continued from the carried adapter: moved " + moved);
            assertArrayEquals(
                    start,
                    PreferenceModelTrainerTest.concat(sft.parameters()),
                    0f,
                    "the reference adapter is untouched");
            lm.model().setAdapter(sft);
            assertEquals(withSft, logRatio(lm, pairs), 1e-6);
            r.adapter().close();
        }
    }

    @Test
    void ipoWithFullFineTuningRaisesTheMarginToo() {
        Table pairs = TinyData.storyPairs(16, 22);
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories())) {
            double before = logRatio(lm, pairs);
            var cfg = fast().withLora(null)
                    .withLearningRate(1e-3)
                    .withLoss(DpoTrainer.Loss.IPO)
                    .withBeta(0.5);
            DpoTrainer.Result r = new DpoTrainer(cfg).train(lm, pairs, null);
            assertEquals(1.0, r.log().doubleColumn("loss").get(0), 1e-3, "IPO at h = 0: (0 - 1/(2 * 0.5))^2 = 1");
            double after = logRatio(lm, pairs);
            System.out.println("IPO log-ratio chosen - rejected: " + before + " -> " + after + "; last "
                    + r.log().last(1).print());
            assertTrue(after > before + 1, before + " -> " + after);
            assertTrue(
                    r.log().doubleColumn("loss").get(5) < 0.6,
                    "IPO loss 1 -> " + r.log().doubleColumn("loss").get(5));
        }
    }

    @Test
    void crashedRunResumesToTheSameAdapter(@TempDir Path a, @TempDir Path b) {
        Table pairs = TinyData.storyPairs(12, 23);
        var cfg = fast().withBatchSize(4)
                .withEpochs(2)
                .withSaveEvery(2)
                .withLora(PreferenceModelTrainer.lora(4, 8, 0.3, "q_proj,o_proj,up_proj"));
        float[] straight;
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories())) {
            var r = new DpoTrainer(cfg).train(lm, pairs, a);
            straight = PreferenceModelTrainerTest.concat(r.adapter().parameters());
            r.adapter().close();
        }
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories())) {
            // dies in step 5, after checkpoint-4
            ProgressSink old = Progress.setSink(TinyData.crashAfter(DpoTrainer.NAME, 10));
            try {
                assertThrows(IllegalStateException.class, () -> new DpoTrainer(cfg).train(lm, pairs, b));
            } finally {
                Progress.setSink(old);
            }
            lm.model().setAdapter(null);
            assertEquals("checkpoint-4", Checkpoint.latest(b).getFileName().toString());
            var r = new DpoTrainer(cfg).train(lm, pairs, b);
            assertArrayEquals(
                    straight, PreferenceModelTrainerTest.concat(r.adapter().parameters()), 0f);
            assertEquals(6, r.log().rowCount());
            r.adapter().close();
        }
    }
}
