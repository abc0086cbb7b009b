package rlcd4j.eval;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import rlcd4j.data.DataFiles;
import rlcd4j.data.JsonlLines;
import rlcd4j.data.PromptSet;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.GenerationBackend;
import rlcd4j.engine.GenerationConfig;
import rlcd4j.util.Json;
import rlcd4j.util.PythonStrings;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * The outputs table that evaluation consumes: one row per prompt with columns {@code id}, {@code prompt}, {@code model},
 * {@code output} (all strings), plus its JSONL form and the paper's output clean-up.
 *
 * <p>Clean-up follows the paper's final decoding: each sample is cut at the first {@code "\n\nHuman:"}
 * ({@link #cutAtHuman}), then {@code scripts/postprocess.py} strips a leading role label and truncates at the first
 * role label left in the text ({@link #postprocess}). {@link #clean} does both.
 *
 * <p>{@link #decode} makes such a table from a policy with the paper's final decoding settings:
 * <pre>{@code
 * Table outs = Outputs.decode(lm, "rlcd-7b", prompts, GenerationConfig.evaluation().withSeed(1), Path.of("rlcd.jsonl"));
 * }</pre>
 */
public final class Outputs {
    public static final String ID = "id", PROMPT = "prompt", MODEL = "model", OUTPUT = "output";
    /** Where the paper cuts every sampled continuation. */
    public static final String HUMAN_TURN = "\n\nHuman:";
    /** The role labels of {@code scripts/postprocess.py}, in its order (the order matters for the strip loop). */
    static final List<String> ROLE_LABELS = List.of("Human:", "Assistant:", "User:", "human:", "assistant:", "user:");

    private Outputs() {}

    /** An empty outputs table. */
    public static Table create(String name) {
        return Table.create(
                name,
                StringColumn.create(ID),
                StringColumn.create(PROMPT),
                StringColumn.create(MODEL),
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

    /**
     * One sample per prompt with the paper's final decoding ({@link GenerationConfig#evaluation()}: temperature 1,
     * top-p 0.9, top-k off, 300 new tokens, cut at {@code "\n\nHuman:"}), each cleaned with {@link #clean}.
     *
     * @param prompts a table with columns {@code id} (any type, read as text) and {@code prompt}; an optional
     *                {@code response_prefix} column (as in {@link PromptSet#table()}) is appended to the prompt for
     *                the policy but not recorded in the outputs table
     */
    public static Table decode(CausalLM lm, String model, Table prompts) {
        return decode(lm, model, prompts, GenerationConfig.evaluation(), null);
    }

    public static Table decode(CausalLM lm, String model, Table prompts, GenerationConfig cfg) {
        return decode(lm, model, prompts, cfg, null);
    }

    /**
     * As {@link #decode(CausalLM, String, Table, GenerationConfig)}, resumable: rows are appended to {@code jsonl} as
     * batches finish, and a rerun decodes only the ids not yet there. Prompt {@code id} samples from a seed derived from
     * ({@code cfg.seed()}, id), so its output is the same whatever it is batched with and however often the run was
     * interrupted. The file refuses rows from another model name or other decoding settings.
     *
     * @param model the name recorded in column {@code model}; null: the model's own name
     * @param jsonl the outputs file to append to and resume from (null: none)
     */
    public static Table decode(CausalLM lm, String model, Table prompts, GenerationConfig cfg, Path jsonl) {
        return decode(GenerationBackend.of(lm), model, prompts, cfg, jsonl);
    }

    /**
     * As {@link #decode(CausalLM, String, Table, GenerationConfig, Path)} on any backend, e.g. an OpenAI-compatible
     * server ({@link rlcd4j.engine.remote.OpenAiCompletionsBackend}): the same seeds and resumable file. A batch of
     * {@code cfg.batchSize()} prompts goes to the server at once; raise it to keep several servers busy.
     */
    public static Table decode(GenerationBackend lm, String model, Table prompts, GenerationConfig cfg, Path jsonl) {
        for (String c : List.of(ID, PROMPT))
            if (!prompts.containsColumn(c))
                throw new RlcdException("prompts table '" + prompts.name() + "': missing column '" + c
                        + "'; expected columns id, prompt (has " + prompts.columnNames() + ")");
        List<String> ids = new ArrayList<>(), texts = new ArrayList<>(), inputs = new ArrayList<>();
        boolean prefix = prompts.containsColumn("response_prefix");
        for (int i = 0; i < prompts.rowCount(); i++) {
            ids.add(prompts.column(ID).getString(i));
            String p = prompts.column(PROMPT).getString(i);
            texts.add(p);
            inputs.add(prefix ? p + prompts.column("response_prefix").getString(i) : p);
        }
        return Decoding.run(lm, model, ids, texts, inputs, cfg, jsonl);
    }

    /** {@link #decode(CausalLM, String, Table, GenerationConfig, Path)} over parallel lists (ids null: 0, 1, ...). */
    public static Table decode(
            CausalLM lm, String model, List<String> ids, List<String> prompts, GenerationConfig cfg, Path jsonl) {
        List<String> idList = ids;
        if (idList == null) {
            idList = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) idList.add(Integer.toString(i));
        }
        return Decoding.run(GenerationBackend.of(lm), model, idList, prompts, prompts, cfg, jsonl);
    }

    /** {@link #decode(CausalLM, String, Table, GenerationConfig, Path)} over a prompt set (policy input = prompt + response prefix). */
    public static Table decode(CausalLM lm, String model, PromptSet prompts, GenerationConfig cfg, Path jsonl) {
        return decode(GenerationBackend.of(lm), model, prompts, cfg, jsonl);
    }

    /** {@link #decode(GenerationBackend, String, Table, GenerationConfig, Path)} over a prompt set. */
    public static Table decode(
            GenerationBackend lm, String model, PromptSet prompts, GenerationConfig cfg, Path jsonl) {
        List<String> ids = new ArrayList<>(), texts = new ArrayList<>(), inputs = new ArrayList<>();
        for (PromptSet.Entry e : prompts.entries()) {
            ids.add(Integer.toString(e.id()));
            texts.add(e.prompt());
            inputs.add(e.policyPrompt());
        }
        return Decoding.run(lm, model, ids, texts, inputs, cfg, jsonl);
    }

    /** The seed prompt {@code id} samples from in {@link #decode} with seed {@code seed}. */
    public static long promptSeed(long seed, String id) {
        return Decoding.promptSeed(seed, id);
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
            if (PythonStrings.strip(response).startsWith(s))
                response = PythonStrings.strip(PythonStrings.strip(response).substring(s.length()));
        }
        for (String s : ROLE_LABELS) {
            int i = response.indexOf(s);
            if (i >= 0) response = PythonStrings.strip(response.substring(0, i));
        }
        return PythonStrings.strip(response);
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
        if (!Files.isRegularFile(file))
            throw new RlcdException(file + ": no such outputs file (expected JSONL with prompt and output per line)");
        int record = 0;
        for (DataFiles.Line l : JsonlLines.read(file)) {
            int lineNo = l.number();
            String line = l.text();
            JsonObject o;
            try {
                JsonElement e = JsonParser.parseString(line);
                if (!e.isJsonObject())
                    throw RlcdException.at(file, lineNo, "expected a JSON object, got: " + abbreviate(line));
                o = e.getAsJsonObject();
            } catch (JsonParseException e) {
                throw RlcdException.at(file, lineNo, "not valid JSON (" + e.getMessage() + "): " + abbreviate(line));
            }
            String prompt = o.has(PROMPT)
                    ? string(o, PROMPT, file, lineNo)
                    : o.has("instruction") ? string(o, "instruction", file, lineNo) : null;
            if (prompt == null) throw RlcdException.at(file, lineNo, "missing field 'prompt' (or 'instruction')");
            if (!o.has(OUTPUT)) throw RlcdException.at(file, lineNo, "missing field 'output'");
            t.stringColumn(ID).append(o.has(ID) ? string(o, ID, file, lineNo) : Integer.toString(record));
            t.stringColumn(PROMPT).append(prompt);
            t.stringColumn(MODEL).append(o.has(MODEL) ? string(o, MODEL, file, lineNo) : stem);
            t.stringColumn(OUTPUT).append(string(o, OUTPUT, file, lineNo));
            record++;
        }
        return t;
    }

    /** Writes the four columns as JSONL (UTF-8, one object per row), creating parent directories. */
    public static void writeJsonl(Table outputs, Path file) {
        requireColumns(outputs, "outputs table");
        try {
            if (file.toAbsolutePath().getParent() != null)
                Files.createDirectories(file.toAbsolutePath().getParent());
            try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
                for (int i = 0; i < outputs.rowCount(); i++) {
                    JsonObject o = new JsonObject();
                    for (String c : List.of(ID, PROMPT, MODEL, OUTPUT))
                        o.addProperty(c, outputs.stringColumn(c).get(i));
                    w.write(Json.GSON.toJson(o));
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
