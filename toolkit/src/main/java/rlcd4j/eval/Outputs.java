package rlcd4j.eval;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import rlcd4j.RlcdException;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The outputs table that evaluation consumes: one row per prompt with columns {@code id}, {@code prompt}, {@code model},
 * {@code output} (all strings), plus its JSONL form and the paper's output clean-up.
 *
 * <p>Clean-up follows the paper's final decoding: each sample is cut at the first {@code "\n\nHuman:"}
 * ({@link #cutAtHuman}), then {@code scripts/postprocess.py} strips a leading role label and truncates at the first
 * role label left in the text ({@link #postprocess}). {@link #clean} does both.
 */
public final class Outputs {
    public static final String ID = "id", PROMPT = "prompt", MODEL = "model", OUTPUT = "output";
    /** Where the paper cuts every sampled continuation. */
    public static final String HUMAN_TURN = "\n\nHuman:";
    /** The role labels of {@code scripts/postprocess.py}, in its order (the order matters for the strip loop). */
    static final List<String> ROLE_LABELS = List.of("Human:", "Assistant:", "User:", "human:", "assistant:", "user:");

    private static final Gson GSON = new Gson();

    private Outputs() {}

    /** An empty outputs table. */
    public static Table create(String name) {
        return Table.create(name, StringColumn.create(ID), StringColumn.create(PROMPT), StringColumn.create(MODEL),
                StringColumn.create(OUTPUT));
    }

    /** An outputs table from parallel lists (ids default to the row index when {@code ids} is null). */
    public static Table of(String model, List<String> ids, List<String> prompts, List<String> outputs) {
        if (prompts.size() != outputs.size() || (ids != null && ids.size() != prompts.size()))
            throw new RlcdException("outputs table: " + prompts.size() + " prompts, " + outputs.size() + " outputs"
                    + (ids == null ? "" : ", " + ids.size() + " ids") + "; expected the same number of each");
        Table t = create(model);
        for (int i = 0; i < prompts.size(); i++) {
            t.stringColumn(ID).append(ids == null ? Integer.toString(i) : ids.get(i));
            t.stringColumn(PROMPT).append(prompts.get(i));
            t.stringColumn(MODEL).append(model);
            t.stringColumn(OUTPUT).append(outputs.get(i));
        }
        return t;
    }

    /** Cuts a sampled continuation at the first {@code "\n\nHuman:"} (the paper's stop string), keeping what precedes it. */
    public static String cutAtHuman(String text) {
        int i = text.indexOf(HUMAN_TURN);
        return i < 0 ? text : text.substring(0, i);
    }

    /**
     * {@code scripts/postprocess.py}, exactly: for each role label in turn, if the stripped text starts with it, drop it
     * and strip again; then for each label in turn, truncate at its first occurrence (and strip); finally strip.
     * Stripping is Python's {@code str.strip()}.
     */
    public static String postprocess(String response) {
        for (String s : ROLE_LABELS) {
            if (PyStrings.strip(response).startsWith(s))
                response = PyStrings.strip(PyStrings.strip(response).substring(s.length()));
        }
        for (String s : ROLE_LABELS) {
            int i = response.indexOf(s);
            if (i >= 0) response = PyStrings.strip(response.substring(0, i));
        }
        return PyStrings.strip(response);
    }

    /** {@link #cutAtHuman} then {@link #postprocess}: what the paper evaluates. */
    public static String clean(String sample) {
        return postprocess(cutAtHuman(sample));
    }

    /**
     * Reads an outputs table from JSONL, one object per line with {@code prompt} (or the paper's {@code instruction})
     * and {@code output}; {@code id} defaults to the 0-based record number and {@code model} to the file name without
     * its extension. Blank lines are skipped. Bad lines fail with "FILE:LINE: ...".
     */
    public static Table readJsonl(Path file) {
        String stem = file.getFileName().toString().replaceFirst("\\.[^.]*$", "");
        Table t = create(stem);
        if (!Files.isRegularFile(file)) throw new RlcdException(file + ": no such outputs file (expected JSONL with prompt and output per line)");
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0, record = 0;
            while ((line = r.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) continue;
                JsonObject o;
                try {
                    JsonElement e = JsonParser.parseString(line);
                    if (!e.isJsonObject()) throw RlcdException.at(file, lineNo, "expected a JSON object, got: " + abbreviate(line));
                    o = e.getAsJsonObject();
                } catch (JsonParseException e) {
                    throw RlcdException.at(file, lineNo, "not valid JSON (" + e.getMessage() + "): " + abbreviate(line));
                }
                String prompt = o.has(PROMPT) ? string(o, PROMPT, file, lineNo) : o.has("instruction") ? string(o, "instruction", file, lineNo) : null;
                if (prompt == null) throw RlcdException.at(file, lineNo, "missing field 'prompt' (or 'instruction')");
                if (!o.has(OUTPUT)) throw RlcdException.at(file, lineNo, "missing field 'output'");
                t.stringColumn(ID).append(o.has(ID) ? string(o, ID, file, lineNo) : Integer.toString(record));
                t.stringColumn(PROMPT).append(prompt);
                t.stringColumn(MODEL).append(o.has(MODEL) ? string(o, MODEL, file, lineNo) : stem);
                t.stringColumn(OUTPUT).append(string(o, OUTPUT, file, lineNo));
                record++;
            }
        } catch (IOException e) {
            throw new RlcdException(file + ": cannot read outputs (" + e.getMessage() + ")", e);
        }
        return t;
    }

    /** Writes the four columns as JSONL (UTF-8, one object per row), creating parent directories. */
    public static void writeJsonl(Table outputs, Path file) {
        requireColumns(outputs, "outputs table");
        try {
            if (file.toAbsolutePath().getParent() != null) Files.createDirectories(file.toAbsolutePath().getParent());
            try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
                for (int i = 0; i < outputs.rowCount(); i++) {
                    JsonObject o = new JsonObject();
                    for (String c : List.of(ID, PROMPT, MODEL, OUTPUT)) o.addProperty(c, outputs.stringColumn(c).get(i));
                    w.write(GSON.toJson(o));
                    w.write('\n');
                }
            }
        } catch (IOException e) {
            throw new RlcdException(file + ": cannot write outputs (" + e.getMessage() + ")", e);
        }
    }

    /** Fails with one clear message unless the table has the four string columns. */
    static void requireColumns(Table t, String what) {
        List<String> missing = new ArrayList<>();
        for (String c : List.of(ID, PROMPT, MODEL, OUTPUT))
            if (!t.containsColumn(c) || !(t.column(c) instanceof StringColumn)) missing.add(c);
        if (!missing.isEmpty())
            throw new RlcdException(what + " '" + t.name() + "': missing string column(s) " + missing
                    + "; expected columns id, prompt, model, output (has " + t.columnNames() + ")");
    }

    private static String string(JsonObject o, String field, Path file, int line) {
        JsonElement e = o.get(field);
        if (e.isJsonPrimitive()) {
            JsonPrimitive p = e.getAsJsonPrimitive();
            if (p.isString() || (p.isNumber() && field.equals(ID))) return p.getAsString();
        }
        throw RlcdException.at(file, line, "field '" + field + "' must be a string, got: " + abbreviate(e.toString()));
    }

    static String abbreviate(String s) {
        return s.length() <= 120 ? s : s.substring(0, 117) + "...";
    }
}
