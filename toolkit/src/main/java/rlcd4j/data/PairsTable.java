package rlcd4j.data;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;
import rlcd4j.util.Json;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * The pairs table: one row per prompt. Columns (docs/data.md has the full description):
 * <pre>
 * id, task, method, prompt, response_prefix, positive_prompt, negative_prompt, pair_index, instruction_index,
 * a_source, chosen, rejected, chosen_slot, a_logit, b_logit, p_b, p_chosen, status, attempts, error
 * </pre>
 * Rows convert to and from JSON objects with the same keys (the {@link SimulationLog} line format).
 */
public final class PairsTable {
    private PairsTable() {}

    public static final List<String> COLUMNS = List.of(
            "id",
            "task",
            "method",
            "prompt",
            "response_prefix",
            "positive_prompt",
            "negative_prompt",
            "pair_index",
            "instruction_index",
            "a_source",
            "chosen",
            "rejected",
            "chosen_slot",
            "a_logit",
            "b_logit",
            "p_b",
            "p_chosen",
            "status",
            "attempts",
            "error");

    public static Table toTable(String name, List<PairRow> rows) {
        IntColumn id = IntColumn.create("id"),
                pairIndex = IntColumn.create("pair_index"),
                instructionIndex = IntColumn.create("instruction_index"),
                attempts = IntColumn.create("attempts");
        StringColumn task = StringColumn.create("task"),
                method = StringColumn.create("method"),
                prompt = StringColumn.create("prompt"),
                prefix = StringColumn.create("response_prefix"),
                pos = StringColumn.create("positive_prompt"),
                neg = StringColumn.create("negative_prompt"),
                aSource = StringColumn.create("a_source"),
                chosen = StringColumn.create("chosen"),
                rejected = StringColumn.create("rejected"),
                slot = StringColumn.create("chosen_slot"),
                status = StringColumn.create("status"),
                error = StringColumn.create("error");
        DoubleColumn aLogit = DoubleColumn.create("a_logit"),
                bLogit = DoubleColumn.create("b_logit"),
                pB = DoubleColumn.create("p_b"),
                pChosen = DoubleColumn.create("p_chosen");
        for (PairRow r : rows) {
            id.append(r.id());
            task.append(r.task());
            method.append(r.method());
            prompt.append(r.prompt());
            prefix.append(r.responsePrefix());
            pos.append(r.positivePrompt());
            neg.append(r.negativePrompt());
            appendInt(pairIndex, r.pairIndex());
            appendInt(instructionIndex, r.instructionIndex());
            aSource.append(r.aSource());
            chosen.append(r.chosen());
            rejected.append(r.rejected());
            slot.append(r.chosenSlot());
            aLogit.append(r.aLogit());
            bLogit.append(r.bLogit());
            pB.append(r.pB());
            pChosen.append(r.pChosen());
            status.append(r.status().id());
            appendInt(attempts, r.attempts());
            error.append(r.error());
        }
        return Table.create(
                name,
                id,
                task,
                method,
                prompt,
                prefix,
                pos,
                neg,
                pairIndex,
                instructionIndex,
                aSource,
                chosen,
                rejected,
                slot,
                aLogit,
                bLogit,
                pB,
                pChosen,
                status,
                attempts,
                error);
    }

    private static void appendInt(IntColumn c, int v) {
        if (v < 0) c.appendMissing();
        else c.append(v);
    }

    /** The rows of a pairs table (as made by {@link #toTable}). */
    public static List<PairRow> rows(Table t) {
        List<PairRow> out = new ArrayList<>();
        for (int i = 0; i < t.rowCount(); i++) {
            out.add(new PairRow(
                    t.intColumn("id").getInt(i),
                    s(t, "task", i),
                    s(t, "method", i),
                    s(t, "prompt", i),
                    s(t, "response_prefix", i),
                    s(t, "positive_prompt", i),
                    s(t, "negative_prompt", i),
                    n(t, "pair_index", i),
                    n(t, "instruction_index", i),
                    s(t, "a_source", i),
                    s(t, "chosen", i),
                    s(t, "rejected", i),
                    s(t, "chosen_slot", i),
                    d(t, "a_logit", i),
                    d(t, "b_logit", i),
                    d(t, "p_b", i),
                    d(t, "p_chosen", i),
                    PairStatus.of(s(t, "status", i)),
                    n(t, "attempts", i),
                    s(t, "error", i)));
        }
        return out;
    }

    private static String s(Table t, String c, int i) {
        return t.stringColumn(c).get(i);
    }

    private static int n(Table t, String c, int i) {
        IntColumn col = t.intColumn(c);
        return col.isMissing(i) ? -1 : col.getInt(i);
    }

    private static double d(Table t, String c, int i) {
        return t.doubleColumn(c).getDouble(i);
    }

    public static JsonObject toJson(PairRow r) {
        JsonObject o = new JsonObject();
        o.addProperty("id", r.id());
        o.addProperty("task", r.task());
        o.addProperty("method", r.method());
        o.addProperty("prompt", r.prompt());
        o.addProperty("response_prefix", r.responsePrefix());
        o.addProperty("positive_prompt", r.positivePrompt());
        o.addProperty("negative_prompt", r.negativePrompt());
        o.addProperty("pair_index", r.pairIndex() < 0 ? null : r.pairIndex());
        o.addProperty("instruction_index", r.instructionIndex() < 0 ? null : r.instructionIndex());
        o.addProperty("a_source", r.aSource());
        o.addProperty("chosen", r.chosen());
        o.addProperty("rejected", r.rejected());
        o.addProperty("chosen_slot", r.chosenSlot());
        o.addProperty("a_logit", Double.isNaN(r.aLogit()) ? null : r.aLogit());
        o.addProperty("b_logit", Double.isNaN(r.bLogit()) ? null : r.bLogit());
        o.addProperty("p_b", Double.isNaN(r.pB()) ? null : r.pB());
        o.addProperty("p_chosen", Double.isNaN(r.pChosen()) ? null : r.pChosen());
        o.addProperty("status", r.status().id());
        o.addProperty("attempts", r.attempts() < 0 ? null : r.attempts());
        o.addProperty("error", r.error());
        return o;
    }

    /** Parses a row; throws IllegalArgumentException naming the bad field. */
    public static PairRow fromJson(JsonObject o) {
        JsonElement id = o.get("id");
        if (id == null || id.isJsonNull()) throw new IllegalArgumentException("no 'id' field");
        return new PairRow(
                intOf(o, "id"),
                Json.string(o, "task"),
                Json.string(o, "method"),
                Json.string(o, "prompt"),
                Json.string(o, "response_prefix"),
                Json.string(o, "positive_prompt"),
                Json.string(o, "negative_prompt"),
                intOf(o, "pair_index"),
                intOf(o, "instruction_index"),
                Json.string(o, "a_source"),
                Json.string(o, "chosen"),
                Json.string(o, "rejected"),
                Json.string(o, "chosen_slot"),
                doubleOf(o, "a_logit"),
                doubleOf(o, "b_logit"),
                doubleOf(o, "p_b"),
                doubleOf(o, "p_chosen"),
                statusOf(o),
                intOf(o, "attempts"),
                Json.string(o, "error"));
    }

    private static PairStatus statusOf(JsonObject o) {
        String status = Json.string(o, "status");
        if (status == null) throw new IllegalArgumentException("field 'status' is missing");
        return PairStatus.of(status);
    }

    private static int intOf(JsonObject o, String key) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) return -1;
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw new IllegalArgumentException("field '" + key + "' must be an integer");
        }
        return e.getAsInt();
    }

    private static double doubleOf(JsonObject o, String key) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) return Double.NaN;
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw new IllegalArgumentException("field '" + key + "' must be a number");
        }
        return e.getAsDouble();
    }
}
