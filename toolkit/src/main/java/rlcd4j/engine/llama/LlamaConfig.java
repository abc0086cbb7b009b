package rlcd4j.engine.llama;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonSyntaxException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import rlcd4j.util.RlcdException;

/**
 * The fields of a Hugging Face {@code config.json} that a LLaMA-family decoder needs. LLaMA, Mistral and Qwen2 share one
 * architecture here; they differ only in these fields (Qwen2: q/k/v biases; LLaMA 3: rope scaling; all: GQA, tying).
 *
 * @param ropeScaling null, or the {@code rope_scaling} object of type {@code llama3}
 */
public record LlamaConfig(
        String architecture,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int maxPositions,
        double rmsNormEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        boolean attentionBias,
        boolean mlpBias,
        boolean tieWordEmbeddings,
        Integer bosTokenId,
        List<Integer> eosTokenIds,
        Integer padTokenId,
        String torchDtype) {

    public static final List<String> SUPPORTED = List.of("LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM");

    /** LLaMA 3's frequency-dependent RoPE scaling ({@code rope_type: llama3}). */
    public record RopeScaling(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {}

    public int kvGroups() {
        return numHeads / numKvHeads;
    }

    /** Reads and validates {@code config.json}; every error names the file and the field. */
    public static LlamaConfig read(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new RlcdException(file + ": missing; a model folder needs a Hugging Face config.json");
        } catch (IOException e) {
            throw new RlcdException(file + ": cannot read: " + e.getMessage(), e);
        }
        JsonObject o;
        try {
            JsonElement e = JsonParser.parseString(text);
            if (!e.isJsonObject()) throw new RlcdException(file + ": expected a JSON object");
            o = e.getAsJsonObject();
        } catch (JsonSyntaxException e) {
            throw new RlcdException(file + ": malformed JSON: " + e.getMessage(), e);
        }
        return fromJson(o, file.toString());
    }

    public static LlamaConfig fromJson(JsonObject o, String where) {
        Fields f = new Fields(o, where);
        String arch = f.architecture();
        int hidden = f.positiveInt("hidden_size");
        int heads = f.positiveInt("num_attention_heads");
        int kvHeads =
                o.has("num_key_value_heads") && !o.get("num_key_value_heads").isJsonNull()
                        ? f.positiveInt("num_key_value_heads")
                        : heads;
        if (heads % kvHeads != 0) {
            throw new RlcdException(where + ": field num_attention_heads (" + heads
                    + ") must be a multiple of num_key_value_heads (" + kvHeads + ")");
        }
        int headDim = o.has("head_dim") && !o.get("head_dim").isJsonNull() ? f.positiveInt("head_dim") : hidden / heads;
        if (!o.has("head_dim") && hidden % heads != 0) {
            throw new RlcdException(where + ": field hidden_size (" + hidden
                    + ") must be a multiple of num_attention_heads (" + heads + ")");
        }
        boolean qwen = arch.equals("Qwen2ForCausalLM");
        return new LlamaConfig(
                arch,
                f.positiveInt("vocab_size"),
                hidden,
                f.positiveInt("intermediate_size"),
                f.positiveInt("num_hidden_layers"),
                heads,
                kvHeads,
                headDim,
                f.intOr("max_position_embeddings", 2048),
                f.doubleOr("rms_norm_eps", 1e-6),
                f.doubleOr("rope_theta", 10000.0),
                f.ropeScaling(),
                qwen || f.boolOr("attention_bias", false),
                f.boolOr("mlp_bias", false),
                f.boolOr(
                        "tie_word_embeddings",
                        false) /* LlamaConfig, MistralConfig and Qwen2Config all default to untied */,
                f.intOrNull("bos_token_id"),
                f.intList("eos_token_id"),
                f.intOrNull("pad_token_id"),
                o.has("torch_dtype") && !o.get("torch_dtype").isJsonNull()
                        ? o.get("torch_dtype").getAsString()
                        : "float32");
    }

    /** Writes the config in the Hugging Face layout, so that transformers and this engine both read it back. */
    public JsonObject toJson() {
        JsonObject o = new JsonObject();
        com.google.gson.JsonArray archs = new com.google.gson.JsonArray();
        archs.add(architecture);
        o.add("architectures", archs);
        o.addProperty(
                "model_type",
                switch (architecture) {
                    case "MistralForCausalLM" -> "mistral";
                    case "Qwen2ForCausalLM" -> "qwen2";
                    default -> "llama";
                });
        o.addProperty("vocab_size", vocabSize);
        o.addProperty("hidden_size", hiddenSize);
        o.addProperty("intermediate_size", intermediateSize);
        o.addProperty("num_hidden_layers", numLayers);
        o.addProperty("num_attention_heads", numHeads);
        o.addProperty("num_key_value_heads", numKvHeads);
        if (headDim != hiddenSize / numHeads) o.addProperty("head_dim", headDim);
        o.addProperty("max_position_embeddings", maxPositions);
        o.addProperty("rms_norm_eps", rmsNormEps);
        o.addProperty("rope_theta", ropeTheta);
        if (ropeScaling != null) {
            JsonObject rs = new JsonObject();
            rs.addProperty("rope_type", "llama3");
            rs.addProperty("factor", ropeScaling.factor());
            rs.addProperty("low_freq_factor", ropeScaling.lowFreqFactor());
            rs.addProperty("high_freq_factor", ropeScaling.highFreqFactor());
            rs.addProperty("original_max_position_embeddings", ropeScaling.originalMaxPositions());
            o.add("rope_scaling", rs);
        } else {
            o.add("rope_scaling", com.google.gson.JsonNull.INSTANCE);
        }
        o.addProperty("attention_bias", attentionBias);
        o.addProperty("mlp_bias", mlpBias);
        o.addProperty("hidden_act", "silu");
        o.addProperty("tie_word_embeddings", tieWordEmbeddings);
        if (bosTokenId != null) o.addProperty("bos_token_id", bosTokenId);
        if (eosTokenIds != null && !eosTokenIds.isEmpty()) {
            if (eosTokenIds.size() == 1) o.addProperty("eos_token_id", eosTokenIds.get(0));
            else {
                com.google.gson.JsonArray a = new com.google.gson.JsonArray();
                eosTokenIds.forEach(a::add);
                o.add("eos_token_id", a);
            }
        }
        if (padTokenId != null) o.addProperty("pad_token_id", padTokenId);
        o.addProperty("torch_dtype", torchDtype);
        return o;
    }

    /** Field readers that name the file and field in every error. */
    private record Fields(JsonObject o, String where) {
        String architecture() {
            if (!o.has("architectures")
                    || !o.get("architectures").isJsonArray()
                    || o.getAsJsonArray("architectures").isEmpty()) {
                throw new RlcdException(
                        where + ": field architectures: expected a list such as [\"LlamaForCausalLM\"]");
            }
            JsonElement first = o.getAsJsonArray("architectures").get(0);
            if (!first.isJsonPrimitive() || !first.getAsJsonPrimitive().isString()) {
                throw new RlcdException(
                        where + ": field architectures: expected a list such as [\"LlamaForCausalLM\"], got "
                                + o.get("architectures"));
            }
            String a = first.getAsString();
            if (!SUPPORTED.contains(a)) {
                throw new RlcdException(
                        where + ": field architectures: " + a + " is not supported; expected one of " + SUPPORTED);
            }
            return a;
        }

        int positiveInt(String name) {
            if (!o.has(name) || o.get(name).isJsonNull())
                throw new RlcdException(where + ": field " + name + " is missing");
            int v;
            try {
                v = o.get(name).getAsInt();
            } catch (RuntimeException e) {
                throw new RlcdException(where + ": field " + name + ": expected a whole number, got " + o.get(name));
            }
            if (v <= 0) throw new RlcdException(where + ": field " + name + ": expected a positive number, got " + v);
            return v;
        }

        int intOr(String name, int dflt) {
            return o.has(name) && !o.get(name).isJsonNull() ? positiveInt(name) : dflt;
        }

        Integer intOrNull(String name) {
            if (!o.has(name) || o.get(name).isJsonNull()) return null;
            JsonElement e = o.get(name);
            if (e.isJsonArray())
                return e.getAsJsonArray().isEmpty()
                        ? null
                        : e.getAsJsonArray().get(0).getAsInt();
            try {
                return e.getAsInt();
            } catch (RuntimeException ex) {
                throw new RlcdException(where + ": field " + name + ": expected a token id, got " + e);
            }
        }

        List<Integer> intList(String name) {
            if (!o.has(name) || o.get(name).isJsonNull()) return List.of();
            JsonElement e = o.get(name);
            try {
                if (e.isJsonArray()) {
                    return e.getAsJsonArray().asList().stream()
                            .map(JsonElement::getAsInt)
                            .toList();
                }
                return List.of(e.getAsInt());
            } catch (RuntimeException ex) {
                throw new RlcdException(
                        where + ": field " + name + ": expected a token id or a list of them, got " + e);
            }
        }

        double doubleOr(String name, double dflt) {
            if (!o.has(name) || o.get(name).isJsonNull()) return dflt;
            try {
                return o.get(name).getAsDouble();
            } catch (RuntimeException e) {
                throw new RlcdException(where + ": field " + name + ": expected a number, got " + o.get(name));
            }
        }

        boolean boolOr(String name, boolean dflt) {
            if (!o.has(name) || o.get(name).isJsonNull()) return dflt;
            // Gson reads any string as false ("yes" too), so only a JSON boolean counts.
            if (!o.get(name).isJsonPrimitive()
                    || !o.get(name).getAsJsonPrimitive().isBoolean()) {
                throw new RlcdException(where + ": field " + name + ": expected true or false, got " + o.get(name));
            }
            return o.get(name).getAsBoolean();
        }

        RopeScaling ropeScaling() {
            if (!o.has("rope_scaling") || o.get("rope_scaling").isJsonNull()) return null;
            if (!o.get("rope_scaling").isJsonObject())
                throw new RlcdException(where + ": field rope_scaling: expected an object or null");
            JsonObject r = o.getAsJsonObject("rope_scaling");
            String type = r.has("rope_type")
                    ? r.get("rope_type").getAsString()
                    : r.has("type") ? r.get("type").getAsString() : "";
            if (!type.equals("llama3")) {
                throw new RlcdException(where + ": field rope_scaling.rope_type: \"" + type
                        + "\" is not supported; expected \"llama3\" or null");
            }
            Fields rf = new Fields(r, where + " rope_scaling");
            return new RopeScaling(
                    rf.doubleOr("factor", 8.0),
                    rf.doubleOr("low_freq_factor", 1.0),
                    rf.doubleOr("high_freq_factor", 4.0),
                    rf.intOr("original_max_position_embeddings", 8192));
        }
    }
}
