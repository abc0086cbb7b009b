package rlcd4j.contrast;

/**
 * The paper's {@code create_prompts}: p+ and p- from a conversation and one description pair.
 *
 * <p>Exactly the official code's string operations:
 * <pre>
 * p+ = (prompt + "PROMPT_END").replace("\n\nAssistant:PROMPT_END", "\n\nAssistant " + pos + ":")
 *                             .replace("\n\nAssistant:", "\n\nAssistant " + neg + ":")
 * p- = the same with pos and neg swapped
 * </pre>
 * So the description goes between {@code Assistant} and {@code :} after one space, on every {@code \n\nAssistant:};
 * the final one (the one the prompt ends with) gets the target polarity and every earlier one the opposite. A quirk kept
 * on purpose: a prompt that does not end with {@code \n\nAssistant:} (e.g. HH-RLHF harmless-base test row 1560, which
 * ends {@code "  \nAssistant:"}) gets the opposite polarity on all of its turns and keeps the literal marker
 * {@code PROMPT_END} at its end, exactly as the official script produces it.
 *
 * <p>Response prefix (our outline template): when the policy prompt continues after the final {@code Assistant:}
 * (e.g. {@code " Here is a possible outline:\n\n1."}), the rule above is applied to the conversation part, which ends
 * with {@code \n\nAssistant:}, and the prefix is appended unchanged to p+ and p-. For HH prompts the prefix is empty.
 */
public final class ContrastivePrompts {
    private ContrastivePrompts() {}

    /** p+ and p- for one conversation. */
    public record Contrast(String positive, String negative) {}

    private static final String TURN = "\n\nAssistant:";
    private static final String END = "PROMPT_END";

    public static Contrast build(String conversation, DescriptionPair pair) {
        return build(conversation, "", pair);
    }

    public static Contrast build(String conversation, String responsePrefix, DescriptionPair pair) {
        return new Contrast(
                withDescriptions(conversation, pair.positive(), pair.negative()) + responsePrefix,
                withDescriptions(conversation, pair.negative(), pair.positive()) + responsePrefix);
    }

    /** The final turn gets {@code target}, every earlier Assistant turn {@code opposite} (the PROMPT_END trick). */
    public static String withDescriptions(String prompt, String target, String opposite) {
        // Java's String.replace(CharSequence, CharSequence) replaces all non-overlapping matches left to right, as
        // Python's does.
        String s = (prompt + END).replace(TURN + END, "\n\nAssistant " + target + ":");
        return s.replace(TURN, "\n\nAssistant " + opposite + ":");
    }
}
