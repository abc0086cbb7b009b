package rlcd4j.engine;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.Fixtures;
import rlcd4j.engine.llama.Safetensors;
import rlcd4j.hub.HfHub;
import rlcd4j.util.RlcdException;

/**
 * Broken model folders, built from the TinyStories-656K fixture in a temporary folder and then damaged: each gives one
 * RlcdException naming the file or field and what was expected, and none takes the JVM down. Also the checkpoints
 * that are not broken but unusual: bf16 and fp16 weights, and sharded weights.
 */
public class BadInputTest {
    static final List<String> PROMPTS = List.of("Once upon a time", "The little dog");
    static CausalLM reference;
    static float[][] referenceLogits;

    @TempDir
    Path tmp;

    @BeforeAll
    static void loadReference() {
        reference = CausalLM.load(Fixtures.tinyStories());
        referenceLogits = reference.nextTokenLogits(PROMPTS);
    }

    @AfterAll
    static void close() {
        reference.close();
    }

    // ------------------------------------------------------------------------------------------------ config.json

    @Test
    void missingConfig() throws IOException {
        Path dir = fixture();
        Files.delete(dir.resolve("config.json"));
        assertLoadFails(dir, "config.json", "missing");
    }

    @Test
    void malformedConfigJson() throws IOException {
        Path dir = fixture();
        String text = Files.readString(dir.resolve("config.json"));
        Files.writeString(dir.resolve("config.json"), text.substring(0, text.length() / 2));
        assertLoadFails(dir, "config.json", "malformed JSON");
        Files.writeString(dir.resolve("config.json"), "[1, 2]");
        assertLoadFails(dir, "config.json", "expected a JSON object");
        Files.writeString(dir.resolve("config.json"), "");
        assertLoadFails(dir, "config.json", "expected a JSON object");
    }

    @Test
    void unsupportedArchitecture() throws IOException {
        Path dir = fixture();
        editConfig(dir, c -> {
            JsonArray a = new JsonArray();
            a.add("GPT2LMHeadModel");
            c.add("architectures", a);
        });
        assertLoadFails(dir, "config.json", "architectures", "GPT2LMHeadModel", "LlamaForCausalLM");
        editConfig(dir, c -> c.addProperty("architectures", "LlamaForCausalLM"));
        assertLoadFails(dir, "config.json", "field architectures", "expected a list");
        editConfig(dir, c -> c.remove("architectures"));
        assertLoadFails(dir, "config.json", "field architectures", "expected a list");
        editConfig(dir, c -> {
            JsonArray a = new JsonArray();
            a.add(new JsonObject());
            c.add("architectures", a);
        });
        assertLoadFails(dir, "config.json", "field architectures", "expected a list");
    }

    @Test
    void missingOrWrongFields() throws IOException {
        Path dir = fixture();
        editConfig(dir, c -> c.remove("hidden_size"));
        assertLoadFails(dir, "config.json", "field hidden_size is missing");
        editConfig(dir, c -> c.addProperty("hidden_size", "big"));
        assertLoadFails(dir, "config.json", "field hidden_size", "expected a whole number", "big");
        editConfig(dir, c -> c.addProperty("num_hidden_layers", -2));
        assertLoadFails(dir, "config.json", "field num_hidden_layers", "expected a positive number");
        editConfig(dir, c -> c.addProperty("num_key_value_heads", 3));
        assertLoadFails(dir, "config.json", "num_attention_heads (8)", "multiple of num_key_value_heads (3)");
        editConfig(dir, c -> c.addProperty("hidden_size", 130));
        assertLoadFails(dir, "config.json", "hidden_size (130)", "multiple of num_attention_heads (8)");
        editConfig(dir, c -> c.addProperty("tie_word_embeddings", "yes"));
        assertLoadFails(dir, "config.json", "field tie_word_embeddings", "expected true or false");
        editConfig(dir, c -> c.addProperty("rms_norm_eps", "tiny"));
        assertLoadFails(dir, "config.json", "field rms_norm_eps", "expected a number");
        editConfig(dir, c -> c.addProperty("eos_token_id", "end"));
        assertLoadFails(dir, "config.json", "field eos_token_id", "expected a token id");
        editConfig(dir, c -> {
            JsonObject rs = new JsonObject();
            rs.addProperty("rope_type", "yarn");
            c.add("rope_scaling", rs);
        });
        assertLoadFails(dir, "config.json", "rope_scaling.rope_type", "yarn", "llama3");
    }

    // ------------------------------------------------------------------------------------------------ weights

    @Test
    void truncatedSafetensors() throws IOException {
        Path dir = fixture();
        Path st = dir.resolve("model.safetensors");
        byte[] b = Files.readAllBytes(st);
        Files.write(st, java.util.Arrays.copyOf(b, b.length / 2));
        assertLoadFails(dir, "model.safetensors", "truncated", "tensor", "bytes");
        Files.write(st, java.util.Arrays.copyOf(b, 1000)); // the header itself is cut
        assertLoadFails(dir, "model.safetensors", "corrupt or truncated", "header length");
        Files.write(st, new byte[0]);
        assertLoadFails(dir, "model.safetensors", "truncated (0 bytes)");
    }

    @Test
    void corruptSafetensorsHeader() throws IOException {
        Path dir = fixture();
        Path st = dir.resolve("model.safetensors");
        byte[] good = Files.readAllBytes(st);
        byte[] b = good.clone();
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 0x7FFF_FFFF_FFFFL); // absurd header length
        Files.write(st, b);
        assertLoadFails(dir, "model.safetensors", "corrupt", "header length");
        b = good.clone();
        for (int i = 8; i < 40; i++) b[i] = (byte) '#'; // garbage where the JSON starts
        Files.write(st, b);
        assertLoadFails(dir, "model.safetensors", "corrupt", "not a JSON object");
        b = good.clone();
        java.util.Arrays.fill(b, 0, 8, (byte) 0xFF); // a negative length
        Files.write(st, b);
        assertLoadFails(dir, "model.safetensors", "corrupt or truncated", "header length");
    }

    @Test
    void malformedTensorEntries() throws IOException {
        Path dir = fixture();
        Path st = dir.resolve("model.safetensors");
        Map<String, Raw> t = readRaw(st);
        // A header entry without dtype, then one whose byte range disagrees with its shape, then an unknown dtype.
        writeRawHeader(st, t, "model.norm.weight", e -> e.remove("dtype"));
        assertLoadFails(dir, "model.safetensors", "model.norm.weight", "dtype");
        writeRawHeader(
                st,
                t,
                "model.norm.weight",
                e -> e.getAsJsonArray("shape").set(0, new com.google.gson.JsonPrimitive(64)));
        assertLoadFails(dir, "model.safetensors", "model.norm.weight", "has 512 bytes", "need 256");
        writeRawHeader(st, t, "model.norm.weight", e -> e.addProperty("dtype", "F8_E4M3"));
        assertLoadFails(dir, "model.safetensors", "model.norm.weight", "F8_E4M3", "expected F32");
        writeRawHeader(st, t, "model.norm.weight", e -> e.add("shape", new JsonObject()));
        assertLoadFails(dir, "model.safetensors", "model.norm.weight", "shape");
        writeRawHeader(
                st,
                t,
                "model.norm.weight",
                e -> e.getAsJsonArray("data_offsets").remove(1));
        assertLoadFails(dir, "model.safetensors", "model.norm.weight", "data_offsets");
    }

    @Test
    void tensorShapeDisagreesWithConfig() throws IOException {
        Path dir = fixture();
        editConfig(dir, c -> c.addProperty("intermediate_size", 512));
        assertLoadFails(
                dir, "model.safetensors", "mlp.gate_proj.weight", "[384, 128]", "config.json implies [512, 128]");
        editConfig(dir, c -> c.addProperty("vocab_size", 4096));
        assertLoadFails(dir, "model.safetensors", "[2048, 128]", "config.json implies [4096, 128]");
        editConfig(dir, c -> c.addProperty("num_hidden_layers", 3));
        assertLoadFails(dir, "model.layers.2.input_layernorm.weight", "is missing", "expected shape [128]");
        editConfig(dir, c -> c.addProperty("tie_word_embeddings", false));
        // Untied: the checkpoint stores lm_head.weight only, so the embedding is what is missing.
        assertLoadFails(dir, "model.embed_tokens.weight", "is missing", "expected shape [2048, 128]");
    }

    @Test
    void missingWeights() throws IOException {
        Path dir = fixture();
        Files.delete(dir.resolve("model.safetensors"));
        assertLoadFails(
                dir,
                "no model.safetensors and no model.safetensors.index.json",
                "expected Hugging Face safetensors weights");
        Files.write(dir.resolve("pytorch_model.bin"), new byte[] {0x50, 0x4b});
        assertLoadFails(dir, "pytorch_model.bin is a pickle");
    }

    @Test
    void brokenShardIndex() throws IOException {
        Path dir = fixture();
        splitIntoTwoShards(dir);
        Path index = dir.resolve("model.safetensors.index.json");
        String good = Files.readString(index);
        Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
        assertLoadFails(dir, "model-00002-of-00002.safetensors", "missing");
        splitIntoTwoShards(rebuild(dir));
        Files.writeString(index, good.substring(0, 30));
        assertLoadFails(dir, "model.safetensors.index.json", "malformed JSON");
        Files.writeString(index, "{\"metadata\": {}}");
        assertLoadFails(dir, "model.safetensors.index.json", "weight_map is missing");
        JsonObject o = JsonParser.parseString(good).getAsJsonObject();
        o.getAsJsonObject("weight_map").addProperty("model.extra.weight", "model-00001-of-00002.safetensors");
        Files.writeString(index, o.toString());
        assertLoadFails(
                dir,
                "model-00001-of-00002.safetensors",
                "model.extra.weight",
                "listed in model.safetensors.index.json");
        o = JsonParser.parseString(good).getAsJsonObject();
        o.getAsJsonObject("weight_map").addProperty("model.norm.weight", "../elsewhere.safetensors");
        Files.writeString(index, o.toString());
        assertLoadFails(dir, "model.safetensors.index.json", "../elsewhere.safetensors");
    }

    // ------------------------------------------------------------------------------------------------ tokenizer

    @Test
    void missingTokenizer() throws IOException {
        Path dir = fixture();
        Files.delete(dir.resolve("tokenizer.json"));
        assertLoadFails(dir, "tokenizer.json is missing", "expected a Hugging Face fast-tokenizer file");
        Files.write(dir.resolve("tokenizer.model"), new byte[] {1});
        assertLoadFails(dir, "tokenizer.json is missing", "SentencePiece tokenizer.model");
    }

    @Test
    void corruptTokenizerFiles() throws IOException {
        Path dir = fixture();
        Path tj = dir.resolve("tokenizer.json");
        String good = Files.readString(tj);
        Files.writeString(tj, good.substring(0, good.length() / 2));
        assertLoadFails(dir, "tokenizer.json", "cannot load tokenizer");
        Files.writeString(tj, "{\"model\": {\"type\": \"Nonsense\"}}");
        assertLoadFails(dir, "tokenizer.json", "cannot load tokenizer");
        Files.writeString(tj, good);
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": ");
        assertLoadFails(dir, "tokenizer_config.json", "malformed JSON");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{}");
        Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": \"end\"}");
        assertLoadFails(dir, "generation_config.json", "eos_token_id", "expected a token id");
    }

    // ------------------------------------------------------------------------------------------------ names

    @Test
    void unknownNameOfflineAndNoFolder(@TempDir Path cache) {
        HfHub offline = new HfHub(cache, true);
        RlcdException e = assertThrows(
                RlcdException.class, () -> CausalLM.load("nobody/no-such-model", CausalLM.Options.defaults(), offline));
        assertMessage(e, "nobody/no-such-model", "not in the Hugging Face cache", "HF_HUB_OFFLINE=1");
        e = assertThrows(
                RlcdException.class,
                () -> CausalLM.load("/no/such/folder/anywhere", CausalLM.Options.defaults(), offline));
        assertMessage(e, "/no/such/folder/anywhere", "no such folder");
    }

    // ------------------------------------------------------------------------------------------------ unusual but
    // valid

    /*
     * The fixture's fp32 weights all have zero low 16 bits (it was trained in bf16; checked below), so bf16 and fp16
     * hold them exactly: widening back to fp32 must give the very same logits, not merely close ones. That catches
     * byte-order, rounding and shift mistakes that a tolerance would let through.
     */
    @Test
    void bf16WeightsLoadAsFp32WithTheFp32ModelsLogits() throws IOException {
        Path dir = fixture();
        Path st = dir.resolve("model.safetensors");
        Map<String, Raw> t = readRaw(st);
        for (var e : t.entrySet()) {
            ByteBuffer in = ByteBuffer.wrap(e.getValue().data()).order(ByteOrder.LITTLE_ENDIAN);
            while (in.hasRemaining()) assertEquals(0, in.getInt() & 0xFFFF, e.getKey() + " is bf16-exact");
        }
        Map<String, Raw> bf = new LinkedHashMap<>();
        for (var e : t.entrySet()) {
            ByteBuffer in = ByteBuffer.wrap(e.getValue().data()).order(ByteOrder.LITTLE_ENDIAN);
            ByteBuffer out = ByteBuffer.allocate(in.capacity() / 2).order(ByteOrder.LITTLE_ENDIAN);
            while (in.hasRemaining()) {
                int bits = Float.floatToRawIntBits(in.getFloat());
                out.putShort((short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16)); // round to nearest even
            }
            bf.put(e.getKey(), new Raw("BF16", e.getValue().shape(), out.array()));
        }
        writeRaw(st, bf);
        try (CausalLM lm = CausalLM.load(dir)) {
            assertEquals(DataType.FLOAT32, lm.model().dtype());
            assertSameLogits(lm.nextTokenLogits(PROMPTS), "bf16");
        }
    }

    @Test
    void fp16WeightsLoadAsFp32WithTheFp32ModelsLogits() throws IOException {
        Path dir = fixture();
        Path st = dir.resolve("model.safetensors");
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> half = Safetensors.loadAll(m, st, DataType.FLOAT16);
            Safetensors.write(st, half, null);
        }
        assertTrue(
                Safetensors.index(st).values().stream().allMatch(i -> i.dtype().equals("F16")));
        try (CausalLM lm = CausalLM.load(dir)) {
            assertSameLogits(lm.nextTokenLogits(PROMPTS), "fp16");
        }
    }

    @Test
    void shardedCheckpointGivesIdenticalLogits() throws IOException {
        Path dir = fixture();
        splitIntoTwoShards(dir);
        assertFalse(Files.exists(dir.resolve("model.safetensors")));
        try (CausalLM lm = CausalLM.load(dir)) {
            assertSameLogits(lm.nextTokenLogits(PROMPTS), "sharded");
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    static void assertSameLogits(float[][] got, String what) {
        for (int i = 0; i < got.length; i++) assertArrayEquals(referenceLogits[i], got[i], what + " prompt " + i);
    }

    Path fixture() throws IOException {
        Path dir = tmp.resolve("model");
        copyFixture(dir);
        return dir;
    }

    Path rebuild(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) Files.delete(p);
        }
        copyFixture(dir);
        return dir;
    }

    /** Writes the fixture's files into {@code dir} (as fresh, writable files; the shared folder is read-only). */
    public static void copyFixture(Path dir) throws IOException {
        Files.createDirectories(dir);
        try (Stream<Path> s = Files.list(Fixtures.tinyStories())) {
            for (Path p : s.toList()) Files.write(dir.resolve(p.getFileName().toString()), Files.readAllBytes(p));
        }
    }

    static void editConfig(Path dir, Consumer<JsonObject> edit) throws IOException {
        JsonObject c = JsonParser.parseString(
                        Files.readString(Fixtures.tinyStories().resolve("config.json")))
                .getAsJsonObject();
        edit.accept(c);
        Files.writeString(dir.resolve("config.json"), c.toString());
    }

    static void assertLoadFails(Path dir, String... parts) {
        RlcdException e =
                assertThrows(RlcdException.class, () -> CausalLM.load(dir).close());
        assertMessage(e, parts);
    }

    static void assertMessage(RlcdException e, String... parts) {
        for (String p : parts) assertTrue(e.getMessage().contains(p), "message lacks \"" + p + "\": " + e.getMessage());
    }

    /** One tensor's dtype, shape and little-endian bytes. */
    record Raw(String dtype, long[] shape, byte[] data) {}

    static Map<String, Raw> readRaw(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        Map<String, Raw> out = new LinkedHashMap<>();
        for (Safetensors.TensorInfo t : Safetensors.index(file).values()) {
            out.put(t.name(), new Raw(t.dtype(), t.shape(), java.util.Arrays.copyOfRange(all, (int) t.offset(), (int)
                    (t.offset() + t.length()))));
        }
        return out;
    }

    /** A safetensors file written byte by byte (so any dtype, BF16 included). */
    static void writeRaw(Path file, Map<String, Raw> tensors) throws IOException {
        writeRawHeader(file, tensors, null, null);
    }

    /** {@link #writeRaw}, with the header entry of {@code name} passed through {@code edit} first. */
    static void writeRawHeader(Path file, Map<String, Raw> tensors, String name, Consumer<JsonObject> edit)
            throws IOException {
        JsonObject header = new JsonObject();
        JsonObject meta = new JsonObject();
        meta.addProperty("format", "pt");
        header.add("__metadata__", meta);
        long offset = 0;
        for (var e : tensors.entrySet()) {
            JsonObject t = new JsonObject();
            t.addProperty("dtype", e.getValue().dtype());
            JsonArray shape = new JsonArray();
            for (long d : e.getValue().shape()) shape.add(d);
            t.add("shape", shape);
            JsonArray off = new JsonArray();
            off.add(offset);
            off.add(offset + e.getValue().data().length);
            t.add("data_offsets", off);
            if (e.getKey().equals(name)) edit.accept(t);
            header.add(e.getKey(), t);
            offset += e.getValue().data().length;
        }
        byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (h.length + 7) / 8 * 8;
        ByteBuffer out =
                ByteBuffer.allocate(Math.toIntExact(8 + padded + offset)).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(h);
        for (int i = h.length; i < padded; i++) out.put((byte) ' ');
        for (Raw r : tensors.values()) out.put(r.data());
        Files.write(file, out.array());
    }

    /** Replaces {@code model.safetensors} by two shards and the index that transformers writes for them. */
    public static void splitIntoTwoShards(Path dir) throws IOException {
        Path st = dir.resolve("model.safetensors");
        Map<String, Raw> all = readRaw(st);
        List<String> names = new ArrayList<>(all.keySet());
        Map<String, Raw> a = new LinkedHashMap<>(), b = new LinkedHashMap<>();
        JsonObject weightMap = new JsonObject();
        long total = 0;
        for (int i = 0; i < names.size(); i++) {
            boolean first = i < names.size() / 2;
            (first ? a : b).put(names.get(i), all.get(names.get(i)));
            weightMap.addProperty(
                    names.get(i), first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors");
            total += all.get(names.get(i)).data().length;
        }
        writeRaw(dir.resolve("model-00001-of-00002.safetensors"), a);
        writeRaw(dir.resolve("model-00002-of-00002.safetensors"), b);
        JsonObject index = new JsonObject();
        JsonObject meta = new JsonObject();
        meta.addProperty("total_size", total);
        index.add("metadata", meta);
        index.add("weight_map", weightMap);
        Files.writeString(dir.resolve("model.safetensors.index.json"), index.toString());
        Files.delete(st);
    }
}
