package rlcd4j.data;

import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import rlcd4j.util.Json;
import rlcd4j.util.PythonStrings;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Anthropic's HH-RLHF files ({@code harmless-base}, {@code helpful-base}; {@code .jsonl} or {@code .jsonl.gz}; one
 * {@code {"chosen": ..., "rejected": ...}} per line).
 *
 * <p>A prompt is the {@code chosen} conversation cut just after its last {@code Assistant:} and stripped, as the
 * official scripts do. A row's {@code id} is its 0-based index among the file's non-blank lines (a skipped bad line
 * keeps its index, so later ids stay file row indices); the paper's evaluation split is {@link #dev()} = ids 0..999 and
 * {@link #test()} = ids 1000..1999 of the test file.
 *
 * <pre>{@code
 * HhRlhf test = HhRlhf.read(Path.of("harmless-base/test.jsonl.gz"));      // lenient: bad lines skipped, see skipped()
 * PromptSet dev = test.dev().prompts("harmlessness");
 * }</pre>
 *
 * The Hub copy is dataset {@value #HUB_REPO}, file {@link #hubFilename}; downloading it is the engine's Hub/cache code's
 * job (see docs/data.md), after which this class reads the local file.
 */
public final class HhRlhf {
    /** The Hugging Face Hub dataset repository. */
    public static final String HUB_REPO = "Anthropic/hh-rlhf";

    /** One conversation pair. {@code rejected} may be null when the file has none (prompts need only {@code chosen}). */
    public record Row(int id, int sourceLine, String chosen, String rejected) {
        public String prompt() {
            return extractPrompt(chosen);
        }
    }

    private final String file;
    private final List<Row> rows;
    private final List<BadLine> skipped;

    private HhRlhf(String file, List<Row> rows, List<BadLine> skipped) {
        this.file = file;
        this.rows = List.copyOf(rows);
        this.skipped = List.copyOf(skipped);
    }

    /** The file name inside {@value #HUB_REPO} for a subset and split, e.g. {@code harmless-base/test.jsonl.gz}. */
    public static String hubFilename(String subset, String split) {
        if (!subset.matches("[a-z-]+") || !(split.equals("train") || split.equals("test"))) {
            throw new RlcdException(
                    "unknown HH-RLHF file '" + subset + "/" + split
                            + "'; expected e.g. harmless-base/train, harmless-base/test, helpful-base/train, helpful-base/test");
        }
        return subset + "/" + split + ".jsonl.gz";
    }

    /** The paper's prompt extraction: {@code chosen[:chosen.rindex('Assistant:')+len('Assistant:')].strip()}. */
    public static String extractPrompt(String chosen) {
        int i = chosen.lastIndexOf("Assistant:");
        if (i < 0) throw new IllegalArgumentException("the conversation has no 'Assistant:' turn");
        return PythonStrings.strip(chosen.substring(0, i + "Assistant:".length()));
    }

    /** Lenient read: malformed lines and conversations without {@code Assistant:} are skipped and listed in {@link #skipped()}. */
    public static HhRlhf read(Path file) {
        return read(file, false);
    }

    /** Strict read: the first bad line throws an {@link RlcdException} naming the file and line. */
    public static HhRlhf readStrict(Path file) {
        return read(file, true);
    }

    public static HhRlhf read(Path file, boolean strict) {
        String name = file.toString();
        List<DataFiles.Line> lines = JsonlLines.read(file);
        if (lines.isEmpty()) throw new RlcdException(name + ": empty file (no JSON lines)");
        List<Row> rows = new ArrayList<>();
        List<BadLine> skipped = new ArrayList<>();
        for (int idx = 0; idx < lines.size(); idx++) {
            DataFiles.Line l = lines.get(idx);
            try {
                JsonObject o = Json.parseObject(l.text());
                String chosen = Json.string(o, "chosen");
                if (chosen == null) throw new IllegalArgumentException("no 'chosen' field");
                String rejected = Json.string(o, "rejected");
                extractPrompt(chosen);
                rows.add(new Row(idx, l.number(), chosen, rejected));
            } catch (IllegalArgumentException e) {
                if (strict) throw RlcdException.at(name, l.number(), e.getMessage());
                skipped.add(new BadLine(name, l.number(), e.getMessage()));
            }
        }
        if (rows.isEmpty()) {
            throw new RlcdException(
                    name + ": no usable rows; " + skipped.size() + " bad line(s), first: " + skipped.get(0));
        }
        return new HhRlhf(name, rows, skipped);
    }

    public String file() {
        return file;
    }

    public List<Row> rows() {
        return rows;
    }

    public int size() {
        return rows.size();
    }
    /** Lines skipped by a lenient read, each "FILE:LINE: reason". */
    public List<BadLine> skipped() {
        return skipped;
    }

    /** Rows with {@code from <= id < to}. */
    public HhRlhf ids(int from, int to) {
        return new HhRlhf(
                file, rows.stream().filter(r -> r.id() >= from && r.id() < to).toList(), skipped);
    }

    /** The paper's dev split of a test file: rows 0..999. */
    public HhRlhf dev() {
        return ids(0, 1000);
    }

    /** The paper's test split of a test file: rows 1000..1999. */
    public HhRlhf test() {
        return ids(1000, 2000);
    }

    /** The prompts, as a prompt set of the given task ({@code harmlessness} or {@code helpfulness}). */
    public PromptSet prompts(String task) {
        List<PromptSet.Entry> entries = new ArrayList<>();
        for (Row r : rows) entries.add(new PromptSet.Entry(r.id(), r.prompt(), "", r.sourceLine()));
        return PromptSet.of(task, file, entries, skipped);
    }

    /**
     * The human-labelled pairs, for agreement of a preference model with human labels: columns {@code id},
     * {@code prompt}, {@code chosen}, {@code rejected} (the full conversations, as in the files).
     */
    public Table pairs() {
        IntColumn id = IntColumn.create("id");
        StringColumn prompt = StringColumn.create("prompt"),
                chosen = StringColumn.create("chosen"),
                rejected = StringColumn.create("rejected");
        for (Row r : rows) {
            if (r.rejected() == null)
                throw RlcdException.at(file, r.sourceLine(), "no 'rejected' field (needed for pairs)");
            id.append(r.id());
            prompt.append(r.prompt());
            chosen.append(r.chosen());
            rejected.append(r.rejected());
        }
        return Table.create("hh-rlhf pairs", id, prompt, chosen, rejected);
    }
}
