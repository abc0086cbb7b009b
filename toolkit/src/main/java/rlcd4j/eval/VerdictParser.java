package rlcd4j.eval;

/**
 * The paper's reading of a judge's free-text answer ({@code extract_answer} in {@code scripts/gpt4_compare.py}):
 * <ol>
 *   <li>starts with {@code (A)} or {@code Response (A)}: A; starts with {@code (B)} or {@code Response (B)}: B
 *       (no stripping: a leading space defeats this rule, as in the script);</li>
 *   <li>otherwise, if {@code However} occurs: take the text from its first occurrence, delete every {@code than (A)} and
 *       {@code than (B)}, and answer the one label of {@code (A)}/{@code (B)} still present;</li>
 *   <li>anything else (no rule applies, or both labels remain): undecided, which scores 0.5 for each side.</li>
 * </ol>
 */
public final class VerdictParser {
    private VerdictParser() {}

    /** {@code "A"}, {@code "B"}, or {@code null} when undecided. */
    public static String answer(String response) {
        if (response.startsWith("(A)") || response.startsWith("Response (A)")) return "A";
        if (response.startsWith("(B)") || response.startsWith("Response (B)")) return "B";
        int however = response.indexOf("However");
        if (however < 0) return null;
        String rest = response.substring(however).replace("than (A)", "").replace("than (B)", "");
        boolean a = rest.contains("(A)"), b = rest.contains("(B)");
        if (a == b) return null;
        return a ? "A" : "B";
    }

    /** The score of the first-shown response (A): 1, 0, or 0.5 when undecided. */
    public static double scoreForFirst(String response) {
        String a = answer(response);
        return a == null ? 0.5 : a.equals("A") ? 1.0 : 0.0;
    }
}
