package rlcd4j.train;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.Fixtures;
import rlcd4j.engine.CausalLM;
import tech.tablesaw.api.Table;

/**
 * fp16 training on CPU (libtorch computes fp16 there too): the loss scaler, skipped steps, fp32 master weights, and
 * exact resume with the scaler's state. The first tests drive {@link TrainLoop} with one fp16 tensor and a loss whose
 * gradient is known; the last trains the tiny TinyStories model in fp16 through {@link SftTrainer}.
 */
class MixedPrecisionTest {
    /** fp16's smallest subnormal is 2^-24 = 6e-8: a gradient of 1e-8 rounds to 0 unless the loss is scaled. */
    static final float TINY = 1e-8f;

    /**
     * A task whose loss is {@code sum(fp32(w) * c) * factor}, reduced in fp32 as the trainers' losses are: the gradient
     * of w is exactly {@code c * factor}, held in fp16 (w's type) on its way back, as PPO's 1/tokens factor is.
     */
    static TrainLoop.Task linear(NDArray w, float[] c, float factor) {
        return (step, ctx) -> {
            double[] loss = {0};
            ctx.accumulate(1, 1, (from, to, pass) -> {
                NDManager m = w.getManager();
                NDArray coef = m.create(c), f = m.full(new Shape(1), factor, DataType.FLOAT32);
                loss[0] = pass.backward(
                        rlcd4j.engine.Precision.toFloat32(w).mul(coef).sum().mul(f));
            });
            Map<String, Double> row = new LinkedHashMap<>();
            row.put("loss", loss[0]);
            return row;
        };
    }

    static TrainLoop.Task linear(NDArray w, float[] c) {
        return linear(w, c, 1f);
    }

    static TrainLoop.Settings settings(long steps, Path out, int saveEvery) {
        return new TrainLoop.Settings(
                "fp16-test",
                new com.google.gson.JsonObject(),
                "data",
                7,
                steps,
                new LrSchedule(LrSchedule.Kind.CONSTANT, 1e-3, 0, steps),
                0,
                out,
                saveEvery,
                0,
                0);
    }

    static NDArray fp16Param(NDManager m, float... values) {
        NDArray w = m.create(values).toType(DataType.FLOAT16, false);
        w.setRequiresGradient(true);
        return w;
    }

    @Test
    void withoutScalingATinyGradientUnderflowsWithTheScalerItSurvives() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] start = {0.5f, -0.25f};
            // No scaling: d(loss)/dw = 1e-8 is 0 in fp16, so AdamW sees a zero gradient and w does not move.
            NDArray w0 = fp16Param(m, start);
            try (AdamW opt = new AdamW(AdamW.Config.defaults(), m)) {
                Table log = new TrainLoop(settings(1, null, 1), Map.of("w", w0), opt, LossScaler.disabled(), m)
                        .run(linear(w0, new float[] {1, 1}, TINY));
                assertEquals(0.0, log.doubleColumn("grad_norm").get(0), "the gradient underflowed to zero");
                assertArrayEquals(start, w0.toType(DataType.FLOAT32, false).toFloatArray());
            }
            // With the scaler (2^16): the fp16 gradient is 6.6e-4, unscaled in fp32 back to 1e-8, and w moves.
            NDArray w1 = fp16Param(m, start);
            try (AdamW opt = new AdamW(AdamW.Config.defaults(), m)) {
                Table log = new TrainLoop(settings(1, null, 1), Map.of("w", w1), opt, LossScaler.dynamic(), m)
                        .run(linear(w1, new float[] {1, 1}, TINY));
                assertEquals(
                        Math.sqrt(2) * TINY,
                        log.doubleColumn("grad_norm").get(0),
                        1e-10,
                        "the gradient survived, unscaled");
                assertEquals(0.0, log.doubleColumn("skipped").get(0));
                // AdamW's first step is lr * g / (|g| + eps) = 1e-3 * 1e-8 / 2e-8 = 5e-4, rounded to fp16.
                float[] after = w1.toType(DataType.FLOAT32, false).toFloatArray();
                assertEquals(start[0] - 5e-4, after[0], 1.3e-4);
                assertEquals(start[1] - 5e-4, after[1], 1.3e-4);
            }
        }
    }

    @Test
    void anInfGradientSkipsTheStepAndHalvesTheScale() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] start = {0.5f, -0.25f};
            NDArray w = fp16Param(m, start);
            try (AdamW opt = new AdamW(AdamW.Config.defaults(), m)) {
                LossScaler scaler = LossScaler.dynamic();
                // 4 * 2^16 = 262144 overflows fp16 (max 65504): the gradient is Inf.
                Table log = new TrainLoop(settings(1, null, 1), Map.of("w", w), opt, scaler, m)
                        .run(linear(w, new float[] {4, 4}));
                assertEquals(1.0, log.doubleColumn("skipped").get(0));
                assertTrue(log.doubleColumn("grad_norm").isMissing(0), "no norm for a skipped step");
                assertEquals(32768.0, scaler.scale());
                assertEquals(1, scaler.skippedSteps());
                assertEquals(0, opt.stepCount(), "AdamW did not step");
                assertArrayEquals(start, w.toType(DataType.FLOAT32, false).toFloatArray());
                assertEquals(
                        0f,
                        w.getGradient()
                                .toType(DataType.FLOAT32, false)
                                .abs()
                                .sum()
                                .getFloat(),
                        "gradients zeroed");
            }
        }
    }

    @Test
    void inFp32AnInfGradientStopsTrainingWithAClearError() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = m.create(new float[] {0.5f});
            w.setRequiresGradient(true);
            try (AdamW opt = new AdamW(AdamW.Config.defaults(), m)) {
                TrainLoop.Task inf = (step, ctx) -> {
                    ctx.accumulate(
                            1,
                            1,
                            (f, t, pass) -> pass.backward(w.mul(m.create(new float[] {Float.POSITIVE_INFINITY}))
                                    .sum()));
                    return Map.of();
                };
                var e = assertThrows(
                        rlcd4j.util.RlcdException.class,
                        () -> new TrainLoop(settings(1, null, 1), Map.of("w", w), opt, LossScaler.disabled(), m)
                                .run(inf));
                assertTrue(e.getMessage().contains("became"), e.getMessage());
                assertEquals(0f, w.getGradient().abs().sum().getFloat(), "a failed step leaves no gradient behind");
            }
        }
    }

    @Test
    void theScaleGrowsAfterCleanStepsAndResumeRepeatsTheRunBitForBit(@TempDir Path dir) {
        // 6 steps; the gradient coefficient of step 2 overflows at the starting scale (a skipped step, scale halved),
        // and the scale doubles after every 2 clean steps. Killed after step 3 and resumed from checkpoint-2.
        float[][] coefs = {{0.3f, -0.2f}, {0.1f, 0.4f}, {2f, 2f}, {-0.5f, 0.2f}, {0.25f, 0.25f}, {-0.1f, 0.3f}};
        float[] start = {0.5f, -0.25f};
        TrainLoop.Task[] task = new TrainLoop.Task[1];
        double[] scales = new double[2];
        float[][] weights = new float[2][];
        float[][] masters = new float[2][];
        for (int run = 0; run < 2; run++) {
            try (NDManager m = NDManager.newBaseManager()) {
                Path out = dir.resolve("run" + run);
                NDArray w = fp16Param(m, start);
                Map<String, NDArray> params = Map.of("w", w);
                TrainLoop.Task byStep =
                        (step, ctx) -> linear(w, coefs[(int) step]).step(step, ctx);
                task[0] = byStep;
                if (run == 1) {
                    try (AdamW opt = new AdamW(AdamW.Config.defaults(), m)) {
                        new TrainLoop(settings(6, out, 2), params, opt, LossScaler.dynamic(65536, 2), m)
                                .runUntil(byStep, 3);
                    }
                    Checkpoint.assign(w, m.create(new float[] {9f, 9f})); // the killed process's weights are gone
                }
                try (AdamW opt = new AdamW(AdamW.Config.defaults(), m)) {
                    LossScaler scaler = LossScaler.dynamic(65536, 2);
                    Table log = new TrainLoop(settings(6, out, 2), params, opt, scaler, m).run(byStep);
                    assertEquals(6, log.rowCount());
                    assertEquals(1.0, log.doubleColumn("skipped").get(2), "step 3 overflowed");
                    scales[run] = scaler.scale();
                    weights[run] = w.toType(DataType.FLOAT32, false).toFloatArray();
                    masters[run] = opt.master("w").toFloatArray();
                }
            }
        }
        // steps 1, 2 clean (65536 -> 131072 after step 2), step 3 skipped (-> 65536), 4, 5 clean (-> 131072), 6 clean.
        assertEquals(131072.0, scales[0]);
        assertEquals(scales[0], scales[1]);
        assertArrayEquals(weights[0], weights[1], 0f);
        assertArrayEquals(masters[0], masters[1], 0f);
    }

    @Test
    void fp16FullFineTuningKeepsFp32MasterWeightsSoUpdatesBelowFp16SpacingAccumulate() {
        // Near |w| = 0.02, fp16's spacing is 2^-16 = 1.5e-5; AdamW at lr 1e-6 moves w by about 1e-6 a step, which
        // rounds away in fp16 every time. The fp32 master accumulates the steps and the fp16 weight follows it.
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = fp16Param(m, 0.02f);
            try (AdamW opt = new AdamW(AdamW.Config.defaults(), m)) {
                Map<String, NDArray> params = Map.of("w", w);
                TrainLoop.Settings s = new TrainLoop.Settings(
                        "fp16-test",
                        new com.google.gson.JsonObject(),
                        "data",
                        7,
                        40,
                        new LrSchedule(LrSchedule.Kind.CONSTANT, 1e-6, 0, 40),
                        0,
                        null,
                        1,
                        0,
                        0);
                new TrainLoop(s, params, opt, LossScaler.dynamic(), m).run(linear(w, new float[] {0.1f}));
                float master = opt.master("w").getFloat();
                float weight = w.toType(DataType.FLOAT32, false).getFloat();
                float start = m.create(new float[] {0.02f})
                        .toType(DataType.FLOAT16, false)
                        .toType(DataType.FLOAT32, false)
                        .getFloat();
                assertEquals(start - 40e-6, master, 2e-6, "the master took every update");
                assertTrue(weight < start, "the fp16 weight moved: " + weight + " vs " + start);
                assertEquals(master, weight, 1.6e-5f, "the fp16 weight is the master rounded");
            }
        }
    }

    @Test
    void theTinyModelTrainsInFp16WithTheScalerAndResumesExactly(@TempDir Path dir) throws Exception {
        Table data = SftTrainerTest.data(16);
        var cfg = SftTrainerTest.fast()
                .withEpochs(1)
                .withBatchSize(2)
                .withMicroBatchSize(2)
                .withWarmupRatio(0)
                .withSaveEvery(4);
        CausalLM.Options fp16 = CausalLM.Options.defaults().withDtype(DataType.FLOAT16);
        Path whole = dir.resolve("whole"), resumed = dir.resolve("resumed");
        float[] uninterrupted;
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories().toString(), fp16)) {
            assertEquals(DataType.FLOAT16, lm.model().dtype());
            Table log = new SftTrainer(cfg).train(lm, data, whole).log();
            System.out.println(log.print());
            assertEquals(8, log.rowCount());
            assertTrue(log.columnNames().contains("loss_scale"), "fp16 runs log the loss scale: " + log.columnNames());
            double skipped = log.doubleColumn("skipped").sum();
            assertTrue(skipped < 8, "some steps updated: " + skipped + " skipped");
            // The first step's examples again after training: fp16 training lowered their loss.
            double before = log.doubleColumn("loss").get(0);
            double after = sftLoss(lm, data, Runs.order(16, cfg.training().seed(), 0));
            System.out.println("fp16 sft loss on the first batch " + before + " -> " + after + "; skipped " + skipped);
            assertTrue(Double.isFinite(after) && after < before, "the loss falls in fp16: " + before + " -> " + after);
            uninterrupted = PreferenceModelTrainerTest.concat(Parameters.full(lm.model()));
        }
        // A run killed after step 5 left checkpoint-4 (weights, AdamW with fp32 masters, scaler) and 5 log rows.
        java.nio.file.Files.createDirectories(resumed);
        copyTree(whole.resolve("checkpoint-4"), resumed.resolve("checkpoint-4"));
        List<String> rows =
                java.nio.file.Files.readAllLines(whole.resolve("log.jsonl")).subList(0, 5);
        java.nio.file.Files.write(resumed.resolve("log.jsonl"), rows);
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories().toString(), fp16)) {
            Table log = new SftTrainer(cfg).train(lm, data, resumed).log();
            assertEquals(8, log.rowCount());
            assertArrayEquals(
                    uninterrupted,
                    PreferenceModelTrainerTest.concat(Parameters.full(lm.model())),
                    0f,
                    "the resumed fp16 run ends with the uninterrupted run's weights, bit for bit");
        }
    }

    @Test
    void aLoraAdapterTrainsOnAnFp16Model() {
        // The adapter's matrices are held in fp16 (fp32 masters in AdamW): the model's fp32-to-fp16 cast of them,
        // DJL's non-differentiable toType, would otherwise cut their gradient, and B would stay at its initial 0.
        // 16 steps: the first few are skipped while the scale backs off from 2^16, as GradScaler's are
        var cfg = SftTrainerTest.fast()
                .withEpochs(2)
                .withBatchSize(2)
                .withMicroBatchSize(2)
                .withWarmupRatio(0)
                .withLora(PreferenceModelTrainer.lora(4, 8, 0, "q_proj,v_proj"));
        try (CausalLM lm = CausalLM.load(
                Fixtures.tinyStories().toString(), CausalLM.Options.defaults().withDtype(DataType.FLOAT16))) {
            SftTrainer.Result r = new SftTrainer(cfg).train(lm, SftTrainerTest.data(16), null);
            float moved = 0;
            for (var e : r.adapter().parameters().entrySet()) {
                if (e.getKey().contains("lora_B"))
                    moved += e.getValue()
                            .toType(DataType.FLOAT32, false)
                            .abs()
                            .sum()
                            .getFloat();
            }
            assertTrue(
                    moved > 0,
                    "LoRA's B matrices moved from 0 in fp16 (skipped steps: "
                            + r.log().doubleColumn("skipped").sum() + " of "
                            + r.log().rowCount() + ")");
            r.adapter().close();
        }
    }

    /** The SFT loss of the first two examples in {@code order}, without gradients. */
    static double sftLoss(CausalLM lm, Table data, int[] order) {
        List<String> ps = new java.util.ArrayList<>(), rs = new java.util.ArrayList<>();
        for (int i = 0; i < 2; i++) {
            String[] t = SftTrainer.text(
                    data.stringColumn("prompt").get(order[i]),
                    data.stringColumn("response").get(order[i]));
            ps.add(t[0]);
            rs.add(t[1]);
        }
        try (NDManager m = lm.manager().newSubManager()) {
            SequenceBatch b = SequenceBatch.of(m, lm.tokenizer(), ps, rs, 64, true);
            return SftTrainer.loss(b.tokenLogprobs(lm.model()), b.responseMask())
                    .mean()
                    .getFloat();
        }
    }

    static void copyTree(Path from, Path to) throws java.io.IOException {
        try (var s = java.nio.file.Files.walk(from)) {
            for (Path p : s.toList()) {
                Path q = to.resolve(from.relativize(p).toString());
                if (java.nio.file.Files.isDirectory(p)) java.nio.file.Files.createDirectories(q);
                else java.nio.file.Files.copy(p, q);
            }
        }
    }
}
