package rlcd4j.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import rlcd4j.engine.llama.LlamaModel;

/**
 * Sequences of different lengths, left-padded to one rectangle so that every row ends in the last column (the
 * position a reward head or the next-token logits read).
 *
 * @param ids       [B, T] token ids, padding on the left
 * @param keyMask   [B, T] 1 for real tokens, 0 for padding
 * @param positions [B, T] position of each token counted from the row's first real token
 * @param mask      [B, 1, T, T] additive causal attention mask
 * @param lengths   real length of each row
 */
public record Batch(NDArray ids, NDArray keyMask, NDArray positions, NDArray mask, int[] lengths) {

    public static Batch leftPadded(NDManager m, List<long[]> rows, long padId) {
        int B = rows.size();
        int T = 0;
        for (long[] r : rows) T = Math.max(T, r.length);
        long[] ids = new long[B * T], key = new long[B * T], pos = new long[B * T];
        int[] lengths = new int[B];
        for (int i = 0; i < B; i++) {
            long[] r = rows.get(i);
            int pad = T - r.length;
            lengths[i] = r.length;
            for (int t = 0; t < T; t++) {
                boolean real = t >= pad;
                ids[i * T + t] = real ? r[t - pad] : padId;
                key[i * T + t] = real ? 1 : 0;
                pos[i * T + t] = real ? t - pad : 0;
            }
        }
        NDArray keyMask = m.create(key, new Shape(B, T));
        return new Batch(
                m.create(ids, new Shape(B, T)),
                keyMask,
                m.create(pos, new Shape(B, T)),
                LlamaModel.attentionMask(m, keyMask, 0, T),
                lengths);
    }

    /** Padding columns of row {@code i}. */
    public int padding(int i) {
        return (int) ids.getShape().get(1) - lengths[i];
    }
}
