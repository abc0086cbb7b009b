package rlcd4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.llama.LoraAdapter;
import rlcd4j.util.Json;
import rlcd4j.util.PythonStrings;
import rlcd4j.util.RlcdException;

/**
 * A preference (reward) model: a language-model backbone and a scalar head read at the last real token, as
 * AlpacaFarm's {@code RewardModel} that RLCD trained. With LoRA, the backbone's base weights are shared and frozen and
 * only the adapter and the head train; otherwise the whole backbone trains.
 *
 * <p>The text a preference model reads is the paper's, {@code prompt + ' ' + response.rstrip() + '\n\nHuman:'}, so
 * the last token is the end of the turn marker the RLCD models were trained to produce; {@link #text} also strips the
 * prompt's end and the response's start, so that every caller gives the model the same form.
 */
public final class PreferenceModel implements AutoCloseable {
    /** Appended to every response: "our reward model was trained with \n\nHuman: as the end token" (RLCD patch). */
    public static final String END = "\n\nHuman:";

    private final CausalLM backbone;
    private final LoraAdapter adapter;
    private final NDManager manager;
    private final NDArray headWeight; // [1, D]
    private final NDArray headBias; // [1]
    private final int maxLength;
    /** True when {@link #load} loaded the backbone itself (full fine-tuning): then {@link #close} closes it too. */
    private boolean ownsBackbone;

    private PreferenceModel(
            CausalLM backbone, LoraAdapter adapter, NDManager manager, NDArray w, NDArray b, int maxLength) {
        this.backbone = backbone;
        this.adapter = adapter;
        this.manager = manager;
        this.headWeight = w;
        this.headBias = b;
        this.maxLength = maxLength;
    }

    /**
     * A new preference model on {@code backbone}: head weight U(-1/sqrt(D), 1/sqrt(D)) (PyTorch's Linear default), bias
     * 0 (AlpacaFarm); with {@code lora} non-null, a fresh adapter on the shared backbone.
     */
    public static PreferenceModel create(CausalLM backbone, LoraAdapter.Config lora, int maxLength, long seed) {
        NDManager m = backbone.manager().newSubManager();
        int D = backbone.config().hiddenSize();
        SplittableRandom rng = new SplittableRandom(seed);
        float[] w = new float[D];
        double bound = 1.0 / Math.sqrt(D);
        for (int i = 0; i < D; i++) w[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        LoraAdapter adapter = lora == null ? null : LoraAdapter.create(backbone.config(), lora, m, seed + 1);
        return new PreferenceModel(
                backbone, adapter, m, m.create(w, new Shape(1, D)), m.zeros(new Shape(1), DataType.FLOAT32), maxLength);
    }

    /**
     * The one place a preference model's input is built, for training, evaluation and PPO's scoring alike: the
     * paper's split, prompt {@code prompt.rstrip() + ' '} and response {@code response.strip() + '\n\nHuman:'}. The
     * paper strips only the response's end; its start is stripped too because a byte-level tokenizer decodes a
     * sampled response with its leading space (" Sure"), which would otherwise reach the model as
     * {@code "Assistant:  Sure"}, a form its training pairs never had.
     */
    public static String[] text(String prompt, String response) {
        return new String[] {prompt.stripTrailing() + " ", PythonStrings.strip(response) + END};
    }

    /** {@link #text} as one string (the pair is tokenised as one text, so scoring this is scoring the pair). */
    public static String input(String prompt, String response) {
        String[] t = text(prompt, response);
        return t[0] + t[1];
    }

    /**
     * A whole conversation that already holds the prompt (HH-RLHF's {@code chosen}/{@code rejected}), as the paper's
     * human-agreement script scores it: {@code conversation.strip() + '\n\nHuman:'}. For an HH-RLHF row this equals
     * {@link #input} of its prompt and its last answer.
     */
    public static String transcript(String conversation) {
        return PythonStrings.strip(conversation) + END;
    }

    /** Rewards [B] of a batch (already formatted with {@link #text}); builds a graph when called under a GradientCollector. */
    public NDArray rewards(SequenceBatch batch) {
        backbone.model().setAdapter(adapter);
        NDArray hidden = backbone.model()
                .forward(
                        batch.batch().ids(),
                        batch.batch().positions(),
                        batch.batch().mask(),
                        null);
        return head(hidden.get(":, -1, :")); // left padding: the last column is every row's last real token
    }

    /** The scalar head on hidden states [..., D] -> [...]. PPO's value model reads it at every position. */
    public NDArray head(NDArray hidden) {
        NDArray h = rlcd4j.engine.Precision.toFloat32(hidden); // the head and the loss in fp32
        return h.getNDArrayInternal()
                .linear(h, headWeight, headBias)
                .singletonOrThrow()
                .squeeze(-1);
    }

    /** Rewards of (prompt, response) pairs, in batches, without gradients. */
    public double[] score(List<String> prompts, List<String> responses, int batchSize) {
        double[] out = new double[prompts.size()];
        for (int s = 0; s < prompts.size(); s += batchSize) {
            int e = Math.min(prompts.size(), s + batchSize);
            List<String> p = new ArrayList<>(), r = new ArrayList<>();
            for (int i = s; i < e; i++) {
                String[] t = text(prompts.get(i), responses.get(i));
                p.add(t[0]);
                r.add(t[1]);
            }
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                SequenceBatch b = SequenceBatch.of(backbone.manager(), backbone.tokenizer(), p, r, maxLength, false);
                float[] v = rewards(b).toFloatArray();
                for (int i = 0; i < v.length; i++) out[s + i] = v[i];
            }
        }
        return out;
    }

    /** What training updates: the head, plus the adapter (LoRA) or every backbone weight (full fine-tuning). */
    public Map<String, NDArray> trainable() {
        Map<String, NDArray> p = new LinkedHashMap<>();
        p.put("reward_head.weight", headWeight);
        p.put("reward_head.bias", headBias);
        headWeight.setRequiresGradient(true);
        headBias.setRequiresGradient(true);
        p.putAll(
                adapter != null
                        ? Parameters.lora(adapter, backbone.model().dtype())
                        : Parameters.full(backbone.model()));
        return p;
    }

    /**
     * Saves {@code reward_head.safetensors} and {@code preference_model.json}, plus the adapter in PEFT's layout
     * ({@code adapter/}) or the whole backbone as a Hugging Face folder ({@code backbone/}).
     */
    public void save(Path dir) {
        try {
            Files.createDirectories(dir);
            Map<String, NDArray> head = new LinkedHashMap<>();
            head.put("reward_head.weight", headWeight);
            head.put("reward_head.bias", headBias);
            rlcd4j.engine.llama.Safetensors.write(dir.resolve("reward_head.safetensors"), head, null);
            JsonObject c = new JsonObject();
            c.addProperty(
                    "base_model",
                    backbone.folder() == null
                            ? backbone.name()
                            : backbone.folder().toAbsolutePath().toString());
            c.addProperty("lora", adapter != null);
            c.addProperty("max_length", maxLength);
            c.addProperty("input_format", "prompt.rstrip() + ' ' + response.strip() + '\\n\\nHuman:'");
            Files.writeString(dir.resolve("preference_model.json"), Json.PRETTY.toJson(c), StandardCharsets.UTF_8);
            if (adapter != null)
                adapter.save(dir.resolve("adapter"), c.get("base_model").getAsString());
            else backbone.save(dir.resolve("backbone"));
        } catch (IOException e) {
            throw new RlcdException(dir + ": cannot save preference model: " + e.getMessage(), e);
        }
    }

    /**
     * Loads a saved preference model. A LoRA model attaches its adapter to {@code base} (which must be the base model
     * it was trained on); a fully fine-tuned one loads its own backbone, which {@link #close} closes, and {@code base}
     * may be null.
     */
    public static PreferenceModel load(Path dir, CausalLM base) {
        JsonObject c;
        try {
            c = JsonParser.parseString(Files.readString(dir.resolve("preference_model.json")))
                    .getAsJsonObject();
        } catch (IOException | RuntimeException e) {
            throw new RlcdException(
                    dir.resolve("preference_model.json")
                            + ": missing or malformed; expected a folder saved by PreferenceModel.save",
                    e);
        }
        boolean lora = c.get("lora").getAsBoolean();
        CausalLM backbone = lora ? base : CausalLM.load(dir.resolve("backbone"));
        if (backbone == null) throw new RlcdException(dir + ": a LoRA preference model needs its base model");
        NDManager m = backbone.manager().newSubManager();
        LoraAdapter adapter = lora ? LoraAdapter.load(dir.resolve("adapter"), backbone.config(), m) : null;
        Map<String, NDArray> head =
                rlcd4j.engine.llama.Safetensors.loadAll(m, dir.resolve("reward_head.safetensors"), DataType.FLOAT32);
        NDArray w = head.get("reward_head.weight"), b = head.get("reward_head.bias");
        if (w == null || b == null)
            throw new RlcdException(
                    dir.resolve("reward_head.safetensors") + ": expected reward_head.weight and reward_head.bias");
        int maxLength = c.has("max_length") ? c.get("max_length").getAsInt() : 512;
        PreferenceModel pm = new PreferenceModel(backbone, adapter, m, w, b, maxLength);
        pm.ownsBackbone = !lora;
        return pm;
    }

    public CausalLM backbone() {
        return backbone;
    }

    public LoraAdapter adapter() {
        return adapter;
    }

    public int maxLength() {
        return maxLength;
    }

    /** Frees the head and adapter, and the backbone when {@link #load} loaded it (a LoRA model's base stays open). */
    @Override
    public void close() {
        manager.close();
        if (ownsBackbone) backbone.close();
    }
}
