package rlcd4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** The three losses against values worked out by hand, and their gradients against central finite differences (float64). */
class LossTest {

    @Test
    void preferenceLossMatchesHandValues() {
        try (NDManager m = NDManager.newBaseManager()) {
            // x = rc - rr = 1.5, -2, 0 ; p = 1, 0.7, 0
            // 1.5, p=1:  log(1 + e^-1.5)                  = 0.2014133
            // -2, p=0.7: log(1 + e^-2) + 2 * 0.7           = 0.1269280 + 1.4 = 1.5269280
            // 0,  p=0:   log 2                             = 0.6931472
            NDArray l = PreferenceModelTrainer.loss(
                    m.create(new double[] {2, -1, 0.3}),
                    m.create(new double[] {0.5, 1, 0.3}),
                    m.create(new double[] {1, 0.7, 0}));
            assertArrayEquals(new double[] {0.2014132780, 1.5269280110, 0.6931471806}, l.toDoubleArray(), 1e-9);
            // BCE(x, p) = BCE(-x, 1-p): the paper's orientation (output_2 vs output_1) gives the same loss.
            NDArray flipped = PreferenceModelTrainer.loss(
                    m.create(new double[] {0.5, 1, 0.3}),
                    m.create(new double[] {2, -1, 0.3}),
                    m.create(new double[] {0, 0.3, 1}));
            assertArrayEquals(l.toDoubleArray(), flipped.toDoubleArray(), 1e-12);
        }
    }

    @Test
    void sftLossIsTheMeanOverResponseTokensOnly() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray lp = m.create(new float[] {-1, -2, -3, -0.5f, -0.5f, -4, -7, -7, -7}, new Shape(3, 3));
            NDArray mask = m.create(new float[] {0, 1, 1, 0, 0, 1, 0, 0, 0}, new Shape(3, 3));
            // row 0: (2 + 3) / 2 = 2.5 ; row 1: 4 ; row 2: no response token -> 0
            assertArrayEquals(
                    new float[] {2.5f, 4f, 0f}, SftTrainer.loss(lp, mask).toFloatArray(), 1e-6f);
        }
    }

    @Test
    void dpoAndIpoLossesMatchHandValues() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray pc = m.create(new double[] {-10, -3}), pr = m.create(new double[] {-12, -3});
            NDArray rc = m.create(new double[] {-11, -4}), rr = m.create(new double[] {-11, -2});
            // h = (pc - pr) - (rc - rr) = 2, 2 ; DPO beta 0.1: log(1 + e^-0.2) = 0.5981389
            assertArrayEquals(
                    new double[] {0.5981388694, 0.5981388694},
                    DpoTrainer.loss(pc, pr, rc, rr, 0.1, DpoTrainer.Loss.DPO).toDoubleArray(),
                    1e-9);
            // IPO beta 0.1: (2 - 5)^2 = 9
            assertArrayEquals(
                    new double[] {9, 9},
                    DpoTrainer.loss(pc, pr, rc, rr, 0.1, DpoTrainer.Loss.IPO).toDoubleArray(),
                    1e-12);
            // policy equal to the reference: DPO loss log 2
            assertEquals(
                    Math.log(2),
                    DpoTrainer.loss(rc, rr, rc, rr, 0.5, DpoTrainer.Loss.DPO).toDoubleArray()[0],
                    1e-12);
        }
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        SplittableRandom r = new SplittableRandom(7);
        check(
                "preference",
                2,
                r,
                a -> PreferenceModelTrainer.loss(
                                a.get(0), a.get(1), a.get(0).getManager().create(new double[] {1, 0.3, 0.8}))
                        .sum());
        check(
                "sft",
                1,
                r,
                a -> SftTrainer.loss(
                                a.get(0).reshape(2, 3).logSoftmax(1),
                                a.get(0).getManager().create(new double[] {0, 1, 1, 0, 0, 1}, new Shape(2, 3)))
                        .sum());
        for (DpoTrainer.Loss type : DpoTrainer.Loss.values()) {
            check(
                    "dpo " + type,
                    4,
                    r,
                    a -> DpoTrainer.loss(a.get(0), a.get(1), a.get(2), a.get(3), 0.3, type)
                            .sum());
        }
    }

    /**
     * DJL's scalar ops ({@code x.mul(3f)}) hand autograd a tensor over a Java direct buffer that the GC may free before
     * the backward pass. The trainers and the model use libtorch-allocated scalars instead; this checks that gradients
     * through the model and every loss are the same when a GC (and fresh direct buffers reusing freed memory) happen
     * between forward and backward.
     */
    @Test
    void gradientsSurviveAGarbageCollectionBetweenForwardAndBackward() throws Exception {
        try (rlcd4j.engine.CausalLM lm = rlcd4j.engine.CausalLM.load(rlcd4j.Fixtures.tinyStories());
                rlcd4j.engine.llama.LoraAdapter ad = rlcd4j.engine.llama.LoraAdapter.create(
                        lm.config(), PreferenceModelTrainer.lora(4, 8, 0, "all"), lm.manager(), 3)) {
            lm.model().setAdapter(ad);
            java.util.Map<String, NDArray> params = Parameters.lora(ad, ai.djl.ndarray.types.DataType.FLOAT32);
            float[][] g = new float[2][];
            for (int run = 0; run < 2; run++) {
                try (ai.djl.ndarray.NDScope scope = new ai.djl.ndarray.NDScope()) {
                    scope.suppressNotUsedWarning();
                    NDManager m = lm.manager();
                    SequenceBatch b = SequenceBatch.of(
                            m,
                            lm.tokenizer(),
                            List.of("Once upon a time", "Tom"),
                            List.of(" there was a dog.", " ran home."),
                            64,
                            true);
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray lp = b.tokenLogprobs(lm.model());
                        NDArray seq = b.sumOverResponse(lp);
                        NDArray l = SftTrainer.loss(lp, b.responseMask())
                                .sum()
                                .div(Runs.scalar(m, 2))
                                .add(DpoTrainer.loss(
                                                seq.get("0:1"),
                                                seq.get("1:"),
                                                m.create(new float[] {-20f}),
                                                m.create(new float[] {-15f}),
                                                0.1,
                                                DpoTrainer.Loss.DPO)
                                        .sum())
                                .add(PreferenceModelTrainer.loss(
                                                seq.get("0:1"), seq.get("1:"), m.create(new float[] {0.7f}))
                                        .sum());
                        if (run == 1) {
                            for (int i = 0; i < 5; i++) {
                                System.gc();
                                Thread.sleep(20);
                            }
                            List<java.nio.ByteBuffer> junk = new java.util.ArrayList<>();
                            for (int i = 0; i < 20000; i++)
                                junk.add(java.nio.ByteBuffer.allocateDirect(4).putFloat(0, 1e30f));
                        }
                        gc.backward(l);
                    }
                }
                g[run] = PreferenceModelTrainerTest.concat(gradients(params));
                Gradients.zero(params.values());
            }
            assertArrayEquals(g[0], g[1], 0f);
            lm.model().setAdapter(null);
        }
    }

    private static java.util.Map<String, NDArray> gradients(java.util.Map<String, NDArray> params) {
        java.util.Map<String, NDArray> out = new java.util.LinkedHashMap<>();
        params.forEach((k, v) -> out.put(k, v.getGradient()));
        return out;
    }

    /** Compares autograd with central differences for {@code k} random float64 inputs of 3 (SFT: 6 logits) values each. */
    private static void check(String name, int k, SplittableRandom r, Function<List<NDArray>, NDArray> f) {
        try (NDManager m = NDManager.newBaseManager()) {
            int size = name.equals("sft") ? 6 : 3;
            double[][] x = new double[k][size];
            for (double[] row : x) for (int i = 0; i < size; i++) row[i] = r.nextDouble() * 4 - 2;
            List<NDArray> in = new java.util.ArrayList<>();
            for (double[] row : x) {
                NDArray a = m.create(row);
                a.setRequiresGradient(true);
                in.add(a);
            }
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(f.apply(in));
            }
            double eps = 1e-6;
            for (int j = 0; j < k; j++) {
                NDArray grad = in.get(j).getGradient();
                double[] g = grad.toType(DataType.FLOAT64, false).toDoubleArray();
                for (int i = 0; i < size; i++) {
                    double[] fx = new double[2];
                    for (int s = 0; s < 2; s++) {
                        double[][] y = new double[k][];
                        for (int q = 0; q < k; q++) y[q] = x[q].clone();
                        y[j][i] += s == 0 ? eps : -eps;
                        List<NDArray> yin = new java.util.ArrayList<>();
                        for (double[] row : y) yin.add(m.create(row));
                        NDArray out = f.apply(yin);
                        assertEquals(DataType.FLOAT64, out.getDataType());
                        fx[s] = out.getDouble();
                    }
                    double fd = (fx[0] - fx[1]) / (2 * eps);
                    assertEquals(fd, g[i], 1e-7, name + ": d loss / d input" + j + "[" + i + "]");
                }
            }
        }
    }
}
