package rlcd4j.data;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import rlcd4j.util.Json;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * The prompts a simulation runs on: a Tablesaw table with columns {@code id}, {@code task}, {@code prompt},
 * {@code response_prefix} and {@code source_line}.
 *
 * <p>{@code prompt} is the conversation, ending with {@code Assistant:}; {@code response_prefix} is text the policy
 * prompt continues with after it (empty for HH-RLHF; {@code " Here is a possible outline:\n\n1."} for our outline
 * prompts). The policy input is {@code prompt + response_prefix}.
 */
public final class PromptSet {
    /** One prompt. {@code sourceLine} is the 1-based line in the source file (0 when made in memory). */
    public record Entry(int id, String prompt, String responsePrefix, int sourceLine) {
        public String policyPrompt() {
            return prompt + responsePrefix;
        }
    }

    private final String task;
    private final String source;
    private final List<Entry> entries;
    private final List<BadLine> skipped;

    private PromptSet(String task, String source, List<Entry> entries, List<BadLine> skipped) {
        this.task = task;
        this.source = source;
        this.entries = List.copyOf(entries);
        this.skipped = List.copyOf(skipped);
        Set<Integer> seen = new HashSet<>();
        for (Entry e : this.entries) {
            if (!seen.add(e.id())) throw new RlcdException(source + ": duplicate prompt id " + e.id());
        }
    }

    static PromptSet of(String task, String source, List<Entry> entries, List<BadLine> skipped) {
        return new PromptSet(task, source, entries, skipped);
    }

    /** Prompts read or made elsewhere (e.g. {@code rlcd ppo}'s prompt file); ids must be distinct. */
    public static PromptSet of(String task, String source, List<Entry> entries) {
        return new PromptSet(task, source, entries, List.of());
    }

    /** In-memory prompts, ids 0..n-1, no response prefix. */
    public static PromptSet of(String task, List<String> prompts) {
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) entries.add(new Entry(i, prompts.get(i), "", 0));
        return new PromptSet(task, "memory", entries, List.of());
    }

    /**
     * Reads a prompt file ({@code .jsonl} / {@code .jsonl.gz}), leniently: each line is a JSON object with
     * {@code chosen} (an HH-RLHF row: the paper's prompt extraction), or {@code premise} (our outline template,
     * {@link OutlinePremises}), or {@code prompt} (used as is, with optional {@code response_prefix}). An optional
     * integer {@code id} is kept; otherwise the id is the 0-based index of the line among non-blank lines. Bad lines
     * are skipped and listed in {@link #skipped()}.
     */
    public static PromptSet load(Path file, String task) {
        return load(file, task, false);
    }

    public static PromptSet load(Path file, String task, boolean strict) {
        String name = file.toString();
        List<DataFiles.Line> lines = JsonlLines.read(file);
        if (lines.isEmpty()) throw new RlcdException(name + ": empty file (no JSON lines)");
        List<Entry> entries = new ArrayList<>();
        List<BadLine> skipped = new ArrayList<>();
        Set<Integer> ids = new HashSet<>();
        for (int idx = 0; idx < lines.size(); idx++) {
            DataFiles.Line l = lines.get(idx);
            try {
                Entry e = parse(l, idx);
                if (!ids.add(e.id())) throw new IllegalArgumentException("duplicate id " + e.id());
                entries.add(e);
            } catch (IllegalArgumentException ex) {
                if (strict) throw RlcdException.at(name, l.number(), ex.getMessage());
                skipped.add(new BadLine(name, l.number(), ex.getMessage()));
            }
        }
        if (entries.isEmpty()) {
            throw new RlcdException(
                    name + ": no usable prompts; " + skipped.size() + " bad line(s), first: " + skipped.get(0));
        }
        return new PromptSet(task, name, entries, skipped);
    }

    private static Entry parse(DataFiles.Line l, int idx) {
        JsonObject o = Json.parseObject(l.text());
        int id = idx;
        JsonElement idEl = o.get("id");
        if (idEl != null && !idEl.isJsonNull()) {
            if (!idEl.isJsonPrimitive() || !idEl.getAsJsonPrimitive().isNumber()) {
                throw new IllegalArgumentException("field 'id' must be an integer");
            }
            double d = idEl.getAsDouble();
            if (d != Math.rint(d) || d < 0 || d > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("field 'id' must be a non-negative integer, got " + idEl);
            }
            id = (int) d;
        }
        String prompt = Json.string(o, "prompt");
        if (prompt != null) {
            String prefix = Json.string(o, "response_prefix");
            if (prompt.isBlank()) throw new IllegalArgumentException("empty 'prompt'");
            return new Entry(id, prompt, prefix == null ? "" : prefix, l.number());
        }
        String chosen = Json.string(o, "chosen");
        if (chosen != null) return new Entry(id, HhRlhf.extractPrompt(chosen), "", l.number());
        String premise = Json.string(o, "premise");
        if (premise != null) {
            if (premise.isBlank()) throw new IllegalArgumentException("empty 'premise'");
            return new Entry(id, OutlinePremises.conversation(premise), OutlinePremises.RESPONSE_PREFIX, l.number());
        }
        throw new IllegalArgumentException("expected a 'chosen' (HH-RLHF), 'premise' or 'prompt' field");
    }

    public String task() {
        return task;
    }
    /** Where the prompts came from (a file path, or "memory"). */
    public String source() {
        return source;
    }

    public List<Entry> entries() {
        return entries;
    }

    public int size() {
        return entries.size();
    }

    public Entry get(int i) {
        return entries.get(i);
    }
    /** Lines a lenient read skipped, each "FILE:LINE: reason". */
    public List<BadLine> skipped() {
        return skipped;
    }

    /** The first {@code n} prompts. */
    public PromptSet limit(int n) {
        if (n < 0) throw new RlcdException("--limit must be >= 0, got " + n);
        return new PromptSet(task, source, entries.subList(0, Math.min(n, entries.size())), skipped);
    }

    /** Shard {@code i} of {@code n}: the prompts whose id % n == i (the official script's --indices-mod/--indices-remainder). */
    public PromptSet shard(int i, int n) {
        if (n < 1 || i < 0 || i >= n) throw new RlcdException("shard must be i/n with 0 <= i < n, got " + i + "/" + n);
        return new PromptSet(
                task, source, entries.stream().filter(e -> e.id() % n == i).toList(), skipped);
    }

    /** Prompts with {@code from <= id < to}. */
    public PromptSet ids(int from, int to) {
        return new PromptSet(
                task,
                source,
                entries.stream().filter(e -> e.id() >= from && e.id() < to).toList(),
                skipped);
    }

    /** Parses "i/n" as used by {@code --shard}. */
    public static int[] parseShard(String spec) {
        String[] p = spec.trim().split("/");
        try {
            if (p.length == 2) return new int[] {Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim())};
        } catch (NumberFormatException ignored) {
            // falls through to the message below
        }
        throw new RlcdException("--shard: expected i/n (e.g. 0/4), got '" + spec + "'");
    }

    public Table table() {
        IntColumn id = IntColumn.create("id"), line = IntColumn.create("source_line");
        StringColumn t = StringColumn.create("task"),
                p = StringColumn.create("prompt"),
                pre = StringColumn.create("response_prefix");
        for (Entry e : entries) {
            id.append(e.id());
            t.append(task);
            p.append(e.prompt());
            pre.append(e.responsePrefix());
            line.append(e.sourceLine());
        }
        return Table.create(task + " prompts", id, t, p, pre, line);
    }

    @Override
    public String toString() {
        return "PromptSet[" + task + ", " + entries.size() + " prompts from " + source
                + (skipped.isEmpty() ? "" : ", " + skipped.size() + " bad lines skipped") + "]";
    }
}
