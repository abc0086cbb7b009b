package rlcd4j.eval;

/**
 * One judgement of one ordered pair: response (A) was shown first, (B) second.
 *
 * @param answer    {@code "A"}, {@code "B"}, or {@code null} when the judge did not decide
 * @param probFirst the judge's preference for (A) in [0, 1]: 1, 0 or 0.5 for a text judge; P(A) from the
 *                  log-probabilities of {@code A} and {@code B} for a local model judge
 * @param raw       the judge's raw answer text (or, for a model judge, a short description of its scores)
 */
public record Verdict(String answer, double probFirst, String raw) {
    /** Reads a text answer with the paper's rules ({@link VerdictParser}). */
    public static Verdict fromText(String raw) {
        String a = VerdictParser.answer(raw);
        return new Verdict(a, a == null ? 0.5 : a.equals("A") ? 1.0 : 0.0, raw);
    }

    /** The paper's score for (A): 1 when A is chosen, 0 when B is, 0.5 when undecided. */
    public double scoreFirst() {
        return answer == null ? 0.5 : answer.equals("A") ? 1.0 : 0.0;
    }
}
