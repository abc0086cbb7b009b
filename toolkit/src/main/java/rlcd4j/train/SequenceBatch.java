package rlcd4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import rlcd4j.engine.Batch;
import rlcd4j.engine.Tokenizer;
import rlcd4j.engine.llama.LlamaModel;

/**
 * Prompt + response sequences, left-padded into one batch, with a mask of the response tokens: what SFT, DPO and PPO
 * compute their losses over, and what a reward model reads at the last real token.
 *
 * @param batch        ids [B,T], attention mask and positions
 * @param responseMask [B,T] float, 1 on response tokens (the tokens whose log-probability counts)
 * @param truncated    per row, whether the sequence was cut to {@code maxLength}
 */
public record SequenceBatch(Batch batch, NDArray responseMask, boolean[] truncated) {

    /**
     * Tokenises each {@code prompt + response} as one text ({@link Tokenizer#encodePair}), appends EOS when asked, and
     * keeps at most {@code maxLength} tokens, cutting the end (as HF's default right truncation does).
     */
    public static SequenceBatch of(
            NDManager m,
            Tokenizer tok,
            List<String> prompts,
            List<String> responses,
            int maxLength,
            boolean appendEos) {
        List<long[]> rows = new ArrayList<>();
        List<Integer> bounds = new ArrayList<>();
        boolean[] truncated = new boolean[prompts.size()];
        for (int i = 0; i < prompts.size(); i++) {
            Tokenizer.Pair p = tok.encodePair(prompts.get(i), responses.get(i));
            long[] ids = p.ids();
            if (appendEos) {
                ids = java.util.Arrays.copyOf(ids, ids.length + 1);
                ids[ids.length - 1] = tok.eosId();
            }
            if (ids.length > maxLength) {
                ids = java.util.Arrays.copyOf(ids, maxLength);
                truncated[i] = true;
            }
            rows.add(ids);
            bounds.add(Math.min(p.boundary(), ids.length));
        }
        Batch b = Batch.leftPadded(m, rows, tok.padId());
        int B = rows.size(), T = (int) b.ids().getShape().get(1);
        float[] mask = new float[B * T];
        for (int i = 0; i < B; i++) {
            int pad = T - rows.get(i).length;
            for (int t = pad + bounds.get(i); t < T; t++) mask[i * T + t] = 1f;
        }
        return new SequenceBatch(b, m.create(mask, new Shape(B, T)), truncated);
    }

    /** From token ids already split into prompt and response (PPO's rollouts, whose ids must not be re-tokenised). */
    public static SequenceBatch ofIds(NDManager m, List<long[]> promptIds, List<long[]> responseIds, long padId) {
        List<long[]> rows = new ArrayList<>();
        for (int i = 0; i < promptIds.size(); i++) {
            long[] p = promptIds.get(i), r = responseIds.get(i);
            long[] ids = java.util.Arrays.copyOf(p, p.length + r.length);
            System.arraycopy(r, 0, ids, p.length, r.length);
            rows.add(ids);
        }
        Batch b = Batch.leftPadded(m, rows, padId);
        int B = rows.size(), T = (int) b.ids().getShape().get(1);
        float[] mask = new float[B * T];
        for (int i = 0; i < B; i++) {
            for (int t = T - responseIds.get(i).length; t < T; t++) mask[i * T + t] = 1f;
        }
        return new SequenceBatch(b, m.create(mask, new Shape(B, T)), new boolean[B]);
    }

    /**
     * Per-token log-probabilities [B, T]: entry t is log p(ids[t] | ids[..t-1]) under {@code model}'s current adapter;
     * entry 0 is 0 (nothing predicts the first token). Multiply by {@link #responseMask()} to keep the response.
     */
    public NDArray tokenLogprobs(LlamaModel model) {
        NDArray logits = model.logits(model.forward(batch.ids(), batch.positions(), batch.mask(), null));
        return tokenLogprobs(logits);
    }

    /** The same from logits [B,T,V] already computed. */
    public NDArray tokenLogprobs(NDArray logits) {
        long B = logits.getShape().get(0);
        // fp32, differentiably
        NDArray logp =
                rlcd4j.engine.Precision.toFloat32(logits).get(":, :-1, :").logSoftmax(-1);
        NDArray next = batch.ids().get(":, 1:").expandDims(-1);
        NDArray lp = logp.gather(next, -1).squeeze(-1); // [B, T-1]
        return logp.getManager().zeros(new Shape(B, 1), DataType.FLOAT32).concat(lp, 1);
    }

    /** Sum over each row's response tokens of per-token values [B,T] -> [B]. */
    public NDArray sumOverResponse(NDArray perToken) {
        return perToken.mul(responseMask).sum(new int[] {1});
    }

    public int size() {
        return batch.lengths().length;
    }
}
