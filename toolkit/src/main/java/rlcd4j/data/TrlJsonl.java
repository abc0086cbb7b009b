package rlcd4j.data;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import rlcd4j.util.Json;
import rlcd4j.util.RlcdException;

/**
 * Preference pairs as JSONL in the {@code prompt} / {@code chosen} / {@code rejected} layout Python's TRL reads
 * (its "standard" explicit-prompt preference format).
 *
 * <p>Only {@code ok} rows. {@code prompt} is the policy prompt (ending with {@code Assistant:} or the response
 * prefix); {@code chosen} and {@code rejected} are the responses with one leading space, so that prompt + completion
 * reads as the conversation does (HH-RLHF's own layout, and the paper's reward-model text
 * {@code instruction + ' ' + output}). TRL has no soft-label field: {@code chosen} is the preferred response
 * (P(chosen) >= 0.5 by construction of the pairs table) and the probability is not exported. Reading accepts an
 * optional numeric {@code p_chosen} (the label train-pm has always read from such files; 1 when absent).
 */
public final class TrlJsonl {
    private TrlJsonl() {}

    public static void write(PreferencePairs pairs, Path out) {
        try {
            if (out.getParent() != null) Files.createDirectories(out.getParent());
            try (Writer w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
                for (PairRow r : pairs.kept().rows()) {
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

    /**
     * Reads TRL preference JSONL (strictly: a bad line throws naming the file, line and field); one leading space is
     * removed.
     */
    public static PreferencePairs read(Path file, String task, String method) {
        List<DataFiles.Line> lines = JsonlLines.read(file);
        if (lines.isEmpty()) throw new RlcdException(file + ": empty file (no JSON lines)");
        return read(file, lines, task, method);
    }

    static PreferencePairs read(Path file, List<DataFiles.Line> lines, String task, String method) {
        List<PairRow> rows = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            DataFiles.Line l = lines.get(i);
            try {
                JsonObject o = Json.parseObject(l.text());
                String prompt = text(o, "prompt"), chosen = text(o, "chosen"), rejected = text(o, "rejected");
                double p = 1.0;
                JsonElement e = o.get("p_chosen");
                if (e != null && !e.isJsonNull()) {
                    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
                        throw new IllegalArgumentException("field \"p_chosen\" must be a number");
                    }
                    p = e.getAsDouble();
                }
                rows.add(PreferencePairs.labelled(
                        i, task, method, prompt, unspace(chosen), unspace(rejected), p, file + ":" + l.number()));
            } catch (IllegalArgumentException e) {
                throw RlcdException.at(file, l.number(), e.getMessage());
            }
        }
        return PreferencePairs.of(file.getFileName().toString(), rows);
    }

    private static String text(JsonObject o, String key) {
        String s = Json.string(o, key);
        if (s == null) throw new IllegalArgumentException("field \"" + key + "\" is missing");
        return s;
    }

    private static String unspace(String s) {
        return s.startsWith(" ") ? s.substring(1) : s;
    }
}
