package rlcd4j.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import rlcd4j.data.DataFiles;
import rlcd4j.data.JsonlLines;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Reads the training commands' inputs: JSON Lines (TRL's preference format {@code prompt}/{@code chosen}/{@code rejected},
 * optionally {@code p_chosen}; HH-RLHF's {@code chosen}/{@code rejected}; SFT's {@code prompt}/{@code response}),
 * gzipped or not, or CSV with a header. Numeric fields become double columns, the rest text.
 */
final class TrainingFiles {
    private TrainingFiles() {}

    static Table read(Path file, int limit) {
        if (!Files.isRegularFile(file)) throw new RlcdException(file + ": no such file");
        String name = file.getFileName().toString().toLowerCase();
        if (name.endsWith(".csv")) {
            try {
                Table t = Table.read().csv(file.toFile());
                return limit > 0 && t.rowCount() > limit ? t.first(limit) : t;
            } catch (RuntimeException e) {
                throw new RlcdException(file + ": cannot read CSV: " + e.getMessage(), e);
            }
        }
        if (!name.endsWith(".jsonl")
                && !name.endsWith(".jsonl.gz")
                && !name.endsWith(".json.gz")
                && !name.endsWith(".json")) {
            throw new RlcdException(file + ": expected a .jsonl, .jsonl.gz or .csv file");
        }
        Map<String, List<Object>> cols = new LinkedHashMap<>();
        int rows = 0;
        for (DataFiles.Line l : JsonlLines.read(file, limit > 0 ? limit : Integer.MAX_VALUE)) {
            int lineNo = l.number();
            JsonObject o;
            try {
                o = JsonParser.parseString(l.text()).getAsJsonObject();
            } catch (RuntimeException e) {
                throw RlcdException.at(file, lineNo, "not a JSON object: " + e.getMessage());
            }
            if (rows == 0) for (String k : o.keySet()) if (o.get(k).isJsonPrimitive()) cols.put(k, new ArrayList<>());
            for (var e : cols.entrySet()) {
                JsonElement v = o.get(e.getKey());
                if (v == null || v.isJsonNull())
                    throw RlcdException.at(file, lineNo, "field \"" + e.getKey() + "\" is missing");
                if (!v.isJsonPrimitive())
                    throw RlcdException.at(file, lineNo, "field \"" + e.getKey() + "\" must be a string or a number");
                e.getValue().add(v.getAsJsonPrimitive().isNumber() ? (Object) v.getAsDouble() : v.getAsString());
            }
            rows++;
        }
        Table t = Table.create(file.getFileName().toString());
        for (var e : cols.entrySet()) {
            List<Object> v = e.getValue();
            if (!v.isEmpty() && v.stream().allMatch(x -> x instanceof Double)) {
                t.addColumns(DoubleColumn.create(
                        e.getKey(), v.stream().mapToDouble(x -> (Double) x).toArray()));
            } else {
                t.addColumns(StringColumn.create(
                        e.getKey(), v.stream().map(String::valueOf).toList()));
            }
        }
        return t;
    }
}
