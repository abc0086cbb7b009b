package rlcd4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.StringJoiner;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import rlcd4j.data.PreferencePairs;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.Table;

/**
 * What the SFT, preference-model and DPO loops share so that a run repeats exactly and resumes exactly: the data order
 * of an epoch, the RNG seed of a step, and the check that a checkpoint belongs to this run before it is restored.
 */
final class Runs {
    private Runs() {}

    /** The order of the {@code n} examples in {@code epoch}: a Fisher-Yates shuffle seeded by (seed, epoch) only. */
    static int[] order(int n, long seed, long epoch) {
        return permutation(n, seed * 1_000_003L + epoch);
    }

    /** A seeded permutation of 0..n-1 (Fisher-Yates on SplittableRandom): every trainer's data order comes from here. */
    static int[] permutation(int n, long seed) {
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) idx[i] = i;
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        return idx;
    }

    /**
     * A 0-d float tensor allocated by libtorch, for scalars on the gradient path. DJL's {@code x.div(float)} wraps the
     * number in a tensor over a Java direct buffer and closes it at once, while autograd keeps it for the backward
     * pass; after a GC the gradient is computed from freed memory (measured: d(3x)/dx read back as 1.4e-45, and NaN
     * gradient norms after a few hundred steps).
     */
    static NDArray scalar(NDManager m, double v) {
        return m.full(new ai.djl.ndarray.types.Shape(), (float) v, ai.djl.ndarray.types.DataType.FLOAT32);
    }

    /** The same in {@code like}'s type; a float64 scalar is the sum of two floats, so it keeps a double's precision. */
    static NDArray scalar(NDArray like, double v) {
        if (like.getDataType() != ai.djl.ndarray.types.DataType.FLOAT64) return scalar(like.getManager(), v);
        NDManager m = like.getManager();
        ai.djl.ndarray.types.Shape s = new ai.djl.ndarray.types.Shape();
        return m.full(s, (float) v, ai.djl.ndarray.types.DataType.FLOAT64)
                .add(m.full(s, (float) (v - (float) v), ai.djl.ndarray.types.DataType.FLOAT64));
    }

    /** A short hash of the training texts; a checkpoint made on other data is refused. */
    @SafeVarargs
    static String fingerprint(List<String>... columns) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (List<String> c : columns) {
                for (String s : c) {
                    md.update(s.getBytes(StandardCharsets.UTF_8));
                    md.update((byte) 0);
                }
                md.update((byte) 1);
            }
            return HexFormat.of().formatHex(md.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code "name: k=v k=v ..."}: the config as one line, printed when training starts. */
    static String describe(String trainer, JsonObject config) {
        StringJoiner j = new StringJoiner(" ", trainer + ": ", "");
        for (Map.Entry<String, JsonElement> e : config.entrySet()) {
            String v = e.getValue().isJsonNull()
                    ? "off"
                    : e.getValue().isJsonPrimitive()
                            ? e.getValue().getAsString()
                            : e.getValue().toString();
            j.add(e.getKey() + "=" + v.replace("\n", "\\n")); // one line: PPO's stop marker holds newlines
        }
        return j.toString();
    }

    /**
     * Restores the newest checkpoint in {@code outDir} into {@code params} and {@code optimizer} and returns its state,
     * or returns null when there is none. A checkpoint written with another config (apart from how often to save,
     * evaluate and how many to keep) or on other data is refused, since resuming it could not repeat the run.
     */
    static JsonObject resume(
            Path outDir,
            String trainer,
            JsonObject config,
            String data,
            Map<String, NDArray> params,
            AdamW optimizer,
            NDManager m) {
        if (outDir == null) return null;
        Path ck = Checkpoint.latest(outDir);
        if (ck == null) return null;
        JsonObject saved;
        try {
            saved = JsonParser.parseString(Files.readString(ck.resolve(Checkpoint.STATE)))
                    .getAsJsonObject();
        } catch (IOException | RuntimeException e) {
            throw new RlcdException(ck.resolve(Checkpoint.STATE) + ": unreadable: " + e.getMessage(), e);
        }
        String savedTrainer = saved.has("trainer") ? saved.get("trainer").getAsString() : "?";
        if (!trainer.equals(savedTrainer)) {
            throw new RlcdException(ck + ": this checkpoint was written by " + savedTrainer + ", not " + trainer
                    + "; use another output folder");
        }
        JsonObject a = comparable(config), b = comparable(saved.getAsJsonObject("config"));
        if (!a.equals(b)) {
            throw new RlcdException(ck + ": this checkpoint was written with config " + b + " but the run now has " + a
                    + "; resume with the same settings or use another output folder");
        }
        if (!data.equals(saved.get("data").getAsString())) {
            throw new RlcdException(ck + ": this checkpoint was trained on other data (fingerprint "
                    + saved.get("data").getAsString() + ", now " + data + "); use another output folder");
        }
        return Checkpoint.restore(ck, params, optimizer, m);
    }

    /**
     * The settings that must match to resume. PPO checkpoints written before configs were snake_case have camelCase
     * keys and the LoRA settings as a record string ({@code Config[rank=4, alpha=8.0, ...]}): read as today's form.
     */
    static JsonObject comparable(JsonObject c) {
        JsonObject o = new JsonObject();
        for (Map.Entry<String, JsonElement> e : c.entrySet()) {
            String key = snakeCase(e.getKey());
            JsonElement v = e.getValue();
            if (key.equals("lora") && v.isJsonPrimitive() && v.getAsString().startsWith("Config[")) {
                v = loraJson(v.getAsString());
            }
            o.add(key, v.deepCopy());
        }
        for (String k : List.of("save_every", "keep_checkpoints", "eval_every", "eval_batch_size", "save_steps")) {
            o.remove(k);
        }
        // Nulls are not written to the checkpoint's JSON; an unset setting reads back as absent.
        o.entrySet().removeIf(e -> e.getValue().isJsonNull());
        return o;
    }

    static String snakeCase(String key) {
        return key.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(java.util.Locale.ROOT);
    }

    private static final Pattern LEGACY_LORA =
            Pattern.compile("Config\\[rank=(\\d+), alpha=([^,]+), dropout=([^,]+), targets=\\[([^\\]]*)]]");

    /** {@code LoraAdapter.Config}'s record string, as PPO once stored it, as the JSON the trainers write. */
    private static JsonElement loraJson(String legacy) {
        Matcher m = LEGACY_LORA.matcher(legacy);
        if (!m.matches()) return new com.google.gson.JsonPrimitive(legacy);
        Set<String> targets = new HashSet<>(List.of(m.group(4).split(",\\s*")));
        return PreferenceModelTrainer.loraJson(new rlcd4j.engine.llama.LoraAdapter.Config(
                Integer.parseInt(m.group(1)), Double.parseDouble(m.group(2)), Double.parseDouble(m.group(3)), targets));
    }

    /** The state a trainer saves with each checkpoint. */
    static JsonObject state(String trainer, JsonObject config, String data, long seed) {
        JsonObject s = new JsonObject();
        s.addProperty("trainer", trainer);
        s.addProperty("seed", seed);
        s.addProperty("data", data);
        s.add("config", config);
        return s;
    }

    /** A text column of an input table, by name; a clear error when it is missing. */
    static List<String> texts(Table t, String column, String what) {
        if (!t.containsColumn(column)) {
            throw new RlcdException(what + ": column \"" + column + "\" is missing; columns are " + t.columnNames());
        }
        List<String> out = new ArrayList<>(t.rowCount());
        var col = t.column(column);
        for (int i = 0; i < t.rowCount(); i++) {
            if (col.isMissing(i))
                throw new RlcdException(what + ": row " + (i + 1) + ", column \"" + column + "\" is empty");
            out.add(col.getString(i));
        }
        return out;
    }

    /** The probability that {@code chosen} is better, per pair; a label outside [0, 1] names its pair. */
    static double[] pChosen(PreferencePairs pairs, String what) {
        double[] p = pairs.pChosen();
        for (int i = 0; i < p.length; i++) {
            if (!(p[i] >= 0 && p[i] <= 1)) {
                throw new RlcdException(what + ": pair id " + pairs.get(i).id() + ", p_chosen is " + p[i]
                        + "; expected a probability in [0, 1]");
            }
        }
        return p;
    }
}
