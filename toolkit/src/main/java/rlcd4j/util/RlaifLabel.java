package rlcd4j.util;

/**
 * RLAIF's soft label from the scorer's next-token logits of {@code A} and {@code B} after the scoring prompt:
 * P(B) = softmax([logit_A, logit_B])[1], computed like scipy's softmax (shift by the max, exponentiate, normalise).
 * The token ids come from {@code tok(x) = tokenizer.encode(x)[-1]} (the last id of encoding "A" / "B"), as the
 * official script does; the official {@code preference} is 2 (B) when P(B) > 0.5, else 1 (A).
 */
public final class RlaifLabel {
    private RlaifLabel() {}

    /** P(B is better) restricted to the two tokens. */
    public static double probB(double logitA, double logitB) {
        double m = Math.max(logitA, logitB);
        double ea = Math.exp(logitA - m), eb = Math.exp(logitB - m);
        return eb / (ea + eb);
    }

    /** The official hard preference: 2 when P(B) > 0.5, else 1. */
    public static int preference(double probB) {
        return probB > 0.5 ? 2 : 1;
    }

    /** The id the official script reads the logit of: the last id of the text's encoding. */
    public static long lastTokenId(long[] encoding) {
        if (encoding.length == 0) throw new IllegalArgumentException("empty encoding");
        return encoding[encoding.length - 1];
    }
}
