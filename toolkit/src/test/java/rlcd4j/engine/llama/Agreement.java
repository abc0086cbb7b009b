package rlcd4j.engine.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;

/** Inputs and the agreement check shared by the tests that compare two paths of the engine. */
final class Agreement {
    private Agreement() {}

    /**
     * Left-padded rows of the given lengths, T columns: ids (random, from 3 to vocab - 1; padding is id 2), positions
     * counted from each row's first real token, and the key mask, each [B, T].
     */
    static NDArray[] leftPadded(NDManager m, int[] lengths, int T, int vocab, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int B = lengths.length;
        long[] ids = new long[B * T], pos = new long[B * T], key = new long[B * T];
        for (int b = 0; b < B; b++) {
            int pad = T - lengths[b];
            for (int t = 0; t < T; t++) {
                ids[b * T + t] = t < pad ? 2 : 3 + rng.nextInt(vocab - 3);
                pos[b * T + t] = t < pad ? 0 : t - pad;
                key[b * T + t] = t < pad ? 0 : 1;
            }
        }
        Shape s = new Shape(B, T);
        return new NDArray[] {m.create(ids, s), m.create(pos, s), m.create(key, s)};
    }

    /** Every value within {@code tolerance} times the largest magnitude (at least 1), and not all near 0 (or NaN). */
    static void assertClose(float[] expected, float[] actual, float tolerance, String what) {
        assertEquals(expected.length, actual.length, what);
        float worst = 0, scale = 0;
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
            scale = Math.max(scale, Math.abs(expected[i]));
        }
        assertTrue(scale > 0.1f, what + ": values too small to compare (" + scale + ")");
        assertTrue(
                worst <= tolerance * Math.max(1, scale),
                what + ": differs by " + worst + " (values up to " + scale + ")");
    }
}
