package rlcd4j.util;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;

/**
 * The toolkit's one Gson configuration (as DJL's {@code JsonUtils.GSON}), and strict one-object-per-line JSON (JSONL)
 * helpers. Texts are written as they are: no HTML escaping ({@code <} stays {@code <}, not a Unicode escape).
 * <ul>
 *   <li>{@link #GSON} and {@link #PRETTY} (de)serialise Java objects; a null field is left out, as Gson does by
 *       default.</li>
 *   <li>{@link #write} and {@link #writePretty} write a JSON tree as it was built: a member set to JSON null is
 *       written as {@code null} (the JSONL logs and Hugging Face's tokenizer.json need their explicit nulls).</li>
 *   <li>{@link #parseObject} reads one JSONL line strictly.</li>
 * </ul>
 */
public final class Json {
    private Json() {}

    /** Compact JSON, e.g. one line of a JSONL file or a command's output. */
    public static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();
    /** Indented JSON, for files people read (configs, checkpoints' state, reports' keys). */
    public static final Gson PRETTY =
            new GsonBuilder().disableHtmlEscaping().setPrettyPrinting().create();

    private static final TypeAdapter<JsonElement> TREE = GSON.getAdapter(JsonElement.class);

    /** Parses one JSONL line as an object; throws IllegalArgumentException with a short reason otherwise. */
    public static JsonObject parseObject(String line) {
        try (JsonReader r = new JsonReader(new StringReader(line))) {
            r.setStrictness(Strictness.STRICT);
            JsonElement e = JsonParser.parseReader(r);
            if (r.peek() != JsonToken.END_DOCUMENT) throw new IllegalArgumentException("text after the JSON value");
            if (!e.isJsonObject()) throw new IllegalArgumentException("expected a JSON object, got " + kind(e));
            return e.getAsJsonObject();
        } catch (JsonParseException | IOException | IllegalStateException e) {
            // Gson's messages advise leniency and name its classes; keep only where the parse stopped.
            String m = String.valueOf(e.getMessage());
            java.util.regex.Matcher col =
                    java.util.regex.Pattern.compile("column (\\d+)").matcher(m);
            boolean early = m.contains("EOFException") || m.contains("End of input");
            throw new IllegalArgumentException("malformed JSON" + (early ? " (the line ends early" : " (")
                    + (col.find() ? (early ? ", " : "") + "at column " + col.group(1) : "") + ")");
        }
    }

    /** A string field, or null when absent or JSON null; throws when present with another type. */
    public static String string(JsonObject o, String key) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) return null;
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw new IllegalArgumentException("field '" + key + "' must be a string, got " + kind(e));
        }
        return e.getAsString();
    }

    /** {@code e} as one line of compact JSON, JSON nulls included. */
    public static String write(JsonElement e) {
        return writeTree(GSON, e);
    }

    /** {@code e} as indented JSON, JSON nulls included. */
    public static String writePretty(JsonElement e) {
        return writeTree(PRETTY, e);
    }

    private static String writeTree(Gson gson, JsonElement e) {
        StringWriter out = new StringWriter();
        try {
            JsonWriter w = gson.newJsonWriter(out);
            w.setSerializeNulls(true);
            // As Gson's own toJson(JsonElement): a NaN or infinite number is written (as NaN, Infinity), not refused.
            w.setStrictness(Strictness.LENIENT);
            TREE.write(w, e);
            w.flush();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex); // a StringWriter does not throw
        }
        return out.toString();
    }

    static String kind(JsonElement e) {
        if (e.isJsonNull()) return "null";
        if (e.isJsonObject()) return "an object";
        if (e.isJsonArray()) return "an array";
        if (e.getAsJsonPrimitive().isString()) return "a string";
        if (e.getAsJsonPrimitive().isNumber()) return "a number";
        return "a boolean";
    }
}
