package rlcd4j.contrast;

import rlcd4j.util.PythonStrings;
import rlcd4j.util.RlaifLabel;

/**
 * The paper's RLAIF scoring prompt ({@code analyze_results}), with its four-newline separators:
 * <pre>
 * Consider the following conversation between a human and an assistant:\n\n\n\n{prompt.strip()}\n\n\n\n
 * {instruction.strip()}\n\n\n\nOptions:\n\n\n\n(A) {A.strip()}\n\n\n\n(B) {B.strip()}\n\n\n\nThe answer is: (
 * </pre>
 * The scorer's next-token logits for {@code A} and {@code B} give the label ({@link RlaifLabel}).
 */
public final class RlaifPrompt {
    private RlaifPrompt() {}

    public static String build(String prompt, String instruction, String responseA, String responseB) {
        return "Consider the following conversation between a human and an assistant:\n\n\n\n"
                + PythonStrings.strip(prompt)
                + "\n\n\n\n" + PythonStrings.strip(instruction)
                + "\n\n\n\nOptions:\n\n\n\n(A) " + PythonStrings.strip(responseA)
                + "\n\n\n\n(B) " + PythonStrings.strip(responseB)
                + "\n\n\n\nThe answer is: (";
    }

    /**
     * A response as shown to the scorer when the policy prompt had a response prefix (our outline template):
     * the prefix, one space, then the generated continuation; without a prefix, the response itself.
     */
    public static String withPrefix(String responsePrefix, String response) {
        String p = PythonStrings.strip(responsePrefix);
        return p.isEmpty() ? response : p + " " + response;
    }
}
