package rlcd4j.eval;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import rlcd4j.util.PythonStrings;
import rlcd4j.util.RlcdException;

/**
 * The paper's pairwise judge prompt ({@code format_prompt} in the official {@code scripts/gpt4_compare.py}), built
 * character for character from the verbatim pieces in {@code datasets/judge/gpt4_compare.json}:
 * <ol>
 *   <li>in the instruction, runs of newlines collapse to one, then {@code "\nHuman:"} and {@code "\nAssistant:"} get their
 *       blank line back; the instruction is cut at its last {@code "Assistant:"} and stripped;</li>
 *   <li>in each output, runs of newlines collapse to one;</li>
 *   <li>{@code intro + instruction + header + "Assistant: " + first + "\n\n(B) " + "Assistant: " + second + QUESTION},
 *       where the outline task prefixes {@code "Assistant: Here is a possible outline:\n1. "} instead.</li>
 * </ol>
 */
public final class JudgePrompt {
    /** Classpath location of the prompt pieces (the repository's {@code datasets/judge/gpt4_compare.json}). */
    public static final String RESOURCE = "rlcd4j/datasets/judge/gpt4_compare.json";

    /** The paper's four judged attributes, named as the script's {@code --prompt-format} values. */
    public enum Task {
        /** Harmlessness (on harmless prompts). */
        HARMLESS("harmless"),
        /** Helpfulness on harmless prompts. */
        HARMLESS_HELPFUL("harmless_helpful"),
        /** Helpfulness on the helpfulness task. */
        HELPFUL("helpful"),
        /** Outline quality (commented out in the official script; used for the outlining task). */
        OUTLINE("outline");

        private final String key;

        Task(String key) {
            this.key = key;
        }

        /** The name used in the data file and on the command line. */
        public String key() {
            return key;
        }

        /** Parses {@code harmless}, {@code harmless_helpful}, {@code helpful} or {@code outline} (case-insensitive, '-' or '_'). */
        public static Task parse(String s) {
            String k = s.trim().toLowerCase(Locale.ROOT).replace('-', '_');
            for (Task t : values()) if (t.key.equals(k)) return t;
            throw new RlcdException(
                    "judge task '" + s + "': expected one of harmless, harmless_helpful, helpful, outline");
        }

        @Override
        public String toString() {
            return key;
        }
    }

    private static final JsonObject PIECES = load();

    private JudgePrompt() {}

    /** {@code "You are an intelligent AI assistant."} */
    public static String system() {
        return piece("system");
    }

    /** The paper's judge model name ({@code gpt-4-0314}; retired by OpenAI, so pass your own). */
    public static String paperModel() {
        return piece("model");
    }

    /** The QUESTION text of a task, with its four leading newlines. */
    public static String question(Task task) {
        return PIECES.getAsJsonObject("questions").get(task.key()).getAsString();
    }

    /**
     * The user message for one comparison: {@code first} is shown as (A), {@code second} as (B).
     *
     * @throws RlcdException when the instruction has no {@code "Assistant:"} to cut at (the paper's prompts all end in one)
     */
    public static String build(Task task, String instruction, String first, String second) {
        String conv = PythonStrings.collapseBlankLines(instruction)
                .replace("\nHuman:", "\n\nHuman:")
                .replace("\nAssistant:", "\n\nAssistant:");
        int cut = conv.lastIndexOf("Assistant:");
        if (cut < 0)
            throw new RlcdException(
                    "judge prompt: the instruction has no 'Assistant:' turn to cut at (expected a conversation such as "
                            + "\"\\n\\nHuman: ...\\n\\nAssistant:\"): " + Outputs.abbreviate(instruction));
        String prefix = piece(task == Task.OUTLINE ? "outline_response_prefix" : "response_prefix");
        return piece("intro")
                + PythonStrings.strip(conv.substring(0, cut))
                + piece("responses_header")
                + prefix
                + PythonStrings.collapseBlankLines(first)
                + piece("between_responses")
                + prefix
                + PythonStrings.collapseBlankLines(second)
                + question(task);
    }

    private static String piece(String name) {
        return PIECES.get(name).getAsString();
    }

    private static JsonObject load() {
        try (InputStream in = JudgePrompt.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            if (in == null)
                throw new RlcdException("classpath resource " + RESOURCE + " is missing (is datasets/ packaged?)");
            return JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8))
                    .getAsJsonObject();
        } catch (IOException e) {
            throw new RlcdException("cannot read " + RESOURCE + ": " + e.getMessage(), e);
        }
    }
}
