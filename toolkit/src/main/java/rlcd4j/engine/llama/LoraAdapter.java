package rlcd4j.engine.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonArray;
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
import java.util.Set;
import java.util.SplittableRandom;
import rlcd4j.util.Json;
import rlcd4j.util.RlcdException;

/**
 * A LoRA adapter: for each targeted linear layer W [out, in], two small matrices A [r, in] and B [out, r] so that the
 * layer computes {@code x W^T + (alpha / r) * dropout(x) A^T B^T}. B starts at zero, so a fresh adapter changes nothing.
 *
 * <p>Several adapters (policy, value, reward) can share one frozen base model: the model applies whichever adapter is
 * active, and none for the frozen reference. Saved in PEFT's layout ({@code adapter_model.safetensors} with names
 * {@code base_model.model.<module>.lora_A.weight}, plus {@code adapter_config.json}).
 */
public final class LoraAdapter implements AutoCloseable {
    /** The projection names LoRA may target, as in PEFT's {@code target_modules}. */
    public static final List<String> ALL_TARGETS =
            List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

    /** rank r, scaling alpha (the update is multiplied by alpha / r), dropout on the adapter's input, targets. */
    public record Config(int rank, double alpha, double dropout, Set<String> targets) {
        public Config {
            if (rank <= 0) throw new RlcdException("LoRA rank must be positive, got " + rank);
            for (String t : targets) {
                if (!ALL_TARGETS.contains(t))
                    throw new RlcdException("LoRA target " + t + " is not one of " + ALL_TARGETS);
            }
        }

        /** PEFT's common default for LLaMA: r 8, alpha 16, dropout 0.05 on the attention projections q and v. */
        public static Config defaults() {
            return new Config(8, 16, 0.05, Set.of("q_proj", "v_proj"));
        }

        public double scaling() {
            return alpha / rank;
        }
    }

    private final Config config;
    private final NDManager manager;
    /** module name (e.g. {@code model.layers.0.self_attn.q_proj}) -> {A, B}. */
    private final Map<String, NDArray[]> layers;

    private LoraAdapter(Config config, NDManager manager, Map<String, NDArray[]> layers) {
        this.config = config;
        this.manager = manager;
        this.layers = layers;
    }

    /** A fresh adapter: A ~ U(-1/sqrt(in), 1/sqrt(in)) (PEFT's kaiming-uniform with a = sqrt(5)), B = 0. Seeded. */
    public static LoraAdapter create(LlamaConfig model, Config config, NDManager parent, long seed) {
        NDManager m = parent.newSubManager();
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, NDArray[]> layers = new LinkedHashMap<>();
        for (String module : modules(model, config)) {
            long[] io = inOut(model, module);
            long in = io[0], out = io[1];
            float bound = (float) (1.0 / Math.sqrt(in));
            float[] a = new float[(int) (config.rank() * in)];
            for (int i = 0; i < a.length; i++) a[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
            NDArray A = m.create(a, new Shape(config.rank(), in));
            NDArray B = m.zeros(new Shape(out, config.rank()), DataType.FLOAT32);
            layers.put(module, new NDArray[] {A, B});
        }
        return new LoraAdapter(config, m, layers);
    }

    static List<String> modules(LlamaConfig model, Config config) {
        List<String> out = new ArrayList<>();
        for (int l = 0; l < model.numLayers(); l++) {
            for (String t : ALL_TARGETS) {
                if (!config.targets().contains(t)) continue;
                String block =
                        t.endsWith("_proj") && (t.startsWith("gate") || t.startsWith("up") || t.startsWith("down"))
                                ? "mlp"
                                : "self_attn";
                out.add("model.layers." + l + "." + block + "." + t);
            }
        }
        return out;
    }

    /** {in, out} features of a targeted projection. */
    static long[] inOut(LlamaConfig c, String module) {
        long d = c.hiddenSize(),
                q = (long) c.numHeads() * c.headDim(),
                kv = (long) c.numKvHeads() * c.headDim(),
                f = c.intermediateSize();
        String t = module.substring(module.lastIndexOf('.') + 1);
        return switch (t) {
            case "q_proj" -> new long[] {d, q};
            case "k_proj", "v_proj" -> new long[] {d, kv};
            case "o_proj" -> new long[] {q, d};
            case "gate_proj", "up_proj" -> new long[] {d, f};
            case "down_proj" -> new long[] {f, d};
            default -> throw new IllegalArgumentException(module);
        };
    }

    public Config config() {
        return config;
    }

    /** {A, B} for a module, or null when the module is not adapted. */
    public NDArray[] layer(String module) {
        return layers.get(module);
    }

    /** An independent copy of this adapter's matrices (detached, so it trains on its own), in {@code parent}. */
    public LoraAdapter copy(NDManager parent) {
        NDManager m = parent.newSubManager();
        Map<String, NDArray[]> copied = new LinkedHashMap<>();
        layers.forEach((module, ab) -> {
            NDArray[] c = {
                ab[0].stopGradient().duplicate(), ab[1].stopGradient().duplicate()
            };
            for (NDArray a : c) a.attach(m);
            copied.put(module, c);
        });
        return new LoraAdapter(config, m, copied);
    }

    /** Holds the matrices in {@code type} from now on (the arrays are replaced; old references see the old values). */
    public void castTo(DataType type) {
        layers.replaceAll((module, ab) -> {
            if (ab[0].getDataType() == type && ab[1].getDataType() == type) return ab;
            NDArray[] cast = {ab[0].toType(type, true), ab[1].toType(type, true)};
            for (NDArray c : cast) c.attach(manager);
            ab[0].close();
            ab[1].close();
            return cast;
        });
    }

    /** The trainable matrices under PEFT's names. */
    public Map<String, NDArray> parameters() {
        Map<String, NDArray> p = new LinkedHashMap<>();
        layers.forEach((module, ab) -> {
            p.put("base_model.model." + module + ".lora_A.weight", ab[0]);
            p.put("base_model.model." + module + ".lora_B.weight", ab[1]);
        });
        return p;
    }

    /** Saves {@code adapter_model.safetensors} and {@code adapter_config.json} in PEFT's layout. */
    public void save(Path dir, String baseModelName) {
        try {
            Files.createDirectories(dir);
            Safetensors.write(dir.resolve("adapter_model.safetensors"), parameters(), null);
            JsonObject c = new JsonObject();
            c.addProperty("peft_type", "LORA");
            c.addProperty("task_type", "CAUSAL_LM");
            c.addProperty("r", config.rank());
            c.addProperty("lora_alpha", config.alpha());
            c.addProperty("lora_dropout", config.dropout());
            c.addProperty("bias", "none");
            c.addProperty("fan_in_fan_out", false);
            c.addProperty("inference_mode", true);
            c.addProperty("base_model_name_or_path", baseModelName);
            JsonArray targets = new JsonArray();
            ALL_TARGETS.stream().filter(config.targets()::contains).forEach(targets::add);
            c.add("target_modules", targets);
            Files.writeString(dir.resolve("adapter_config.json"), Json.PRETTY.toJson(c), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new RlcdException(dir + ": cannot save adapter: " + e.getMessage(), e);
        }
    }

    /** Loads a PEFT LoRA adapter folder for a model with config {@code model}. */
    public static LoraAdapter load(Path dir, LlamaConfig model, NDManager parent) {
        Path cfgFile = dir.resolve("adapter_config.json");
        JsonObject c;
        try {
            c = JsonParser.parseString(Files.readString(cfgFile)).getAsJsonObject();
        } catch (IOException e) {
            throw new RlcdException(cfgFile + ": missing or unreadable; expected PEFT's adapter_config.json", e);
        } catch (RuntimeException e) {
            throw new RlcdException(cfgFile + ": malformed JSON: " + e.getMessage(), e);
        }
        if (c.has("peft_type") && !"LORA".equals(c.get("peft_type").getAsString())) {
            throw new RlcdException(cfgFile + ": field peft_type is " + c.get("peft_type") + "; expected \"LORA\"");
        }
        if (!c.has("r") || !c.has("lora_alpha") || !c.has("target_modules")) {
            throw new RlcdException(cfgFile + ": fields r, lora_alpha and target_modules are required");
        }
        Set<String> targets = new java.util.LinkedHashSet<>();
        if (c.get("target_modules").isJsonArray())
            c.getAsJsonArray("target_modules").forEach(e -> targets.add(e.getAsString()));
        else throw new RlcdException(cfgFile + ": field target_modules: expected a list of module names");
        Config config = new Config(
                c.get("r").getAsInt(),
                c.get("lora_alpha").getAsDouble(),
                c.has("lora_dropout") ? c.get("lora_dropout").getAsDouble() : 0.0,
                targets);
        NDManager m = parent.newSubManager();
        Map<String, Safetensors.TensorInfo> index = Safetensors.index(dir.resolve("adapter_model.safetensors"));
        Map<String, NDArray[]> layers = new LinkedHashMap<>();
        for (String module : modules(model, config)) {
            NDArray[] ab = new NDArray[2];
            for (int i = 0; i < 2; i++) {
                String name = "base_model.model." + module + (i == 0 ? ".lora_A.weight" : ".lora_B.weight");
                Safetensors.TensorInfo t = index.get(name);
                if (t == null)
                    throw new RlcdException(
                            dir.resolve("adapter_model.safetensors") + ": tensor " + name + " is missing");
                long[] io = inOut(model, module);
                long[] expected = i == 0 ? new long[] {config.rank(), io[0]} : new long[] {io[1], config.rank()};
                if (!java.util.Arrays.equals(t.shape(), expected)) {
                    throw new RlcdException(dir.resolve("adapter_model.safetensors") + ": tensor " + name
                            + " has shape " + java.util.Arrays.toString(t.shape()) + "; expected "
                            + java.util.Arrays.toString(expected));
                }
                ab[i] = Safetensors.load(m, t, DataType.FLOAT32);
            }
            layers.put(module, ab);
        }
        return new LoraAdapter(config, m, layers);
    }

    @Override
    public void close() {
        manager.close();
    }
}
