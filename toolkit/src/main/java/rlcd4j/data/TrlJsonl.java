package rlcd4j.data;

import com.google.gson.JsonObject;
import rlcd4j.util.RlcdException;
import rlcd4j.util.Json;
import tech.tablesaw.api.Table;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Preference pairs as JSONL in the {@code prompt} / {@code chosen} / {@code rejected} layout Python's TRL reads
 * (its "standard" explicit-prompt preference format).
 *
 * <p>Only {@code ok} rows. {@code prompt} is the policy prompt (ending with {@code Assistant:} or the response
 * prefix); {@code chosen} and {@code rejected} are the responses with one leading space, so that prompt + completion
 * reads as the conversation does (HH-RLHF's own layout, and the paper's reward-model text
 * {@code instruction + ' ' + output}). TRL has no soft-label field: {@code chosen} is the preferred response
 * (P(chosen) >= 0.5 by construction of the pairs table) and the probability is not exported.
 */
public final class TrlJsonl {
    private TrlJsonl() {}

    public static void write(Table pairs, Path out) {
        try {
            if (out.getParent() != null) Files.createDirectories(out.getParent());
            try (Writer w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
                for (PairRow r : PairsTable.rows(pairs)) {
                    if (!r.ok()) continue;
                    JsonObject o = new JsonObject();
                    o.addProperty("prompt", r.prompt());
                    o.addProperty("chosen", " " + r.chosen());
                    o.addProperty("rejected", " " + r.rejected());
                    w.write(Json.write(o));
                    w.write('\n');
                }
            }
        } catch (IOException e) {
            throw new RlcdException(out + ": cannot write (" + e.getMessage() + ")", e);
        }
    }

    /** Reads TRL preference JSONL (strictly: a bad line throws naming the file and line); one leading space is removed. */
    public static Table read(Path file, String task, String method) {
        List<DataFiles.Line> lines = JsonlLines.read(file);
        if (lines.isEmpty()) throw new RlcdException(file + ": empty file (no JSON lines)");
        List<PairRow> rows = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            DataFiles.Line l = lines.get(i);
            try {
                JsonObject o = Json.parseObject(l.text());
                String prompt = Json.string(o, "prompt"), chosen = Json.string(o, "chosen"), rejected = Json.string(o, "rejected");
                if (prompt == null || chosen == null || rejected == null) {
                    throw new IllegalArgumentException("expected string fields 'prompt', 'chosen' and 'rejected'");
                }
                rows.add(new PairRow(i, task, method, prompt, "", "", "", -1, -1, "", "", "", "", Double.NaN, Double.NaN,
                        Double.NaN, Double.NaN, PairRow.PLANNED, -1, "").withRlcdResult(unspace(chosen), unspace(rejected), -1));
            } catch (IllegalArgumentException e) {
                throw RlcdException.at(file, l.number(), e.getMessage());
            }
        }
        return PairsTable.toTable(file.getFileName().toString(), rows);
    }

    private static String unspace(String s) {
        return s.startsWith(" ") ? s.substring(1) : s;
    }
}
