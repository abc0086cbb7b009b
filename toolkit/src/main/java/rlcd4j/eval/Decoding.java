package rlcd4j.eval;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import rlcd4j.engine.Generation;
import rlcd4j.engine.GenerationBackend;
import rlcd4j.engine.GenerationConfig;
import rlcd4j.progress.Progress;
import rlcd4j.util.Json;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.Table;

/**
 * The paper's final decoding of a policy into an outputs table ({@link Outputs#decode}): one sample per prompt, cleaned
 * with {@link Outputs#clean}. Each prompt samples from its own seed, derived from (seed, id), so its output does not
 * depend on which prompts it was batched with, on the batch size, or on whether the run was resumed.
 *
 * <p>With a JSONL file, every finished batch is appended (and flushed) at once; a rerun reads the file, keeps its rows
 * and decodes only the ids not yet there. Each record also carries {@code finish_reason}, {@code tokens} and the
 * decoding settings ({@code decoding}), and a rerun with other settings or another model name is refused rather than
 * mixing two runs in one file.
 */
final class Decoding {

    private Decoding() {}

    /**
     * @param ids     the rows' ids (unique)
     * @param prompts the conversations as the outputs table records them (ending in {@code Assistant:})
     * @param inputs  what the policy continues: the prompt plus any response prefix (our outline template)
     */
    static Table run(
            GenerationBackend lm,
            String model,
            List<String> ids,
            List<String> prompts,
            List<String> inputs,
            GenerationConfig cfg,
            Path file) {
        if (model == null || model.isBlank()) model = lm.name();
        int n = ids.size();
        if (prompts.size() != n || inputs.size() != n)
            throw new RlcdException("decode: " + n + " ids, " + prompts.size() + " prompts, " + inputs.size()
                    + " inputs; expected the same number of each");
        Map<String, Integer> rowOf = new HashMap<>();
        for (int i = 0; i < n; i++) {
            if (ids.get(i) == null) throw new RlcdException("decode: prompt " + i + " has no id");
            if (rowOf.put(ids.get(i), i) != null)
                throw new RlcdException("decode: id '" + ids.get(i) + "' appears twice");
        }
        JsonObject settings = settings(cfg);
        String[] outputs = new String[n];
        int resumed = file == null ? 0 : readDone(file, model, settings, ids, prompts, rowOf, outputs);

        // Prompts still to decode, shortest first: batches of similar length waste less compute on padding.
        List<Integer> todo = new ArrayList<>();
        int[] length = new int[n];
        List<String> tooLong = new ArrayList<>();
        int context = lm.contextLength();
        for (int i = 0; i < n; i++) {
            if (outputs[i] != null) continue;
            length[i] = lm.tokenizer().encode(inputs.get(i), true).length;
            if (length[i] + cfg.maxNewTokens() > context) tooLong.add(ids.get(i) + " (" + length[i] + " tokens)");
            todo.add(i);
        }
        if (!tooLong.isEmpty())
            throw new RlcdException(
                    "decode: " + tooLong.size() + " prompt(s) do not fit the model's context of " + context
                            + " positions with " + cfg.maxNewTokens() + " new tokens: ids " + first(tooLong)
                            + "; lower the number of new tokens, use a model with a longer context, or leave these prompts out");
        todo.sort(Comparator.comparingInt(i -> length[i]));

        try (Progress p = Progress.start("decode " + model, todo.size())) {
            if (resumed > 0) p.status(resumed + " resumed from " + file.getFileName());
            for (int start = 0; start < todo.size(); start += cfg.batchSize()) {
                List<Integer> batch = todo.subList(start, Math.min(todo.size(), start + cfg.batchSize()));
                List<String> in = new ArrayList<>();
                long[] seeds = new long[batch.size()];
                for (int k = 0; k < batch.size(); k++) {
                    in.add(inputs.get(batch.get(k)));
                    seeds[k] = promptSeed(cfg.seed(), ids.get(batch.get(k)));
                }
                List<Generation> gens = lm.generate(in, cfg, seeds);
                List<String> lines = new ArrayList<>();
                for (int k = 0; k < batch.size(); k++) {
                    int i = batch.get(k);
                    Generation g = gens.get(k);
                    outputs[i] = Outputs.clean(g.text());
                    if (file != null) lines.add(record(ids.get(i), prompts.get(i), model, outputs[i], g, settings));
                }
                if (file != null) append(file, lines);
                p.advance(batch.size());
                String server = lm.status(); // a server's requests in flight and retries; "" in-process
                if (!server.isEmpty()) p.status((resumed > 0 ? resumed + " resumed, " : "") + server);
            }
        }
        return Outputs.of(model, ids, prompts, List.of(outputs));
    }

    /**
     * The seed of one prompt's sample: the first 8 bytes of SHA-256 over the decimal seed, a zero byte and the id, so
     * every (seed, id) gets an unrelated stream however the prompts are batched or ordered.
     */
    static long promptSeed(long seed, String id) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(Long.toString(seed).getBytes(StandardCharsets.UTF_8));
            md.update((byte) 0);
            md.update(id.getBytes(StandardCharsets.UTF_8));
            byte[] h = md.digest();
            long s = 0;
            for (int i = 0; i < 8; i++) s = (s << 8) | (h[i] & 0xFF);
            return s;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The settings that determine a sample (the batch size does not, so it is left out). */
    static JsonObject settings(GenerationConfig cfg) {
        JsonObject o = new JsonObject();
        o.addProperty("temperature", cfg.temperature());
        o.addProperty("top_k", cfg.topK());
        o.addProperty("top_p", cfg.topP());
        o.addProperty("max_new_tokens", cfg.maxNewTokens());
        o.addProperty("seed", cfg.seed());
        JsonArray stops = new JsonArray();
        cfg.stopStrings().forEach(stops::add);
        o.add("stop", stops);
        JsonArray banned = new JsonArray();
        cfg.bannedStrings().forEach(banned::add);
        o.add("banned", banned);
        return JsonParser.parseString(o.toString()).getAsJsonObject(); // as it reads back from the file, for equals()
    }

    private static String record(
            String id, String prompt, String model, String output, Generation g, JsonObject settings) {
        JsonObject o = new JsonObject();
        o.addProperty(Outputs.ID, id);
        o.addProperty(Outputs.PROMPT, prompt);
        o.addProperty(Outputs.MODEL, model);
        o.addProperty(Outputs.OUTPUT, output);
        o.addProperty("finish_reason", g.finishReason());
        o.addProperty("tokens", g.ids().length);
        o.add("decoding", settings);
        return Json.GSON.toJson(o);
    }

    /**
     * Fills {@code outputs} from the rows already in {@code file} and returns how many of the requested ids it had. A
     * last line cut short by a crash is removed; any other bad line, or a row from another model, other settings or
     * another prompt under the same id, is an error naming the file and line.
     */
    private static int readDone(
            Path file,
            String model,
            JsonObject settings,
            List<String> ids,
            List<String> prompts,
            Map<String, Integer> rowOf,
            String[] outputs) {
        if (!Files.exists(file)) return 0;
        int found = 0;
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            int last = lines.size();
            while (last > 0 && lines.get(last - 1).isBlank()) last--;
            Set<String> seen = new HashSet<>();
            for (int l = 0; l < last; l++) {
                String line = lines.get(l);
                if (line.isBlank()) continue;
                JsonObject o;
                try {
                    o = JsonParser.parseString(line).getAsJsonObject();
                } catch (JsonParseException | IllegalStateException e) {
                    if (l == last - 1) { // the append that was interrupted: drop it, it is decoded again
                        Files.write(file, lines.subList(0, l), StandardCharsets.UTF_8);
                        break;
                    }
                    throw RlcdException.at(
                            file,
                            l + 1,
                            "not an outputs record (expected a JSON object with id, prompt, model, output): "
                                    + Outputs.abbreviate(line));
                }
                String id = field(o, Outputs.ID, file, l), prompt = field(o, Outputs.PROMPT, file, l);
                String m = field(o, Outputs.MODEL, file, l), output = field(o, Outputs.OUTPUT, file, l);
                if (!m.equals(model))
                    throw RlcdException.at(
                            file,
                            l + 1,
                            "written for model '" + m + "', but this run is named '" + model
                                    + "'; give the same name to resume, or write to another file");
                if (!settings.equals(o.get("decoding")))
                    throw RlcdException.at(
                            file,
                            l + 1,
                            "decoded with " + o.get("decoding") + ", but this run uses " + settings
                                    + "; use the same settings to resume, or write to another file");
                if (!seen.add(id)) throw RlcdException.at(file, l + 1, "id '" + id + "' appears twice");
                Integer i = rowOf.get(id);
                // decoded in an earlier run over more prompts: kept in the file, not returned
                if (i == null) continue;
                if (!prompt.equals(prompts.get(i)))
                    throw RlcdException.at(
                            file,
                            l + 1,
                            "id '" + id + "' was decoded for another prompt; "
                                    + "the prompt set changed, so write to another file");
                outputs[i] = output;
                found++;
            }
            ensureNewlineAtEnd(file);
        } catch (IOException e) {
            throw new RlcdException(file + ": cannot read outputs (" + e.getMessage() + ")", e);
        }
        return found;
    }

    private static String field(JsonObject o, String name, Path file, int l) {
        JsonElement e = o.get(name);
        if (e == null || !e.isJsonPrimitive())
            throw RlcdException.at(file, l + 1, "missing or non-text field '" + name + "'");
        return e.getAsString();
    }

    private static void ensureNewlineAtEnd(Path file) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            if (raf.length() == 0) return;
            raf.seek(raf.length() - 1);
            if (raf.read() != '\n') raf.write('\n');
        }
    }

    private static void append(Path file, List<String> lines) {
        try {
            if (file.toAbsolutePath().getParent() != null)
                Files.createDirectories(file.toAbsolutePath().getParent());
            try (Writer w = Files.newBufferedWriter(
                    file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
                for (String s : lines) {
                    w.write(s);
                    w.write('\n');
                }
            }
        } catch (IOException e) {
            throw new RlcdException(file + ": cannot append outputs (" + e.getMessage() + ")", e);
        }
    }

    private static String first(List<String> xs) {
        return xs.size() <= 5
                ? String.join(", ", xs)
                : String.join(", ", xs.subList(0, 5)) + " and " + (xs.size() - 5) + " more";
    }
}
