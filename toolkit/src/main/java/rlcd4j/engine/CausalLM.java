package rlcd4j.engine;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rlcd4j.engine.cpu.NativeDecoder;
import rlcd4j.engine.llama.LlamaConfig;
import rlcd4j.engine.llama.LlamaModel;
import rlcd4j.engine.llama.Safetensors;
import rlcd4j.hub.HfHub;
import rlcd4j.progress.Progress;
import rlcd4j.util.Json;
import rlcd4j.util.RlcdException;
import rlcd4j.util.Seeds;
import tech.tablesaw.api.Table;

/**
 * A causal language model ready to generate and score: a LLaMA-family decoder, its tokenizer and its device.
 *
 * <pre>{@code
 * try (var lm = CausalLM.load("HuggingFaceTB/SmolLM2-135M-Instruct")) {
 *     Table t = lm.generateTable(List.of("Human: Hi!\n\nAssistant:"), GenerationConfig.evaluation());
 * }
 * }</pre>
 */
public final class CausalLM implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CausalLM.class);

    /**
     * Device, weight type, and which weights decode steps read. Defaults: fp32 on CPU; fp16 on a GPU (DJL 0.36 cannot
     * hold bf16 tensors); decode steps read the fp32 arrays ({@code "fp32"}). {@code "checkpoint"} makes CPU decode
     * steps read a checkpoint stored in bf16 or fp16 in that type, exactly its values, at half the bytes per step
     * ({@link LlamaModel#decodeWeights}); for an fp32 checkpoint it changes nothing.
     */
    public record Options(String revision, Device device, DataType dtype, String decodeWeights) {
        /** The values of {@code decodeWeights}. */
        public static final List<String> DECODE_WEIGHTS = List.of("fp32", "checkpoint");
        /** What decode steps read unless asked otherwise. */
        public static final String DEFAULT_DECODE_WEIGHTS = "fp32";

        public Options {
            if (!DECODE_WEIGHTS.contains(decodeWeights))
                throw new IllegalArgumentException("decode weights: expected fp32 or checkpoint, got " + decodeWeights);
        }

        public static Options defaults() {
            Device d = Engine.getInstance().defaultDevice();
            return new Options(null, d, d.isGpu() ? DataType.FLOAT16 : DataType.FLOAT32, DEFAULT_DECODE_WEIGHTS);
        }

        public Options withDevice(Device d) {
            return new Options(revision, d, dtype, decodeWeights);
        }

        public Options withDtype(DataType t) {
            return new Options(revision, device, t, decodeWeights);
        }

        public Options withRevision(String r) {
            return new Options(r, device, dtype, decodeWeights);
        }

        /** {@code "fp32"} or {@code "checkpoint"}, as above. */
        public Options withDecodeWeights(String w) {
            return new Options(revision, device, dtype, w);
        }
    }

    private final String name;
    private final Path dir;
    private final NDManager manager;
    private final LlamaModel model;
    private final Tokenizer tokenizer;

    private CausalLM(String name, Path dir, NDManager manager, LlamaModel model, Tokenizer tokenizer) {
        this.name = name;
        this.dir = dir;
        this.manager = manager;
        this.model = model;
        this.tokenizer = tokenizer;
    }

    /** Loads from a local folder, the Hugging Face cache, or the Hub (by repo id). */
    public static CausalLM load(String nameOrPath) {
        return load(nameOrPath, Options.defaults());
    }

    public static CausalLM load(String nameOrPath, Options options) {
        return load(nameOrPath, options, HfHub.fromEnvironment());
    }

    /** Loads through {@code hub} (its cache, endpoint, token and offline setting) instead of the environment's. */
    public static CausalLM load(String nameOrPath, Options options, HfHub hub) {
        Path dir = hub.resolveModel(nameOrPath, options.revision());
        return loadFolder(nameOrPath, dir, options);
    }

    public static CausalLM load(Path dir) {
        return loadFolder(dir.toString(), dir, Options.defaults());
    }

    private static CausalLM loadFolder(String name, Path dir, Options options) {
        LlamaConfig config = LlamaConfig.read(dir.resolve("config.json"));
        Tokenizer tok = Tokenizer.load(dir, config);
        NDManager manager = NDManager.newBaseManager(options.device());
        try {
            LlamaModel model = LlamaModel.load(dir, config, manager, options.dtype());
            String stored = model.storedType();
            if (options.decodeWeights().equals("checkpoint") && ("BF16".equals(stored) || "F16".equals(stored))) {
                String type = stored.equals("BF16") ? "bf16" : "fp16";
                if (!model.decodeWeights(type)) {
                    LOG.warn(
                            "{}: decode steps read fp32 weights: {} weights need the native decode step, which does "
                                    + "not run here ({})",
                            name,
                            type,
                            NativeDecoder.status());
                }
            }
            return new CausalLM(name, dir, manager, model, tok);
        } catch (RuntimeException e) {
            manager.close();
            tok.close();
            throw e;
        }
    }

    /** Wraps a model built in code (e.g. freshly initialised for pretraining) with a tokenizer from {@code tokenizerDir}. */
    public static CausalLM of(String name, LlamaModel model, Tokenizer tokenizer) {
        return new CausalLM(name, null, model.manager(), model, tokenizer);
    }

    /** Greedy or sampled continuations of {@code prompts}, decoded up to {@code config.batchSize()} at a time (continuously batched). */
    public List<Generation> generate(List<String> prompts, GenerationConfig config) {
        long[] seeds = new long[prompts.size()];
        for (int i = 0; i < seeds.length; i++) seeds[i] = Seeds.rowSeed(config.seed(), i);
        try (Progress p = Progress.start("generate", (long) prompts.size() * config.maxNewTokens())) {
            return decode(prompts, config, seeds, p);
        }
    }

    /**
     * Like {@link #generate(List, GenerationConfig)}, but row {@code i} samples from its own generator seeded with
     * {@code rowSeeds[i]} ({@code config.seed()} is not used), so a caller that queues samples across calls (the RLCD
     * simulator: one seed per prompt, side and attempt) gets each sample independent of what it was batched with and
     * of resuming. Reports no progress of its own: such callers decode batch after batch and report their own units.
     */
    public List<Generation> generate(List<String> prompts, GenerationConfig config, long[] rowSeeds) {
        if (rowSeeds.length != prompts.size()) {
            throw new IllegalArgumentException(prompts.size() + " prompts but " + rowSeeds.length + " row seeds");
        }
        return decode(prompts, config, rowSeeds, null);
    }

    private List<Generation> decode(List<String> prompts, GenerationConfig config, long[] rowSeeds, Progress p) {
        return Generator.generate(model, tokenizer, manager, prompts, config, rowSeeds, p);
    }

    /**
     * Continuous batching: decodes up to {@code config.batchSize()} samples at a time, taking the next prompt from
     * {@code queue} as soon as a sample ends and handing each sample back when it ends. For work that arrives as it
     * goes (the RLCD simulator queues a failed side again) or whose samples end at very different lengths; a sample
     * is what it would be alone with its seed, whatever it ran beside.
     */
    public <T> void generate(GenerationConfig config, GenerationQueue<T> queue) {
        Generator.generate(model, tokenizer, manager, config, queue);
    }

    public Generation generate(String prompt, GenerationConfig config) {
        return generate(List.of(prompt), config).get(0);
    }

    /** {@link #generate} as a table: {@code prompt, output, tokens, logprob, finish_reason}. */
    public Table generateTable(List<String> prompts, GenerationConfig config) {
        return Generation.toTable(generate(prompts, config));
    }

    /**
     * Logits [batch][vocab] of the token after each prompt (prompts tokenised with BOS when the tokenizer adds one).
     * RLAIF scoring reads the logits of {@code A} and {@code B} here.
     */
    public float[][] nextTokenLogits(List<String> prompts) {
        float[][] out = new float[prompts.size()][];
        int batch = 8;
        for (int start = 0; start < prompts.size(); start += batch) {
            List<String> part = prompts.subList(start, Math.min(prompts.size(), start + batch));
            List<long[]> ids = new ArrayList<>();
            for (String s : part) ids.add(tokenizer.encode(s, true));
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                Batch b = Batch.leftPadded(manager, ids, tokenizer.padId());
                NDArray hidden = model.forward(b.ids(), b.positions(), b.mask(), null);
                NDArray logits = model.logits(hidden.get(":, -1, :")).toType(DataType.FLOAT32, false);
                float[] flat = logits.toFloatArray();
                int V = (int) logits.getShape().get(1);
                for (int i = 0; i < part.size(); i++) {
                    out[start + i] = java.util.Arrays.copyOfRange(flat, i * V, (i + 1) * V);
                }
            }
        }
        return out;
    }

    /**
     * Log-probabilities of {@code continuation} after {@code prompt}. The text {@code prompt + continuation} is
     * tokenised as a whole (as training sees it); the continuation's tokens are those after the longest common prefix
     * with the tokenised prompt, so a token that straddles the boundary counts as the continuation's.
     */
    public Scored score(String prompt, String continuation) {
        return score(List.of(prompt), List.of(continuation)).get(0);
    }

    public List<Scored> score(List<String> prompts, List<String> continuations) {
        if (prompts.size() != continuations.size()) {
            throw new IllegalArgumentException(
                    prompts.size() + " prompts but " + continuations.size() + " continuations");
        }
        List<Scored> out = new ArrayList<>();
        int batch = 4;
        for (int start = 0; start < prompts.size(); start += batch) {
            int end = Math.min(prompts.size(), start + batch);
            List<long[]> full = new ArrayList<>();
            int[] boundary = new int[end - start];
            for (int i = start; i < end; i++) {
                Tokenizer.Pair pair = tokenizer.encodePair(prompts.get(i), continuations.get(i));
                long[] f = pair.ids();
                int c = pair.boundary();
                if (c == 0)
                    throw new RlcdException(
                            "prompt " + i + " tokenises to nothing; scoring needs at least one prompt token (BOS)");
                if (f.length > model.config().maxPositions()) {
                    throw new RlcdException("prompt " + i + " plus its continuation has " + f.length
                            + " tokens; the model's context is "
                            + model.config().maxPositions());
                }
                full.add(f);
                boundary[i - start] = c;
            }
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                Batch b = Batch.leftPadded(manager, full, tokenizer.padId());
                // log P(token t+1 | ..t) [B, T-1]
                NDArray hidden = model.forward(b.ids(), b.positions(), b.mask(), null);
                float[] lp = model.nextTokenLogProbs(hidden, b.ids()).toFloatArray();
                long T = b.ids().getShape().get(1);
                for (int i = 0; i < full.size(); i++) {
                    long[] f = full.get(i);
                    int pad = (int) T - f.length;
                    int n = f.length - boundary[i];
                    long[] ids = java.util.Arrays.copyOfRange(f, boundary[i], f.length);
                    float[] l = new float[n];
                    double sum = 0;
                    for (int j = 0; j < n; j++) {
                        int t = pad + boundary[i] + j; // position of the token in the padded row
                        l[j] = lp[(int) (i * (T - 1) + t - 1)];
                        sum += l[j];
                    }
                    out.add(new Scored(ids, l, sum));
                }
            }
        }
        return out;
    }

    /**
     * Saves a Hugging Face folder: {@code config.json}, {@code model.safetensors} (a tied model stores the shared matrix
     * once, as {@code model.embed_tokens.weight}), {@code generation_config.json} and the tokenizer files.
     */
    public void save(Path out) {
        try {
            Files.createDirectories(out);
            LlamaConfig c = model.config();
            Files.writeString(out.resolve("config.json"), Json.PRETTY.toJson(c.toJson()), StandardCharsets.UTF_8);
            Map<String, NDArray> w = new LinkedHashMap<>(model.weights());
            if (c.tieWordEmbeddings()) w.remove("lm_head.weight");
            Safetensors.write(out.resolve("model.safetensors"), w, null);
            JsonObject gen = new JsonObject();
            if (tokenizer.bosId() != null) gen.addProperty("bos_token_id", tokenizer.bosId());
            gen.addProperty("eos_token_id", tokenizer.eosId());
            gen.addProperty("pad_token_id", tokenizer.padId());
            Files.writeString(out.resolve("generation_config.json"), Json.PRETTY.toJson(gen), StandardCharsets.UTF_8);
            if (dir != null
                    && !dir.toAbsolutePath()
                            .normalize()
                            .equals(out.toAbsolutePath().normalize())) {
                for (String f : List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")) {
                    if (Files.exists(dir.resolve(f)))
                        Files.copy(dir.resolve(f), out.resolve(f), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } catch (IOException e) {
            throw new RlcdException(out + ": cannot save model: " + e.getMessage(), e);
        }
    }

    public String name() {
        return name;
    }

    /** The folder the model was loaded from (null for a model built in code). */
    public Path folder() {
        return dir;
    }

    public LlamaModel model() {
        return model;
    }

    public LlamaConfig config() {
        return model.config();
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public NDManager manager() {
        return manager;
    }

    @Override
    public String toString() {
        LlamaConfig c = model.config();
        return String.format(
                "CausalLM(%s: %s, %d layers, hidden %d, %d/%d heads, vocab %d, %s on %s)",
                name,
                c.architecture(),
                c.numLayers(),
                c.hiddenSize(),
                c.numHeads(),
                c.numKvHeads(),
                c.vocabSize(),
                model.dtype(),
                manager.getDevice());
    }

    @Override
    public void close() {
        model.close();
        manager.close();
        tokenizer.close();
    }
}
