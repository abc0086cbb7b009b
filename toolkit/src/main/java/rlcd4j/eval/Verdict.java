package rlcd4j.eval;

import java.util.Objects;

/**
 * One judgement of one ordered pair: response (A) was shown first, (B) second.
 *
 * @param answer    {@code "A"}, {@code "B"}, or {@code null} when the judge did not decide
 * @param probFirst the judge's preference for (A) in [0, 1]: 1, 0 or 0.5 for a text judge; P(A) from the
 *                  log-probabilities of {@code A} and {@code B} for a local model judge
 * @param raw       the judge's raw answer text (or, for a model judge, a short description of its scores)
 * @param problem   why the judge gave no usable answer (e.g. it was cut off at the server's length limit, or came back
 *                  empty), or {@code null} when it answered; such a verdict is undecided and never cached
 */
public record Verdict(String answer, double probFirst, String raw, String problem) {
    public Verdict(String answer, double probFirst, String raw) {
        this(answer, probFirst, raw, null);
    }

    /** Reads a text answer with the paper's rules ({@link VerdictParser}). */
    public static Verdict fromText(String raw) {
        String a = VerdictParser.answer(raw);
        return new Verdict(a, a == null ? 0.5 : a.equals("A") ? 1.0 : 0.0, raw);
    }

    /** No usable answer: undecided (0.5, as the paper scores an answer it cannot read), with the reason kept. */
    public static Verdict failed(String problem, String raw) {
        return new Verdict(null, 0.5, raw == null ? "" : raw, Objects.requireNonNull(problem));
    }

    /** Whether the judge gave no usable answer ({@link #problem()} says why). */
    public boolean failed() {
        return problem != null;
    }

    /** The paper's score for (A): 1 when A is chosen, 0 when B is, 0.5 when undecided. */
    public double scoreFirst() {
        return answer == null ? 0.5 : answer.equals("A") ? 1.0 : 0.0;
    }
}
