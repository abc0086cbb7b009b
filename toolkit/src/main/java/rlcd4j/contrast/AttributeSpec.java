package rlcd4j.contrast;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import rlcd4j.data.DataFiles;
import rlcd4j.util.RlcdException;

/**
 * What RLCD contrasts: the description pairs (one is drawn per conversation) and the RLAIF scoring instructions,
 * either aligned with the pairs by index (as harmlessness's 16 principles are) or a single one used for all.
 *
 * <pre>{@code
 * AttributeSpec h = AttributeSpec.harmlessness();                                  // the paper's 16 pairs + 16 principles
 * AttributeSpec c = AttributeSpec.of("concise", List.of(pair("(concise response)", "(verbose response)")))
 *                                .withInstructions("Please choose the response that is more concise.");
 * }</pre>
 */
public record AttributeSpec(String name, List<DescriptionPair> pairs, List<String> instructions) {
    public AttributeSpec {
        Objects.requireNonNull(name, "name");
        pairs = List.copyOf(pairs);
        instructions = List.copyOf(instructions);
        if (pairs.isEmpty()) throw new RlcdException("attribute spec '" + name + "' has no description pairs");
        if (!instructions.isEmpty() && instructions.size() != 1 && instructions.size() != pairs.size()) {
            throw new RlcdException(
                    "attribute spec '" + name + "': " + instructions.size() + " instructions for " + pairs.size()
                            + " description pairs; expected 1 (shared) or " + pairs.size() + " (aligned by index)");
        }
    }

    /** A user-defined spec without RLAIF instructions (enough for {@code rlcd}); add them with {@link #withInstructions}. */
    public static AttributeSpec of(String name, List<DescriptionPair> pairs) {
        return new AttributeSpec(name, pairs, List.of());
    }

    public AttributeSpec withInstructions(String... instructions) {
        return new AttributeSpec(name, pairs, List.of(instructions));
    }

    public AttributeSpec withInstructions(List<String> instructions) {
        return new AttributeSpec(name, pairs, instructions);
    }

    /** The paper's 16 harmlessness pairs and the 16 Constitutional-AI principles (verbatim, bundled data files). */
    public static AttributeSpec harmlessness() {
        return bundled("harmlessness");
    }

    /** The paper's helpfulness pair and instruction. */
    public static AttributeSpec helpfulness() {
        return bundled("helpfulness");
    }

    /** Outlining: 3 pairs and 3 instructions of our own (the paper's were not published). */
    public static AttributeSpec outline() {
        return bundled("outline");
    }

    /** The built-in spec of a task: {@code harmlessness|helpfulness|outline} (the official script's {@code harmless|helpful} also accepted). */
    public static AttributeSpec forTask(String task) {
        return switch (canonicalTask(task)) {
            case "harmlessness" -> harmlessness();
            case "helpfulness" -> helpfulness();
            default -> outline();
        };
    }

    /** Normalises a task name; throws for an unknown one. */
    public static String canonicalTask(String task) {
        String t = task.trim().toLowerCase(Locale.ROOT);
        return switch (t) {
            case "harmlessness", "harmless" -> "harmlessness";
            case "helpfulness", "helpful" -> "helpfulness";
            case "outline", "outlining" -> "outline";
            default ->
                throw new RlcdException("unknown task '" + task + "'; expected harmlessness, helpfulness or outline");
        };
    }

    private static AttributeSpec bundled(String name) {
        return new AttributeSpec(
                name,
                parsePairs(
                        "datasets/descriptions/" + name + ".tsv", DataFiles.bundled("descriptions/" + name + ".tsv")),
                parseInstructions(DataFiles.bundled("principles/" + name + ".txt")));
    }

    /**
     * Loads a spec from files: a TSV of pairs (header {@code positive<TAB>negative}, one pair per line, '#' comments)
     * and, optionally (null), a text file of instructions (one per line, '#' comments).
     */
    public static AttributeSpec load(String name, Path descriptionsTsv, Path instructionsTxt) {
        List<DescriptionPair> pairs = parsePairs(descriptionsTsv.toString(), DataFiles.file(descriptionsTsv));
        List<String> instructions =
                instructionsTxt == null ? List.of() : parseInstructions(DataFiles.file(instructionsTxt));
        return new AttributeSpec(name, pairs, instructions);
    }

    static List<DescriptionPair> parsePairs(String file, List<DataFiles.Line> lines) {
        List<DataFiles.Line> content = DataFiles.content(lines);
        if (content.isEmpty()) throw new RlcdException(file + ": no description pairs (empty file)");
        DataFiles.Line header = content.get(0);
        if (!header.text().equals("positive\tnegative")) {
            throw RlcdException.at(
                    file, header.number(), "expected the header 'positive<TAB>negative', got '" + header.text() + "'");
        }
        List<DescriptionPair> pairs = new ArrayList<>();
        for (DataFiles.Line l : content.subList(1, content.size())) {
            String[] f = l.text().split("\t", -1);
            if (f.length != 2 || f[0].isEmpty() || f[1].isEmpty()) {
                throw RlcdException.at(
                        file,
                        l.number(),
                        "expected 'positive description<TAB>negative description', got " + f.length + " field(s)");
            }
            pairs.add(new DescriptionPair(f[0], f[1]));
        }
        if (pairs.isEmpty()) throw new RlcdException(file + ": a header but no description pairs");
        return pairs;
    }

    static List<String> parseInstructions(List<DataFiles.Line> lines) {
        return DataFiles.content(lines).stream().map(DataFiles.Line::text).toList();
    }

    public int size() {
        return pairs.size();
    }

    public DescriptionPair pair(int index) {
        return pairs.get(index);
    }

    public boolean hasInstructions() {
        return !instructions.isEmpty();
    }

    /** The instruction RLCD-Rescore uses for a pair: the one of the same index, or the single shared one. */
    public int instructionIndexFor(int pairIndex) {
        requireInstructions();
        return instructions.size() == 1 ? 0 : pairIndex;
    }

    public String instruction(int index) {
        requireInstructions();
        return instructions.get(index);
    }

    void requireInstructions() {
        if (instructions.isEmpty()) {
            throw new RlcdException(
                    "attribute spec '" + name + "' has no RLAIF instructions; rlaif and rlcd-rescore need "
                            + "them (AttributeSpec.withInstructions(...) or an instructions file)");
        }
    }
}
