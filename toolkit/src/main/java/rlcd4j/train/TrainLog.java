package rlcd4j.train;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import rlcd4j.util.Json;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.Table;

/**
 * A trainer's log: one row of metrics per optimiser step (column {@code step} first), kept in memory and, when a file
 * is given, appended to a JSONL file so that a resumed run continues the same log.
 */
public final class TrainLog {
    private final String name;
    private final List<Map<String, Double>> rows = new ArrayList<>();
    private final Path file;

    public TrainLog(String name, Path file) {
        this.name = name;
        this.file = file;
    }

    /** Reloads the rows up to {@code lastStep} (rows logged after the checkpoint being resumed are dropped). */
    public static TrainLog resume(String name, Path file, long lastStep) {
        TrainLog log = new TrainLog(name, file);
        if (file != null && Files.exists(file)) {
            try {
                List<String> keep = new ArrayList<>();
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    if (line.isBlank()) continue;
                    JsonObject o;
                    try {
                        o = JsonParser.parseString(line).getAsJsonObject();
                    } catch (RuntimeException e) {
                        continue; // a torn last line from a kill
                    }
                    if (o.get("step").getAsLong() > lastStep) continue;
                    Map<String, Double> row = new LinkedHashMap<>();
                    o.entrySet()
                            .forEach(e -> row.put(
                                    e.getKey(),
                                    e.getValue().isJsonNull()
                                            ? Double.NaN
                                            : e.getValue().getAsDouble()));
                    log.rows.add(row);
                    keep.add(line);
                }
                Files.write(file, keep, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new RlcdException(file + ": cannot read the training log: " + e.getMessage(), e);
            }
        }
        return log;
    }

    public void add(Map<String, Double> row) {
        rows.add(new LinkedHashMap<>(row));
        if (file != null) {
            try {
                Files.createDirectories(file.toAbsolutePath().getParent());
                try (BufferedWriter w = Files.newBufferedWriter(
                        file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
                    JsonObject o = new JsonObject();
                    row.forEach((k, v) -> {
                        if (Double.isFinite(v)) o.addProperty(k, v);
                        else o.add(k, com.google.gson.JsonNull.INSTANCE);
                    });
                    w.write(Json.GSON.toJson(o));
                    w.newLine();
                }
            } catch (IOException e) {
                throw new RlcdException(file + ": cannot append to the training log: " + e.getMessage(), e);
            }
        }
    }

    public List<Map<String, Double>> rows() {
        return rows;
    }

    public Map<String, Double> last() {
        return rows.isEmpty() ? Map.of() : rows.get(rows.size() - 1);
    }

    /** One row per step, one double column per metric (missing values are NaN). */
    public Table toTable() {
        Set<String> cols = new LinkedHashSet<>();
        rows.forEach(r -> cols.addAll(r.keySet()));
        Table t = Table.create(name);
        for (String c : cols) {
            DoubleColumn col = DoubleColumn.create(c);
            for (Map<String, Double> r : rows) col.append(r.getOrDefault(c, Double.NaN));
            t.addColumns(col);
        }
        return t;
    }
}
