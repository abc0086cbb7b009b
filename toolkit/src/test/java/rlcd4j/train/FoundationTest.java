package rlcd4j.train;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.Fixtures;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.Scored;

class FoundationTest {

    @Test
    void adamwMatchesHandComputedTorchUpdate() {
        try (NDManager m = NDManager.newBaseManager();
                AdamW opt = new AdamW(AdamW.Config.defaults().withWeightDecay(0.01), m)) {
            NDArray p = m.create(new float[] {1f, 2f});
            p.setRequiresGradient(true);
            double[] c = {0.5, -1.0};
            double[] ref = {1, 2}, mm = {0, 0}, vv = {0, 0};
            double lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.01;
            for (int step = 1; step <= 3; step++) {
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    // loss = sum(c * p^2) / 2, gradient c * p
                    gc.backward(p.square()
                            .mul(m.create(new float[] {(float) c[0], (float) c[1]}))
                            .sum()
                            .div(2f));
                }
                opt.step(Map.of("p", p), lr);
                for (int i = 0; i < 2; i++) {
                    double g = c[i] * ref[i];
                    ref[i] -= lr * wd * ref[i];
                    mm[i] = b1 * mm[i] + (1 - b1) * g;
                    vv[i] = b2 * vv[i] + (1 - b2) * g * g;
                    double mh = mm[i] / (1 - Math.pow(b1, step)), vh = vv[i] / (1 - Math.pow(b2, step));
                    ref[i] -= lr * mh / (Math.sqrt(vh) + eps);
                }
                float[] got = p.toFloatArray();
                assertEquals(ref[0], got[0], 1e-5, "step " + step);
                assertEquals(ref[1], got[1], 1e-5, "step " + step);
                assertEquals(0f, p.getGradient().abs().sum().getFloat(), "gradient zeroed after the step");
            }
        }
    }

    @Test
    void clippedUpdateMatchesTorchClipThenAdamW() {
        // torch: clip_grad_norm_(params, 1.0) scales g in place, then AdamW. Here the clip's coefficient goes into
        // AdamW's step; the update and the zeroed gradients must be the same.
        try (NDManager m = NDManager.newBaseManager();
                AdamW opt = new AdamW(AdamW.Config.defaults(), m)) {
            NDArray a = m.create(new float[] {1f, -2f}), b = m.create(new float[] {3f});
            a.setRequiresGradient(true);
            b.setRequiresGradient(true);
            double[] ref = {1, -2, 3}, mm = new double[3], vv = new double[3];
            double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
            for (int step = 1; step <= 3; step++) {
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    gc.backward(a.square().sum().add(b.square().sum().mul(2f))); // gradients 2a and 4b
                }
                Map<String, NDArray> params = new java.util.LinkedHashMap<>();
                params.put("a", a);
                params.put("b", b);
                Map<String, NDArray> grads = new java.util.LinkedHashMap<>();
                params.forEach((k, p) -> grads.put(k, p.getGradient()));
                double norm = Gradients.globalNorm(grads.values());
                double[] g = {2 * ref[0], 2 * ref[1], 4 * ref[2]};
                double refNorm = Math.sqrt(g[0] * g[0] + g[1] * g[1] + g[2] * g[2]);
                assertEquals(refNorm, norm, 1e-4, "step " + step);
                double coef = Gradients.clipCoefficient(norm, 1.0);
                assertEquals(1.0 / (refNorm + 1e-6), coef, 1e-6);
                opt.step(params, grads, coef, lr);
                for (int i = 0; i < 3; i++) {
                    double gi = g[i] / (refNorm + 1e-6);
                    mm[i] = b1 * mm[i] + (1 - b1) * gi;
                    vv[i] = b2 * vv[i] + (1 - b2) * gi * gi;
                    double mh = mm[i] / (1 - Math.pow(b1, step)), vh = vv[i] / (1 - Math.pow(b2, step));
                    ref[i] -= lr * mh / (Math.sqrt(vh) + eps);
                }
                float[] ga = a.toFloatArray(), gb = b.toFloatArray();
                assertEquals(ref[0], ga[0], 1e-5, "step " + step);
                assertEquals(ref[1], ga[1], 1e-5, "step " + step);
                assertEquals(ref[2], gb[0], 1e-5, "step " + step);
                assertEquals(0f, a.getGradient().abs().sum().getFloat(), "gradient zeroed after the step");
                assertEquals(0f, b.getGradient().abs().sum().getFloat(), "gradient zeroed after the step");
            }
        }
        assertEquals(1.0, Gradients.clipCoefficient(0.5, 1.0), "under the limit: no clip");
        assertEquals(1.0, Gradients.clipCoefficient(5.0, 0.0), "0: no clipping");
    }

    @Test
    void theClipInsideAdamWIsBitForBitTheClipInPlaceBeforeIt() {
        // The trainers' results (and the demo's figures) depend on every float of the update: folding the clip into
        // AdamW must round exactly as scaling each gradient in place and then stepping did.
        try (NDManager m = NDManager.newBaseManager();
                AdamW inPlace = new AdamW(AdamW.Config.defaults(), m);
                AdamW folded = new AdamW(AdamW.Config.defaults(), m)) {
            ai.djl.engine.Engine.getInstance().setRandomSeed(3);
            NDArray w0 = m.randomNormal(new ai.djl.ndarray.types.Shape(4096)).mul(0.02f);
            NDArray a = w0.duplicate(), b = w0.duplicate();
            a.setRequiresGradient(true);
            b.setRequiresGradient(true);
            NDArray target = m.randomNormal(new ai.djl.ndarray.types.Shape(4096));
            for (int step = 0; step < 3; step++) {
                for (NDArray p : List.of(a, b)) {
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        gc.backward(p.sub(target).square().sum().mul(37f)); // a norm far above 1: the clip acts
                    }
                }
                double norm = Gradients.globalNorm(List.of(a.getGradient()));
                double coef = Gradients.clipCoefficient(norm, 1.0);
                assertTrue(coef < 1e-2, "the clip acts: " + coef);
                a.getGradient().muli((float) coef);
                inPlace.step(Map.of("w", a), 1e-3);
                folded.step(Map.of("w", b), Map.of("w", b.getGradient()), coef, 1e-3);
                assertArrayEquals(a.toFloatArray(), b.toFloatArray(), "step " + step);
            }
        }
    }

    @Test
    void schedulesFollowHuggingFace() {
        LrSchedule cos = LrSchedule.withWarmupRatio(LrSchedule.Kind.COSINE, 1.0, 0.03, 100); // ceil(3) warmup steps
        assertEquals(3, cos.warmupSteps());
        assertEquals(0.0, cos.at(0));
        assertEquals(1.0 / 3, cos.at(1), 1e-12);
        assertEquals(1.0, cos.at(3), 1e-12);
        assertEquals(0.5 * (1 + Math.cos(Math.PI * 48 / 97.0)), cos.at(51), 1e-12);
        assertEquals(0.0, cos.at(100), 1e-12);
        LrSchedule lin = new LrSchedule(LrSchedule.Kind.LINEAR, 2.0, 5, 25);
        assertEquals(2.0 * 4 / 5, lin.at(4), 1e-12);
        assertEquals(2.0 * 15 / 20, lin.at(10), 1e-12);
    }

    @Test
    void tokenLogprobsAgreeWithScoringAndCheckpointsRoundTrip(@TempDir Path out) {
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories())) {
            String prompt = "Once upon a time", response = " there was a dog named Max.";
            Scored s = lm.score(prompt, response);
            try (NDManager m = lm.manager().newSubManager()) {
                SequenceBatch b = SequenceBatch.of(
                        m, lm.tokenizer(), List.of(prompt, "Tom"), List.of(response, " ran home."), 512, false);
                double sum = b.sumOverResponse(b.tokenLogprobs(lm.model())).toFloatArray()[0];
                assertEquals(s.sum(), sum, 1e-4);
            }
            Map<String, NDArray> params = Parameters.full(lm.model());
            try (AdamW opt = new AdamW(AdamW.Config.defaults(), lm.manager())) {
                NDArray norm = params.get("model.norm.weight");
                float before = norm.getFloat(0);
                JsonObject st = new JsonObject();
                st.addProperty("seed", 42);
                Path ck = Checkpoint.save(out, 7, params, opt, st, 2);
                // overwrite with other values (whole-array set: an indexed in-place write into a leaf that requires
                // grad crashes libtorch)
                float[] other = new float[(int) norm.size()];
                java.util.Arrays.fill(other, 123f);
                norm.set(other);
                assertEquals(123f, norm.getFloat(0));
                JsonObject back = Checkpoint.restore(ck, params, opt, lm.manager());
                assertEquals(before, norm.getFloat(0));
                assertEquals(7, back.get("step").getAsLong());
                assertEquals(ck, Checkpoint.latest(out));
            }
        }
    }
}
