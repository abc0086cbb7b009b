package rlcd4j.sandbox;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import rlcd4j.util.RlcdException;

/**
 * The description pairs the pretraining corpus attaches to a minority of assistant turns, read from
 * the RLCD method's own description files (see {@link #standard()}). Harmlessness and
 * helpfulness repeat the paper's pairs verbatim; the outline pairs are the sandbox's own.
 */
public final class SandboxDescriptions {
    /** One pair: {@code positive} goes with good answers, {@code negative} with bad ones. Both include the parentheses. */
    public record Pair(SandboxTask task, int index, String positive, String negative, String source) {}

    private final Map<SandboxTask, List<Pair>> pairs;

    private SandboxDescriptions(Map<SandboxTask, List<Pair>> pairs) {
        this.pairs = pairs;
    }

    /**
     * The pairs of the RLCD method itself ({@code datasets/descriptions/*.tsv}): the sandbox's corpus uses exactly the
     * descriptions that contrastive prompts will insert, as LLaMA's pretraining text used the words RLCD chose.
     */
    public static SandboxDescriptions standard() {
        Map<SandboxTask, List<Pair>> byTask = new EnumMap<>(SandboxTask.class);
        byTask.put(SandboxTask.HARMLESS, pairsOf(SandboxTask.HARMLESS, rlcd4j.contrast.AttributeSpec.harmlessness()));
        byTask.put(SandboxTask.HELPFUL, pairsOf(SandboxTask.HELPFUL, rlcd4j.contrast.AttributeSpec.helpfulness()));
        byTask.put(SandboxTask.OUTLINE, pairsOf(SandboxTask.OUTLINE, rlcd4j.contrast.AttributeSpec.outline()));
        return new SandboxDescriptions(byTask);
    }

    private static List<Pair> pairsOf(SandboxTask task, rlcd4j.contrast.AttributeSpec spec) {
        List<Pair> out = new ArrayList<>();
        for (int i = 0; i < spec.size(); i++) {
            out.add(new Pair(
                    task,
                    i,
                    spec.pair(i).positive(),
                    spec.pair(i).negative(),
                    "datasets/descriptions (" + spec.name() + ")"));
        }
        return out;
    }

    /** A user's own pairs: a TSV with columns task, index, positive, negative[, source]. */
    public static SandboxDescriptions read(Path file) {
        try {
            return parse(file.toString(), Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new RlcdException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    static SandboxDescriptions parse(String name, String text) {
        Map<SandboxTask, List<Pair>> byTask = new EnumMap<>(SandboxTask.class);
        for (SandboxTask t : SandboxTask.values()) byTask.put(t, new ArrayList<>());
        String[] lines = text.split("\n", -1);
        boolean header = false;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].replace("\r", "");
            if (line.isBlank() || line.startsWith("#")) continue;
            String[] f = line.split("\t", -1);
            if (!header) {
                if (!line.startsWith("task\tindex\tpositive\tnegative"))
                    throw RlcdException.at(
                            name, i + 1, "expected the header 'task<TAB>index<TAB>positive<TAB>negative<TAB>source'");
                header = true;
                continue;
            }
            if (f.length < 4)
                throw RlcdException.at(name, i + 1, "expected 4 or 5 tab-separated fields, found " + f.length);
            SandboxTask task;
            try {
                task = SandboxTask.of(f[0]);
            } catch (RlcdException e) {
                throw RlcdException.at(name, i + 1, e.getMessage());
            }
            int index;
            try {
                index = Integer.parseInt(f[1]);
            } catch (NumberFormatException e) {
                throw RlcdException.at(name, i + 1, "index '" + f[1] + "' is not an integer");
            }
            List<Pair> list = byTask.get(task);
            if (index != list.size())
                throw RlcdException.at(
                        name, i + 1, "index " + index + " out of order for task " + task + ": expected " + list.size());
            for (String d : new String[] {f[2], f[3]})
                if (!d.startsWith("(") || !d.endsWith(")") || d.contains(":") || d.contains("\n"))
                    throw RlcdException.at(name, i + 1, "description '" + d + "' must be '(...)' without ':'");
            list.add(new Pair(task, index, f[2], f[3], f.length > 4 ? f[4] : ""));
        }
        for (var e : byTask.entrySet())
            if (e.getValue().isEmpty()) throw new RlcdException(name + ": no description pairs for task " + e.getKey());
        if (byTask.get(SandboxTask.OUTLINE).size() != 3)
            throw new RlcdException(
                    name + ": outline needs exactly 3 pairs (interestingness, well-formedness, relevance)");
        return new SandboxDescriptions(byTask);
    }

    public List<Pair> pairs(SandboxTask task) {
        return List.copyOf(pairs.get(task));
    }

    public Pair pair(SandboxTask task, int index) {
        return pairs.get(task).get(index);
    }
}
