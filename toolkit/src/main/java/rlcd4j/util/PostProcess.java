package rlcd4j.util;

import java.util.Objects;

/**
 * The paper's {@code process_filter_result}: how a raw sample becomes a response, or is rejected. Rules, in order:
 * <ol>
 *   <li>no {@code Human} in the text: fail ({@code no_human_turn}) — the model must start a new turn;</li>
 *   <li>cut at the first {@code Human};</li>
 *   <li>neither a newline nor the EOS text left: fail ({@code no_newline_or_eos});</li>
 *   <li>a newline left: cut at the last newline, strip;</li>
 *   <li>the EOS text left: cut at its first occurrence, strip;</li>
 *   <li>{@code Assistant:} left: drop everything up to and including its first occurrence, strip;</li>
 *   <li>empty: fail ({@code empty}); otherwise the response.</li>
 * </ol>
 * The paper's EOS text is LLaMA's {@code </s>} (decoded without skipping special tokens); other models pass their own.
 * "strip" is Python's {@code str.strip()} (Unicode whitespace), see {@link PythonStrings#strip}.
 */
public final class PostProcess {
    /** LLaMA's EOS as decoded text, what the official script looks for. */
    public static final String LLAMA_EOS = "</s>";

    private final String eosText;
    private final boolean filter;

    private PostProcess(String eosText, boolean filter) {
        this.eosText = Objects.requireNonNull(eosText);
        if (eosText.isEmpty()) throw new IllegalArgumentException("EOS text must not be empty");
        this.filter = filter;
    }

    /** The paper's rules with LLaMA's {@code </s>}. */
    public static PostProcess paper() {
        return new PostProcess(LLAMA_EOS, true);
    }

    /** The paper's rules with another model's decoded EOS text (e.g. {@code <|endoftext|>}). */
    public static PostProcess withEos(String eosText) {
        return new PostProcess(eosText, true);
    }

    /**
     * No filter: the raw sample, stripped, is the response; only an empty one fails. Not the paper's procedure: for
     * ablations of its filter, and for models that never start the next turn (random weights in benchmarks).
     */
    public static PostProcess none() {
        return new PostProcess(LLAMA_EOS, false);
    }

    public String eosText() {
        return eosText;
    }

    /** What decides the result: a run folder keys a simulation stage by it (rlcd4j.pipeline.RunFolder). */
    @Override
    public String toString() {
        return "PostProcess[eos=" + eosText + ", filter=" + filter + "]";
    }

    /** The outcome: {@code ok} with the cleaned text, or a failure reason. */
    public record Result(boolean ok, String text, String reason) {
        static Result fail(String reason) {
            return new Result(false, null, reason);
        }

        static Result ok(String text) {
            return new Result(true, text, null);
        }
    }

    public Result apply(String result) {
        if (!filter) {
            String text = PythonStrings.strip(result);
            return text.isEmpty() ? Result.fail("empty") : Result.ok(text);
        }
        if (!result.contains("Human")) return Result.fail("no_human_turn");
        result = result.substring(0, result.indexOf("Human"));
        if (!result.contains("\n") && !result.contains(eosText)) return Result.fail("no_newline_or_eos");
        if (result.contains("\n")) result = PythonStrings.strip(result.substring(0, result.lastIndexOf('\n')));
        if (result.contains(eosText)) result = PythonStrings.strip(result.substring(0, result.indexOf(eosText)));
        if (result.contains("Assistant:")) {
            result = PythonStrings.strip(result.substring(result.indexOf("Assistant:") + "Assistant:".length()));
        }
        if (result.isEmpty()) return Result.fail("empty");
        return Result.ok(result);
    }
}
