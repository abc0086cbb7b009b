package rlcd4j.sandbox;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import rlcd4j.util.Json;
import rlcd4j.util.RlcdException;

/**
 * The shape of the sandbox base model, written as a Hugging Face LLaMA {@code config.json}. The recommended shape
 * (hidden 256, 4 layers, 4 heads, 2 key/value heads, MLP 768, tied embeddings) has about 3.7 M parameters with a
 * 2 k-token vocabulary: small enough to pretrain on 2 CPU cores within the hour.
 */
public record SandboxModelConfig(
        int hiddenSize,
        int numLayers,
        int numHeads,
        int numKeyValueHeads,
        int intermediateSize,
        int vocabSize,
        int maxPositions,
        double ropeTheta,
        double rmsNormEps,
        boolean tieWordEmbeddings) {
    public SandboxModelConfig {
        if (hiddenSize <= 0
                || numLayers <= 0
                || numHeads <= 0
                || numKeyValueHeads <= 0
                || intermediateSize <= 0
                || vocabSize <= 3
                || maxPositions <= 0) throw new RlcdException("model config: all sizes must be positive (vocab > 3)");
        if (hiddenSize % numHeads != 0)
            throw new RlcdException("model config: hidden " + hiddenSize + " not divisible by heads " + numHeads);
        if (numHeads % numKeyValueHeads != 0)
            throw new RlcdException(
                    "model config: heads " + numHeads + " not divisible by key/value heads " + numKeyValueHeads);
    }

    /** The recommended sandbox shape for a tokenizer of {@code vocabSize} tokens. */
    public static SandboxModelConfig recommended(int vocabSize) {
        return new SandboxModelConfig(256, 4, 4, 2, 768, vocabSize, 512, 10000.0, 1e-5, true);
    }

    public int headDim() {
        return hiddenSize / numHeads;
    }

    /** Parameters of LlamaForCausalLM with this shape (embeddings, attention, SwiGLU MLP, RMSNorms, head if untied). */
    public long parameterCount() {
        long h = hiddenSize, kv = (long) numKeyValueHeads * headDim();
        long perLayer = h * h + 2 * h * kv + h * h + 3 * h * intermediateSize + 2 * h;
        return vocabSize * h + numLayers * perLayer + h + (tieWordEmbeddings ? 0 : vocabSize * h);
    }

    /** Writes {@code config.json} into {@code dir}. */
    public Path write(Path dir) {
        JsonObject c = new JsonObject();
        JsonArray arch = new JsonArray();
        arch.add("LlamaForCausalLM");
        c.add("architectures", arch);
        c.addProperty("model_type", "llama");
        c.addProperty("hidden_size", hiddenSize);
        c.addProperty("intermediate_size", intermediateSize);
        c.addProperty("num_hidden_layers", numLayers);
        c.addProperty("num_attention_heads", numHeads);
        c.addProperty("num_key_value_heads", numKeyValueHeads);
        c.addProperty("head_dim", headDim());
        c.addProperty("hidden_act", "silu");
        c.addProperty("max_position_embeddings", maxPositions);
        c.addProperty("rms_norm_eps", rmsNormEps);
        c.addProperty("rope_theta", ropeTheta);
        c.addProperty("attention_bias", false);
        c.addProperty("mlp_bias", false);
        c.addProperty("initializer_range", 0.02);
        c.addProperty("vocab_size", vocabSize);
        c.addProperty("bos_token_id", BpeTrainer.BOS_ID);
        c.addProperty("eos_token_id", BpeTrainer.EOS_ID);
        c.addProperty("pad_token_id", BpeTrainer.PAD_ID);
        c.addProperty("tie_word_embeddings", tieWordEmbeddings);
        c.addProperty("torch_dtype", "float32");
        c.addProperty("use_cache", true);
        try {
            Files.createDirectories(dir);
            Path file = dir.resolve("config.json");
            Files.writeString(file, Json.PRETTY.toJson(c), StandardCharsets.UTF_8);
            return file;
        } catch (IOException e) {
            throw new RlcdException(dir + ": cannot write config.json: " + e.getMessage(), e);
        }
    }
}
