package rlcd4j.engine.remote;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import rlcd4j.util.Json;
import rlcd4j.util.RlcdException;

/**
 * Reads the answers of an OpenAI-compatible server in the shapes vLLM documents: completions
 * ({@code choices[].text/finish_reason/logprobs}, {@code usage}), model lists and errors. A body of another shape
 * is one clear {@link RlcdException} quoting it (through {@code redact}, so an echoed key never shows).
 */
final class CompletionsJson {
    private CompletionsJson() {}

    /** The server answered, but without log-probabilities for the prompt (echo unsupported): fall back, not fail. */
    static final class NoPromptLogprobs extends RlcdException {
        NoPromptLogprobs(String message) {
            super(message);
        }
    }

    /** choices[0]'s text and finish reason. */
    static Completion completion(String body, UnaryOperator<String> redact) {
        JsonObject choice = firstChoice(body, redact);
        JsonElement text = choice.get("text");
        if (text == null || !text.isJsonPrimitive()) throw malformed("choices[0].text", body, redact);
        JsonElement finish = choice.get("finish_reason"), stop = choice.get("stop_reason");
        boolean stopString = stop != null
                && stop.isJsonPrimitive()
                && stop.getAsJsonPrimitive().isString();
        return new Completion(
                text.getAsString(),
                finish == null || finish.isJsonNull() ? null : finish.getAsString(),
                stopString ? stop.getAsString() : null);
    }

    /**
     * The log-probability of the last of the {@code promptTokens} echoed prompt tokens (the label), from
     * {@code choices[0].logprobs.token_logprobs}. The server must have tokenised the prompt into exactly that many
     * tokens ({@code usage.prompt_tokens} when given), else it is not serving the local tokenizer's model.
     */
    static double promptLogprob(String body, int promptTokens, UnaryOperator<String> redact) {
        JsonObject o = parse(body, redact);
        JsonObject choice = firstChoice(body, redact);
        JsonElement lp = choice.get("logprobs");
        if (lp == null || lp.isJsonNull()) throw new NoPromptLogprobs("the answer has no logprobs");
        if (!lp.isJsonObject()) throw malformed("choices[0].logprobs (an object)", body, redact);
        JsonElement tl = lp.getAsJsonObject().get("token_logprobs");
        if (tl == null || !tl.isJsonArray()) throw malformed("choices[0].logprobs.token_logprobs", body, redact);
        JsonArray values = tl.getAsJsonArray();
        if (values.size() < promptTokens) {
            throw new NoPromptLogprobs("log-probabilities for " + values.size() + " tokens, fewer than the "
                    + promptTokens + " prompt tokens (the prompt was not echoed)");
        }
        JsonElement usage = o.get("usage");
        if (usage != null && usage.isJsonObject() && usage.getAsJsonObject().has("prompt_tokens")) {
            int served = usage.getAsJsonObject().get("prompt_tokens").getAsInt();
            if (served != promptTokens) {
                throw new RlcdException("the server tokenised a scoring prompt into " + served + " tokens, the local "
                        + "tokenizer into " + promptTokens + "; the server must serve the model whose tokenizer was "
                        + "given (same tokenizer, same BOS)");
            }
        }
        JsonElement v = values.get(promptTokens - 1);
        if (v == null || v.isJsonNull() || !v.isJsonPrimitive())
            throw malformed("a number at token_logprobs[" + (promptTokens - 1) + "]", body, redact);
        return v.getAsDouble();
    }

    /** choices[0].logprobs.top_logprobs[0]: the first generated token's top alternatives, text to log-probability. */
    static Map<String, Double> firstTopLogprobs(String body, UnaryOperator<String> redact) {
        JsonObject choice = firstChoice(body, redact);
        JsonElement lp = choice.get("logprobs");
        if (lp == null || !lp.isJsonObject())
            throw malformed("choices[0].logprobs (logprobs were requested)", body, redact);
        JsonElement top = lp.getAsJsonObject().get("top_logprobs");
        if (top == null
                || !top.isJsonArray()
                || top.getAsJsonArray().isEmpty()
                || !top.getAsJsonArray().get(0).isJsonObject()) {
            throw malformed("choices[0].logprobs.top_logprobs[0] (an object)", body, redact);
        }
        Map<String, Double> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e :
                top.getAsJsonArray().get(0).getAsJsonObject().entrySet()) {
            out.put(e.getKey(), e.getValue().getAsDouble());
        }
        return out;
    }

    /** The ids of {@code GET /v1/models}: {@code data[].id}. */
    static List<String> modelIds(String body, UnaryOperator<String> redact) {
        JsonElement data = parse(body, redact).get("data");
        if (data == null || !data.isJsonArray()) throw malformed("data (a list of models)", body, redact);
        List<String> ids = new ArrayList<>();
        for (JsonElement m : data.getAsJsonArray()) {
            if (!m.isJsonObject() || !m.getAsJsonObject().has("id")) throw malformed("data[].id", body, redact);
            ids.add(m.getAsJsonObject().get("id").getAsString());
        }
        return ids;
    }

    /**
     * The message of an error body: OpenAI's {@code {"error": {"message": ...}}} or the flat
     * {@code {"object": "error", "message": ...}} of older vLLM versions; null for any other body.
     */
    static String errorMessage(String body) {
        try {
            JsonObject o = JsonParser.parseString(body).getAsJsonObject();
            JsonElement e = o.get("error");
            if (e != null && e.isJsonObject() && e.getAsJsonObject().has("message")) {
                return e.getAsJsonObject().get("message").getAsString();
            }
            if (e != null && e.isJsonPrimitive()) return e.getAsString();
            if ("error".equals(Json.string(o, "object")) && o.has("message"))
                return o.get("message").getAsString();
            return null;
        } catch (RuntimeException ex) {
            return null;
        }
    }

    private static JsonObject firstChoice(String body, UnaryOperator<String> redact) {
        JsonElement choices = parse(body, redact).get("choices");
        if (choices == null
                || !choices.isJsonArray()
                || choices.getAsJsonArray().isEmpty()
                || !choices.getAsJsonArray().get(0).isJsonObject()) {
            throw malformed("choices[0]", body, redact);
        }
        return choices.getAsJsonArray().get(0).getAsJsonObject();
    }

    private static JsonObject parse(String body, UnaryOperator<String> redact) {
        // Lenient: Python servers write -Infinity/NaN log-probabilities, which strict JSON forbids.
        try {
            JsonElement e = JsonParser.parseString(body);
            if (e.isJsonObject()) return e.getAsJsonObject();
        } catch (RuntimeException e) {
            // reported below
        }
        throw new RlcdException(
                "the server's answer is not a JSON object: " + OpenAiCompletionsBackend.abbreviate(redact.apply(body)));
    }

    private static RlcdException malformed(String expected, String body, UnaryOperator<String> redact) {
        return new RlcdException("malformed answer from the server (expected " + expected + "): "
                + OpenAiCompletionsBackend.abbreviate(redact.apply(body)));
    }
}
