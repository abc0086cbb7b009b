package rlcd4j.util;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.Strictness;
import com.google.gson.internal.Streams;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;

import java.io.IOException;
import java.io.StringReader;

/** Strict one-object-per-line JSON (JSONL) helpers: no lenient parsing, no HTML escaping, nulls kept. */
public final class Json {
    private Json() {}

    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().serializeNulls().create();

    /** Parses one JSONL line as an object; throws IllegalArgumentException with a short reason otherwise. */
    public static JsonObject parseObject(String line) {
        try (JsonReader r = new JsonReader(new StringReader(line))) {
            r.setStrictness(Strictness.STRICT);
            JsonElement e = Streams.parse(r);
            if (r.peek() != JsonToken.END_DOCUMENT) throw new IllegalArgumentException("text after the JSON value");
            if (!e.isJsonObject()) throw new IllegalArgumentException("expected a JSON object, got " + kind(e));
            return e.getAsJsonObject();
        } catch (JsonParseException | IOException | IllegalStateException e) {
            // Gson's messages advise leniency and name its classes; keep only where the parse stopped.
            String m = String.valueOf(e.getMessage());
            java.util.regex.Matcher col = java.util.regex.Pattern.compile("column (\\d+)").matcher(m);
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

    public static String write(JsonObject o) {
        return GSON.toJson(o);
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
