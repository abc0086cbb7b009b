package rlcd4j.data;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import rlcd4j.util.Json;
import rlcd4j.util.PythonRandom;
import rlcd4j.util.RlcdException;

/**
 * rlcd4j's own open premise set for the outlining task, and the outline prompt format.
 *
 * <p>The paper's 40,000 story premises (about 10–40 tokens each) were never released. Ours are generated: one of six
 * sentence templates filled with a character, a setting, a goal and a complication drawn from the word lists in
 * {@code datasets/outline/premise_parts.json} (written for rlcd4j), with {@link PythonRandom} seeded by {@code seed};
 * duplicates are dropped and only premises of {@value #MIN_WORDS}..{@value #MAX_WORDS} words are kept (about 10–40
 * LLaMA tokens). {@code datasets/outline/premises.jsonl} is {@code generate(1000, 0)}; a test checks it is.
 *
 * <p>Prompt format (our inference; the paper's template was not released): the conversation
 * {@code "Human: Write an outline for a story with the following premise: {premise}\n\nAssistant:"} followed by the
 * response prefix {@code " Here is a possible outline:\n\n1."}. The reference's evidence: the official GPT-4 comparison
 * script prefixes outline outputs with {@code "Assistant: Here is a possible outline:\n1. "}.
 */
public final class OutlinePremises {
    private OutlinePremises() {}

    public static final String CONVERSATION_TEMPLATE =
            "Human: Write an outline for a story with the following premise: {premise}\n\nAssistant:";
    public static final String RESPONSE_PREFIX = " Here is a possible outline:\n\n1.";
    public static final int MIN_WORDS = 8, MAX_WORDS = 30;
    /** The seed and size of the committed {@code datasets/outline/premises.jsonl}. */
    public static final long BUNDLED_SEED = 0;

    public static final int BUNDLED_SIZE = 1000;

    /** The outline conversation for a premise (without the response prefix). */
    public static String conversation(String premise) {
        return CONVERSATION_TEMPLATE.replace("{premise}", premise.strip());
    }

    /** {@code n} distinct premises, reproducible from {@code seed}. */
    public static List<String> generate(int n, long seed) {
        JsonObject parts = Json.parseObject(String.join(
                "\n",
                DataFiles.bundled("outline/premise_parts.json").stream()
                        .map(DataFiles.Line::text)
                        .toList()));
        List<String> characters = list(parts, "characters"),
                settings = list(parts, "settings"),
                goals = list(parts, "goals"),
                deadlines = list(parts, "deadlines"),
                obstacles = list(parts, "obstacles"),
                events = list(parts, "events"),
                twists = list(parts, "twists"),
                companions = list(parts, "companions");
        PythonRandom rng = new PythonRandom(seed);
        Set<String> out = new LinkedHashSet<>();
        int attempts = 0;
        while (out.size() < n) {
            if (++attempts > 100 * (n + 10))
                throw new RlcdException("cannot make " + n + " distinct premises from the word lists");
            String c = rng.choice(characters), s = rng.choice(settings), g = rng.choice(goals);
            String p = switch (rng.choiceIndex(6)) {
                case 0 ->
                    c + " " + s + " must " + g + " " + rng.choice(deadlines) + ", but " + rng.choice(obstacles) + ".";
                case 1 ->
                    "When " + rng.choice(events) + ", " + c + " " + s + " sets out to " + g + ", only to discover that "
                            + rng.choice(twists) + ".";
                case 2 ->
                    c + " " + s + " teams up with " + rng.choice(companions) + " to " + g + ", but "
                            + rng.choice(obstacles) + ".";
                case 3 -> c + " " + s + " tries to " + g + ".";
                case 4 -> c + " must " + g + ", but " + rng.choice(obstacles) + ".";
                default ->
                    "After " + rng.choice(events) + ", " + c + " " + s + " has to " + g + " " + rng.choice(deadlines)
                            + ".";
            };
            p = Character.toUpperCase(p.charAt(0)) + p.substring(1);
            int words = p.split("\\s+").length;
            if (words >= MIN_WORDS && words <= MAX_WORDS) out.add(p);
        }
        return new ArrayList<>(out);
    }

    /** Writes premises as JSONL: {@code {"id": i, "premise": "..."}} per line. */
    public static void write(Path file, List<String> premises) {
        try {
            if (file.getParent() != null) Files.createDirectories(file.getParent());
            try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
                for (int i = 0; i < premises.size(); i++) {
                    JsonObject o = new JsonObject();
                    o.addProperty("id", i);
                    o.addProperty("premise", premises.get(i));
                    w.write(Json.write(o));
                    w.write('\n');
                }
            }
        } catch (IOException e) {
            throw new RlcdException(file + ": cannot write (" + e.getMessage() + ")", e);
        }
    }

    /** The committed premise set as outline prompts (task {@code outline}). */
    public static PromptSet bundled() {
        List<DataFiles.Line> lines = DataFiles.bundled("outline/premises.jsonl");
        List<PromptSet.Entry> entries = new ArrayList<>();
        for (DataFiles.Line l : lines) {
            if (l.text().isBlank()) continue;
            JsonObject o = Json.parseObject(l.text());
            entries.add(new PromptSet.Entry(
                    o.get("id").getAsInt(), conversation(Json.string(o, "premise")), RESPONSE_PREFIX, l.number()));
        }
        return PromptSet.of("outline", "rlcd4j/datasets/outline/premises.jsonl", entries, List.of());
    }

    private static List<String> list(JsonObject parts, String key) {
        JsonArray a = parts.getAsJsonArray(key);
        if (a == null || a.isEmpty()) throw new RlcdException("premise_parts.json: missing list '" + key + "'");
        List<String> out = new ArrayList<>();
        a.forEach(e -> out.add(e.getAsString()));
        return out;
    }
}
