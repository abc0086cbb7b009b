package rlcd4j.engine;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import rlcd4j.util.Seeds;

/** The sampler's filters and draw, on hand-made logits. */
class SamplerTest {
    final NDManager m = NDManager.newBaseManager();

    @AfterEach
    void close() {
        m.close();
    }

    static GenerationConfig sampling(double temperature, int topK, double topP) {
        return GenerationConfig.defaults()
                .withTemperature(temperature)
                .withTopK(topK)
                .withTopP(topP);
    }

    static long[] seeds(int rows) {
        long[] s = new long[rows];
        for (int i = 0; i < rows; i++) s[i] = Seeds.rowSeed(11, i);
        return s;
    }

    static float[] randomLogits(int rows, int vocab, long seed) {
        Random r = new Random(seed);
        float[] x = new float[rows * vocab];
        for (int i = 0; i < x.length; i++) x[i] = (float) (3 * r.nextGaussian());
        return x;
    }

    /** The logits with everything below each row's k-th largest set to -inf. */
    static float[] keepTopK(float[] x, int rows, int vocab, int k) {
        float[] out = x.clone();
        for (int b = 0; b < rows; b++) {
            float[] row = Arrays.copyOfRange(x, b * vocab, (b + 1) * vocab);
            Arrays.sort(row);
            float kth = row[vocab - k];
            for (int v = 0; v < vocab; v++) if (out[b * vocab + v] < kth) out[b * vocab + v] = Float.NEGATIVE_INFINITY;
        }
        return out;
    }

    @Test
    void topKOnItsCandidatesDrawsWhatTheWholeVocabularyWalkDraws() {
        int rows = 8, vocab = 300, k = 20;
        for (double topP : new double[] {1.0, 0.9}) {
            float[] x = randomLogits(rows, vocab, 5);
            // reference: the same distribution with only the top k finite, drawn by the whole-vocabulary path (top-k
            // off)
            Sampler candidates = new Sampler(sampling(0.8, k, topP), seeds(rows), new long[0], m, vocab);
            Sampler whole = new Sampler(sampling(0.8, 0, topP), seeds(rows), new long[0], m, vocab);
            NDArray logits = m.create(x, new Shape(rows, vocab));
            NDArray masked = m.create(keepTopK(x, rows, vocab, k), new Shape(rows, vocab));
            for (int step = 0; step < 50; step++) {
                long[] a = candidates.next(logits).ids();
                long[] b = whole.next(masked).ids();
                assertArrayEquals(b, a, "top-p " + topP + ", step " + step);
            }
        }
    }

    @Test
    void topKNeverLeavesTheKLargestAndBannedIdsAreNeverDrawn() {
        int rows = 4, vocab = 100, k = 5;
        float[] x = randomLogits(rows, vocab, 9);
        // ban each row's largest logit: the candidates are then the next five
        long[] banned = new long[rows];
        float[] allowed = x.clone();
        for (int b = 0; b < rows; b++) {
            int best = 0;
            for (int v = 1; v < vocab; v++) if (x[b * vocab + v] > x[b * vocab + best]) best = v;
            banned[b] = best;
        }
        for (int b = 0; b < rows; b++) for (long id : banned) allowed[b * vocab + (int) id] = Float.NEGATIVE_INFINITY;
        float[] top = keepTopK(allowed, rows, vocab, k);
        Sampler s = new Sampler(sampling(1.0, k, 1.0), seeds(rows), banned, m, vocab);
        NDArray logits = m.create(x, new Shape(rows, vocab));
        for (int step = 0; step < 200; step++) {
            long[] ids = s.next(logits).ids();
            for (int b = 0; b < rows; b++) {
                assertTrue(
                        Float.isFinite(top[b * vocab + (int) ids[b]]),
                        "row " + b + " drew " + ids[b] + ", not among its top " + k);
                for (long id : banned) assertNotEquals(id, ids[b]);
            }
        }
    }

    @Test
    void frequenciesFollowTheFilteredSoftmax() {
        // p = 0.5, 0.3, 0.15, 0.05; top-k 3 renormalises the first three; top-p 0.75 keeps the first two
        float[] x = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.15), (float) Math.log(0.05)};
        int draws = 8000;
        for (Object[] c : List.of(
                new Object[] {3, 1.0, new double[] {0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0}},
                new Object[] {0, 0.75, new double[] {0.5 / 0.8, 0.3 / 0.8, 0, 0}},
                new Object[] {3, 0.75, new double[] {0.5 / 0.8, 0.3 / 0.8, 0, 0}})) {
            Sampler s = new Sampler(sampling(1.0, (int) c[0], (double) c[1]), seeds(1), new long[0], m, 4);
            NDArray logits = m.create(x, new Shape(1, 4));
            int[] counts = new int[4];
            for (int i = 0; i < draws; i++) counts[(int) s.next(logits).ids()[0]]++;
            double[] expected = (double[]) c[2];
            for (int v = 0; v < 4; v++) {
                assertEquals(
                        expected[v],
                        counts[v] / (double) draws,
                        0.02,
                        "top-k " + c[0] + " top-p " + c[1] + " token " + v + ": " + Arrays.toString(counts));
            }
        }
    }

    @Test
    void logprobsAreOfTheUnfilteredDistribution() {
        float[] x = randomLogits(2, 50, 3);
        Sampler s = new Sampler(sampling(0.7, 5, 0.9), seeds(2), new long[] {1, 2}, m, 50);
        Sampler.Result r = s.next(m.create(x, new Shape(2, 50)));
        for (int b = 0; b < 2; b++) {
            double z = 0;
            for (int v = 0; v < 50; v++) z += Math.exp(x[b * 50 + v]);
            assertEquals(x[b * 50 + (int) r.ids()[b]] - Math.log(z), r.logprobs()[b], 1e-5);
        }
    }
}
