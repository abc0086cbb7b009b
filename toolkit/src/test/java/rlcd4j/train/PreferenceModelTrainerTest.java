package rlcd4j.train;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.Fixtures;
import rlcd4j.data.HhRlhf;
import rlcd4j.engine.CausalLM;
import rlcd4j.progress.Progress;
import rlcd4j.progress.ProgressSink;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

class PreferenceModelTrainerTest {

    /** Settings for a 656K-parameter model learning in a few dozen steps. */
    static PreferenceModelTrainer.Config fast() {
        return PreferenceModelTrainer.Config.defaults()
                .withLearningRate(2e-3)
                .withEpochs(3)
                .withBatchSize(16)
                .withMicroBatchSize(8)
                .withEvalSize(60)
                .withEvalEvery(0)
                .withMaxLength(64);
    }

    @Test
    void learnsAMarkerWordPreferenceToAbove90PercentHeldOut(@TempDir Path out) {
        Table pairs = TinyData.markerPairs(160, 1);
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories())) {
            ProgressSink old = Progress.setSink(ProgressSink.SILENT);
            PreferenceModelTrainer.Result r;
            try {
                r = new PreferenceModelTrainer(
                                fast().withEpochs(2).withBatchSize(8).withEvalSize(40))
                        .train(lm, pairs, out);
            } finally {
                Progress.setSink(old);
            }
            try (PreferenceModel pm = r.model()) {
                double acc = r.eval().doubleColumn("accuracy").get(0);
                System.out.println("marker preference: held-out " + r.eval().print() + "\nlast log row "
                        + r.log().last(1).print());
                assertTrue(acc > 0.9, "held-out accuracy " + acc);
                assertEquals(40, r.eval().intColumn("pairs").get(0));
                assertTrue(r.eval().doubleColumn("margin").get(0) > 0);
                assertEquals(30, r.log().rowCount(), "2 epochs x ceil(120 / 8) steps");
                List<String> cols = r.log().columnNames();
                assertTrue(
                        cols.containsAll(List.of(
                                "step",
                                "epoch",
                                "lr",
                                "loss",
                                "accuracy",
                                "margin",
                                "grad_norm",
                                "eval_accuracy",
                                "eval_margin")),
                        cols.toString());
                // The saved model scores exactly as the trained one (full fine-tuning: backbone/ is a HF folder).
                assertTrue(Files.exists(out.resolve("backbone/model.safetensors"))
                        && Files.exists(out.resolve("backbone/config.json")));
                double[] before = pm.score(List.of("Human: Hi\n\nAssistant:"), List.of("The dog was happy."), 1);
                try (PreferenceModel again = PreferenceModel.load(out, null)) {
                    double[] after = again.score(List.of("Human: Hi\n\nAssistant:"), List.of("The dog was happy."), 1);
                    assertEquals(before[0], after[0], 1e-5);
                    again.backbone().close();
                }
            }
        }
    }

    @Test
    void loraAdapterSavedAndLoadedReproducesScores(@TempDir Path out) {
        Table pairs = TinyData.markerPairs(64, 2);
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories())) {
            var cfg = fast().withEpochs(1)
                    .withEvalSize(16)
                    .withLora(PreferenceModelTrainer.lora(4, 8, 0.1, "q_proj,v_proj,down_proj"));
            PreferenceModelTrainer.Result r = new PreferenceModelTrainer(cfg).train(lm, pairs, out);
            List<String> p = List.of("Human: Hi\n\nAssistant:", "Human: Tell me about Tom.\n\nAssistant:");
            List<String> resp = List.of("The cat was sad.", "Tom ran to the park and was happy.");
            double[] trained = r.model().score(p, resp, 2);
            assertTrue(Files.exists(out.resolve("adapter/adapter_model.safetensors"))
                    && Files.exists(out.resolve("adapter/adapter_config.json")));
            JsonObject ac = JsonParser.parseString(readString(out.resolve("adapter/adapter_config.json")))
                    .getAsJsonObject();
            assertEquals(4, ac.get("r").getAsInt());
            assertEquals("LORA", ac.get("peft_type").getAsString());
            r.model().close();
            try (PreferenceModel again = PreferenceModel.load(out, lm)) {
                double[] loaded = again.score(p, resp, 2);
                assertArrayEquals(trained, loaded, 1e-6);
            }
            // the base weights were not trained: the bare model still matches a fresh copy
            lm.model().setAdapter(null);
            try (CausalLM fresh = CausalLM.load(Fixtures.tinyStories())) {
                assertArrayEquals(fresh.nextTokenLogits(p)[1], lm.nextTokenLogits(p)[1], 0f);
            }
        }
    }

    @Test
    void headGradientMatchesFiniteDifferencesThroughTheModel() {
        Table pairs = TinyData.markerPairs(3, 3);
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories());
                PreferenceModel pm =
                        PreferenceModel.create(lm, PreferenceModelTrainer.lora(2, 4, 0, "q_proj"), 64, 5)) {
            Map<String, NDArray> params = pm.trainable();
            NDArray w = params.get("reward_head.weight"), bias = params.get("reward_head.bias");
            NDArray loraB = params.get("base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight");
            // make B non-zero so the adapter changes the rewards
            float[] bv = new float[(int) loraB.size()];
            for (int i = 0; i < bv.length; i++) bv[i] = (float) Math.sin(i) * 0.05f;
            loraB.set(bv);
            double base = loss(pm, lm, pairs, true);
            float[] gw = w.getGradient().toFloatArray(),
                    gb = bias.getGradient().toFloatArray(),
                    gB = loraB.getGradient().toFloatArray();
            assertEquals(0f, gb[0], 1e-7f, "the bias cancels in r_chosen - r_rejected");
            for (int i : new int[] {0, 5, 77}) {
                assertEquals(fd(pm, lm, pairs, w, i, 1e-2f), gw[i], 2e-3 + 0.01 * Math.abs(gw[i]), "head weight " + i);
                assertEquals(fd(pm, lm, pairs, loraB, i, 1e-2f), gB[i], 2e-3 + 0.02 * Math.abs(gB[i]), "lora_B " + i);
            }
            assertTrue(base > 0);
        }
    }

    private static double loss(PreferenceModel pm, CausalLM lm, Table pairs, boolean backward) {
        List<String> ps = new ArrayList<>(), rs = new ArrayList<>();
        for (String col : List.of("chosen", "rejected")) {
            for (int i = 0; i < pairs.rowCount(); i++) {
                String[] t = PreferenceModel.text(
                        pairs.stringColumn("prompt").get(i),
                        pairs.stringColumn(col).get(i));
                ps.add(t[0]);
                rs.add(t[1]);
            }
        }
        int k = pairs.rowCount();
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            SequenceBatch b = SequenceBatch.of(lm.manager(), lm.tokenizer(), ps, rs, 64, false);
            if (!backward) {
                NDArray r = pm.rewards(b);
                return PreferenceModelTrainer.loss(
                                r.get("0:" + k), r.get(k + ":"), lm.manager().create(new float[] {1, 0.7f, 0.2f}))
                        .sum()
                        .getFloat();
            }
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray r = pm.rewards(b);
                NDArray l = PreferenceModelTrainer.loss(
                                r.get("0:" + k), r.get(k + ":"), lm.manager().create(new float[] {1, 0.7f, 0.2f}))
                        .sum();
                gc.backward(l);
                return l.getFloat();
            }
        }
    }

    /** Central difference of the loss in one coordinate (whole-array writes only: indexed writes into a grad leaf crash libtorch). */
    private static double fd(PreferenceModel pm, CausalLM lm, Table pairs, NDArray a, int i, float eps) {
        float[] v = a.toFloatArray();
        float orig = v[i];
        v[i] = orig + eps;
        a.set(v);
        double plus = loss(pm, lm, pairs, false);
        v[i] = orig - eps;
        a.set(v);
        double minus = loss(pm, lm, pairs, false);
        v[i] = orig;
        a.set(v);
        return (plus - minus) / (2 * eps);
    }

    @Test
    void humanAgreementScoresWholeTranscriptsAsThePaper() throws Exception {
        Table hh = readHh(Fixtures.hhHarmlessTest(), 6);
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories());
                PreferenceModel pm = PreferenceModel.create(lm, null, 512, 3)) {
            Table t = PreferenceModelTrainer.humanAgreement(pm, hh);
            assertEquals(List.of("pairs", "accuracy", "mean_prob", "ties"), t.columnNames());
            assertEquals(6, t.intColumn("pairs").get(0));
            // independently: score chosen.strip() + "\n\nHuman:" as one text and compare
            double acc = 0, prob = 0, ties = 0;
            for (int i = 0; i < 6; i++) {
                double rc = reward(pm, lm, hh.stringColumn("chosen").get(i).strip() + "\n\nHuman:");
                double rr = reward(pm, lm, hh.stringColumn("rejected").get(i).strip() + "\n\nHuman:");
                if (rc > rr) acc++;
                if (rc == rr) ties++;
                prob += 1 / (1 + Math.exp(-(rc - rr)));
            }
            assertEquals(acc / 6, t.doubleColumn("accuracy").get(0), 1e-12);
            assertEquals(ties / 6, t.doubleColumn("ties").get(0), 1e-12);
            assertEquals(prob / 6, t.doubleColumn("mean_prob").get(0), 1e-5);
        }
    }

    @Test
    void humanAgreementOnHhRlhfPairsWithTheirPromptColumnScoresEachConversationOnce() {
        // HhRlhf.pairs(), as the demo and the notebooks pass it: chosen/rejected hold the whole conversation, and a
        // prompt column that is its beginning. The paper scores chosen.strip() + '\n\nHuman:' alone.
        Table hh = HhRlhf.read(Fixtures.hhHarmlessTest()).ids(0, 6).pairs();
        assertTrue(hh.containsColumn("prompt"));
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories());
                PreferenceModel pm = PreferenceModel.create(lm, null, 512, 3)) {
            Table t = PreferenceModelTrainer.humanAgreement(pm, hh);
            assertEquals(6, t.intColumn("pairs").get(0));
            double acc = 0, prob = 0, ties = 0;
            for (int i = 0; i < 6; i++) {
                double rc = reward(pm, lm, hh.stringColumn("chosen").get(i).strip() + "\n\nHuman:");
                double rr = reward(pm, lm, hh.stringColumn("rejected").get(i).strip() + "\n\nHuman:");
                if (rc > rr) acc++;
                if (rc == rr) ties++;
                prob += 1 / (1 + Math.exp(-(rc - rr)));
            }
            assertEquals(acc / 6, t.doubleColumn("accuracy").get(0), 1e-12);
            assertEquals(ties / 6, t.doubleColumn("ties").get(0), 1e-12);
            assertEquals(prob / 6, t.doubleColumn("mean_prob").get(0), 1e-6);
        }
    }

    @Test
    void humanAgreementTextsAreWholeConversationsOrTheTrainingFormOfASplitPair() {
        HhRlhf.Row row = HhRlhf.read(Fixtures.hhHarmlessTest()).rows().get(0);
        String prompt = row.prompt();
        // HH-RLHF: the conversation alone, with or without a prompt column.
        List<String> whole =
                List.of(row.chosen().strip() + "\n\nHuman:", row.rejected().strip() + "\n\nHuman:");
        assertEquals(whole, PreferenceModelTrainer.humanAgreementTexts(prompt, row.chosen(), row.rejected()));
        assertEquals(whole, PreferenceModelTrainer.humanAgreementTexts(null, row.chosen(), row.rejected()));
        // ... which is the text training reads for the same prompt and answer.
        String answer = row.chosen().strip().substring(prompt.length());
        assertEquals(whole.get(0), PreferenceModel.input(prompt, answer));
        // A split pair (TRL's prompt / chosen / rejected, answers only): the training form, one space after the prompt.
        assertEquals(
                List.of(prompt + " Yes.\n\nHuman:", prompt + " No.\n\nHuman:"),
                PreferenceModelTrainer.humanAgreementTexts(prompt, " Yes.", "No. "));
    }

    private static double reward(PreferenceModel pm, CausalLM lm, String text) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            long[] ids = lm.tokenizer().encode(text, true);
            if (ids.length > 512) ids = java.util.Arrays.copyOf(ids, 512);
            var b = rlcd4j.engine.Batch.leftPadded(
                    lm.manager(), List.of(ids), lm.tokenizer().padId());
            return pm.rewards(new SequenceBatch(b, lm.manager().zeros(b.ids().getShape()), new boolean[1]))
                    .getFloat(0);
        }
    }

    @Test
    void nonFiniteLossStopsWithStepAndQuantityAndKeepsTheLastCheckpoint(@TempDir Path out) {
        Table pairs = TinyData.markerPairs(40, 4);
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories())) {
            var cfg = fast().withLearningRate(1e30)
                    .withWarmupRatio(0)
                    .withSchedule(LrSchedule.Kind.CONSTANT)
                    .withEvalSize(0)
                    .withBatchSize(4)
                    .withSaveEvery(1);
            RlcdException e =
                    assertThrows(RlcdException.class, () -> new PreferenceModelTrainer(cfg).train(lm, pairs, out));
            System.out.println("non-finite: " + e.getMessage());
            assertTrue(
                    e.getMessage()
                            .matches("train-pm: (loss|gradient norm) became (NaN|Infinity|-Infinity) at step \\d+.*"),
                    e.getMessage());
            long bad = Long.parseLong(e.getMessage().replaceAll(".* at step (\\d+).*", "$1"));
            Path last = Checkpoint.latest(out);
            assertNotNull(last, "step 1 was checkpointed");
            assertEquals("checkpoint-" + (bad - 1), last.getFileName().toString());
            try (NDManager m = NDManager.newBaseManager()) {
                for (NDArray a : rlcd4j.engine.llama.Safetensors.loadAll(m, last.resolve(Checkpoint.TENSORS), null)
                        .values()) {
                    assertTrue(Float.isFinite(a.abs().max().getFloat()), "checkpoint tensors are finite");
                }
            }
        }
    }

    @Test
    void killedRunResumesToTheSameWeights(@TempDir Path a, @TempDir Path b) {
        Table pairs = TinyData.withPChosen(TinyData.markerPairs(32, 5), 0.8); // soft labels (RLAIF-style)
        var cfg = fast().withEpochs(2)
                .withBatchSize(8)
                .withMicroBatchSize(3)
                .withEvalSize(8)
                .withEvalEvery(2)
                .withSaveEvery(2)
                .withLora(PreferenceModelTrainer.lora(4, 8, 0.2, "q_proj,v_proj,up_proj"));
        float[] straight, resumed;
        Table logStraight, logResumed;
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories())) {
            var r = new PreferenceModelTrainer(cfg).train(lm, pairs, a);
            straight = concat(r.model().trainable());
            logStraight = r.log();
            r.model().close();
        }
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories())) {
            // dies in step 4, after checkpoint-2
            ProgressSink old = Progress.setSink(TinyData.crashAfter(PreferenceModelTrainer.NAME, 8));
            try {
                assertThrows(IllegalStateException.class, () -> new PreferenceModelTrainer(cfg).train(lm, pairs, b));
            } finally {
                Progress.setSink(old);
            }
            assertEquals("checkpoint-2", Checkpoint.latest(b).getFileName().toString());
            var r = new PreferenceModelTrainer(cfg).train(lm, pairs, b);
            resumed = concat(r.model().trainable());
            logResumed = r.log();
            r.model().close();
        }
        assertArrayEquals(straight, resumed, 0f, "bit-identical trainable weights");
        assertEquals(logStraight.rowCount(), logResumed.rowCount());
        assertArrayEquals(
                logStraight.doubleColumn("loss").asDoubleArray(),
                logResumed.doubleColumn("loss").asDoubleArray(),
                0.0);
        // a different config in the same folder is refused
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories())) {
            RlcdException e = assertThrows(
                    RlcdException.class,
                    () -> new PreferenceModelTrainer(cfg.withLearningRate(1e-4)).train(lm, pairs, b));
            assertTrue(e.getMessage().contains("another output folder"), e.getMessage());
        }
    }

    static float[] concat(Map<String, NDArray> params) {
        List<Float> all = new ArrayList<>();
        for (NDArray p : params.values()) for (float f : p.toFloatArray()) all.add(f);
        float[] out = new float[all.size()];
        for (int i = 0; i < out.length; i++) out[i] = all.get(i);
        return out;
    }

    /** The first {@code n} rows of an HH-RLHF {@code .jsonl.gz} file: columns chosen, rejected. */
    static Table readHh(Path file, int n) throws Exception {
        List<String> c = new ArrayList<>(), r = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(
                new InputStreamReader(new GZIPInputStream(Files.newInputStream(file)), StandardCharsets.UTF_8))) {
            String line;
            while (c.size() < n && (line = in.readLine()) != null) {
                JsonObject o = JsonParser.parseString(line).getAsJsonObject();
                c.add(o.get("chosen").getAsString());
                r.add(o.get("rejected").getAsString());
            }
        }
        return Table.create("hh", StringColumn.create("chosen", c), StringColumn.create("rejected", r));
    }

    private static String readString(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            throw new RuntimeException(e);
        }
    }
}
