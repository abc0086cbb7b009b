package rlcd4j.serve;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import rlcd4j.engine.GenerationConfig;

/** Reading a request's fields: each wrong one is a 400 naming the field and what it must be. */
final class Requests {
    private Requests() {}

    private static JsonElement present(JsonObject r, String field) {
        JsonElement e = r.get(field);
        return e == null || e.isJsonNull() ? null : e;
    }

    static String string(JsonObject r, String field) {
        JsonElement e = present(r, field);
        if (e == null) return null;
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw ApiError.badRequest("'" + field + "' must be a string", field);
        }
        return e.getAsString();
    }

    private static BigDecimal number(JsonObject r, String field) {
        JsonElement e = present(r, field);
        if (e == null) return null;
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw ApiError.badRequest("'" + field + "' must be a number", field);
        }
        try {
            return e.getAsBigDecimal();
        } catch (NumberFormatException ex) {
            throw ApiError.badRequest("'" + field + "' must be a number", field);
        }
    }

    static int integer(JsonObject r, String field, int absent, int min, int max) {
        BigDecimal v = number(r, field);
        if (v == null) return absent;
        if (v.stripTrailingZeros().scale() > 0) throw ApiError.badRequest("'" + field + "' must be an integer", field);
        if (v.compareTo(BigDecimal.valueOf(min)) < 0 || v.compareTo(BigDecimal.valueOf(max)) > 0) {
            throw ApiError.badRequest("'" + field + "' must be between " + min + " and " + max + ", got " + v, field);
        }
        return v.intValue();
    }

    static long longValue(JsonObject r, String field) {
        BigDecimal v = number(r, field);
        try {
            return v.longValueExact();
        } catch (ArithmeticException e) {
            throw ApiError.badRequest("'" + field + "' must be a 64-bit integer, got " + v, field);
        }
    }

    static double real(JsonObject r, String field, double absent) {
        BigDecimal v = number(r, field);
        return v == null ? absent : v.doubleValue();
    }

    static boolean bool(JsonObject r, String field, boolean absent) {
        JsonElement e = present(r, field);
        if (e == null) return absent;
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isBoolean()) {
            throw ApiError.badRequest("'" + field + "' must be true or false", field);
        }
        return e.getAsBoolean();
    }

    /** A string or a list of strings (OpenAI's {@code stop}); empty when absent. */
    static List<String> strings(JsonObject r, String field) {
        JsonElement e = present(r, field);
        List<String> out = new ArrayList<>();
        if (e == null) return out;
        if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isString()) {
            if (e.getAsString().isEmpty()) {
                throw ApiError.badRequest("'" + field + "' must not be an empty string", field);
            }
            out.add(e.getAsString());
            return out;
        }
        if (!e.isJsonArray()) throw ApiError.badRequest("'" + field + "' must be a string or a list of strings", field);
        for (JsonElement x : e.getAsJsonArray()) {
            if (!x.isJsonPrimitive() || !x.getAsJsonPrimitive().isString()) {
                throw ApiError.badRequest("'" + field + "' must be a string or a list of strings", field);
            }
            if (x.getAsString().isEmpty()) {
                throw ApiError.badRequest("'" + field + "' must not hold an empty string", field);
            }
            out.add(x.getAsString());
        }
        return out;
    }

    /** {@code prompt}: a string or a non-empty list of strings (not token ids: the engine takes text). */
    static List<String> prompts(JsonElement e) {
        if (e == null || e.isJsonNull()) throw ApiError.badRequest("'prompt' is required", "prompt");
        if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isString()) return List.of(e.getAsString());
        String shape = "'prompt' must be a string or a non-empty list of strings (token ids are not accepted)";
        if (!e.isJsonArray() || e.getAsJsonArray().isEmpty()) throw ApiError.badRequest(shape, "prompt");
        List<String> out = new ArrayList<>();
        for (JsonElement x : e.getAsJsonArray()) {
            if (!x.isJsonPrimitive() || !x.getAsJsonPrimitive().isString()) throw ApiError.badRequest(shape, "prompt");
            out.add(x.getAsString());
        }
        return out;
    }

    /** Chat {@code messages}: roles system (or developer), user and assistant; content a string or text parts. */
    static List<ChatFormat.Message> messages(JsonElement e) {
        if (e == null || !e.isJsonArray() || e.getAsJsonArray().isEmpty()) {
            throw ApiError.badRequest("'messages' must be a non-empty list of {role, content} objects", "messages");
        }
        List<ChatFormat.Message> out = new ArrayList<>();
        JsonArray a = e.getAsJsonArray();
        for (int i = 0; i < a.size(); i++) {
            String where = "messages[" + i + "]";
            if (!a.get(i).isJsonObject()) throw ApiError.badRequest(where + " must be an object", "messages");
            JsonObject m = a.get(i).getAsJsonObject();
            String role = string(m, "role");
            if ("developer".equals(role)) role = "system";
            if (!List.of("system", "user", "assistant").contains(String.valueOf(role))) {
                throw ApiError.badRequest(where + ".role must be system, user or assistant, got " + role, "messages");
            }
            out.add(new ChatFormat.Message(role, content(m.get("content"), where)));
        }
        return out;
    }

    private static String content(JsonElement c, String where) {
        if (c != null && c.isJsonPrimitive() && c.getAsJsonPrimitive().isString()) return c.getAsString();
        String shape = where + ".content must be a string or a list of {\"type\": \"text\", \"text\": ...} parts";
        if (c == null || !c.isJsonArray()) throw ApiError.badRequest(shape, "messages");
        StringBuilder sb = new StringBuilder();
        for (JsonElement p : c.getAsJsonArray()) {
            if (!p.isJsonObject()
                    || !new JsonPrimitive("text").equals(p.getAsJsonObject().get("type"))) {
                throw ApiError.badRequest(shape, "messages");
            }
            JsonElement t = p.getAsJsonObject().get("text");
            if (t == null || !t.isJsonPrimitive() || !t.getAsJsonPrimitive().isString()) {
                throw ApiError.badRequest(shape, "messages");
            }
            sb.append(t.getAsString());
        }
        return sb.toString();
    }

    /**
     * The engine's settings from {@code temperature} (0: greedy), {@code top_p}, {@code top_k} (0 or -1: off),
     * {@code stop} (plus {@code extraStops}) and {@code bad_words}.
     */
    static GenerationConfig settings(JsonObject r, int maxTokens, List<String> extraStops) {
        double temperature = real(r, "temperature", 1.0);
        if (!(temperature >= 0)) throw ApiError.badRequest("'temperature' must be >= 0", "temperature");
        double topP = real(r, "top_p", 1.0);
        if (!(topP > 0 && topP <= 1)) throw ApiError.badRequest("'top_p' must be in (0, 1]", "top_p");
        int topK = integer(r, "top_k", 0, -1, Integer.MAX_VALUE);
        List<String> stops = strings(r, "stop");
        for (String s : extraStops) if (!stops.contains(s)) stops.add(s);
        List<String> bad = strings(r, "bad_words");
        return GenerationConfig.defaults()
                .withMaxNewTokens(maxTokens)
                .withTemperature(temperature)
                .withTopK(Math.max(0, topK))
                .withTopP(topP)
                .withStopStrings(stops)
                .withBannedStrings(bad);
    }

    /** Fields whose meaning this server does not implement: refused rather than silently ignored. */
    static void refuseUnsupported(JsonObject r, boolean chat) {
        bool(r, "stream", false); // a boolean; streamed answers come whole (OpenAiServer)
        for (String f : List.of("presence_penalty", "frequency_penalty")) {
            if (real(r, f, 0) != 0) throw ApiError.badRequest("'" + f + "' is not supported (only 0)", f);
        }
        if (real(r, "repetition_penalty", 1) != 1) {
            throw ApiError.badRequest("'repetition_penalty' is not supported (only 1)", "repetition_penalty");
        }
        JsonElement bias = present(r, "logit_bias");
        if (bias != null && !(bias.isJsonObject() && bias.getAsJsonObject().isEmpty())) {
            throw ApiError.badRequest("'logit_bias' is not supported", "logit_bias");
        }
        if (chat) {
            if (bool(r, "logprobs", false)) {
                throw ApiError.badRequest(
                        "'logprobs' is not supported on /v1/chat/completions; use /v1/completions", "logprobs");
            }
        } else {
            if (present(r, "suffix") != null) throw ApiError.badRequest("'suffix' is not supported", "suffix");
            JsonElement bestOf = present(r, "best_of");
            if (bestOf != null
                    && integer(r, "best_of", 1, 1, Integer.MAX_VALUE) != integer(r, "n", 1, 1, Integer.MAX_VALUE)) {
                throw ApiError.badRequest("'best_of' is not supported (only equal to n)", "best_of");
            }
        }
    }
}
