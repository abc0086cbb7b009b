package rlcd4j.sandbox;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.util.RlcdException;

class SandboxModelConfigTest {
    @TempDir
    Path tmp;

    @Test
    void recommendedShapeIsOneToFiveMillionParameters() {
        for (int vocab : new int[] {1866, 2259, 4099}) {
            long n = SandboxModelConfig.recommended(vocab).parameterCount();
            assertTrue(n >= 1_000_000 && n <= 5_000_000, vocab + " -> " + n);
            System.out.printf("recommended sandbox model, vocab %d: %,d parameters%n", vocab, n);
        }
    }

    @Test
    void writesAHuggingFaceLlamaConfig() throws Exception {
        Path file = SandboxModelConfig.recommended(1866).write(tmp);
        JsonObject c = new Gson().fromJson(Files.readString(file), JsonObject.class);
        assertEquals(
                "LlamaForCausalLM", c.getAsJsonArray("architectures").get(0).getAsString());
        assertEquals("llama", c.get("model_type").getAsString());
        assertEquals(1866, c.get("vocab_size").getAsInt());
        assertEquals(256, c.get("hidden_size").getAsInt());
        assertEquals(2, c.get("num_key_value_heads").getAsInt());
        assertEquals(1, c.get("bos_token_id").getAsInt());
        assertEquals(2, c.get("eos_token_id").getAsInt());
        assertEquals(0, c.get("pad_token_id").getAsInt());
        assertTrue(c.get("tie_word_embeddings").getAsBoolean());
        assertEquals("float32", c.get("torch_dtype").getAsString());
        assertEquals(1e-5, c.get("rms_norm_eps").getAsDouble());
        assertEquals(10000.0, c.get("rope_theta").getAsDouble());
    }

    @Test
    void rejectsImpossibleShapes() {
        assertThrows(RlcdException.class, () -> new SandboxModelConfig(250, 4, 4, 2, 768, 2000, 512, 1e4, 1e-5, true));
        assertThrows(RlcdException.class, () -> new SandboxModelConfig(256, 4, 4, 3, 768, 2000, 512, 1e4, 1e-5, true));
        assertThrows(RlcdException.class, () -> new SandboxModelConfig(256, 0, 4, 2, 768, 2000, 512, 1e4, 1e-5, true));
    }

    /** The parameter formula against a real LlamaForCausalLM checkpoint (the 656K TinyStories fixture), if present. */
    @Test
    void parameterCountMatchesARealCheckpoint() throws IOException {
        Path shared = Paths.get(System.getProperty("rlcd4j.shared", "../shared"));
        Path model = shared.resolve("models/TinyStories-656K");
        if (!Files.exists(model.resolve("model.safetensors")))
            model = Paths.get("../../shared/models/TinyStories-656K");
        assertTrue(Files.exists(model.resolve("model.safetensors")), "fixture missing: " + model);
        JsonObject cfg = new Gson().fromJson(Files.readString(model.resolve("config.json")), JsonObject.class);
        SandboxModelConfig c = new SandboxModelConfig(
                cfg.get("hidden_size").getAsInt(),
                cfg.get("num_hidden_layers").getAsInt(),
                cfg.get("num_attention_heads").getAsInt(),
                cfg.get("num_key_value_heads").getAsInt(),
                cfg.get("intermediate_size").getAsInt(),
                cfg.get("vocab_size").getAsInt(),
                512,
                1e4,
                1e-6,
                cfg.get("tie_word_embeddings").getAsBoolean());
        long actual = 0;
        try (InputStream in = Files.newInputStream(model.resolve("model.safetensors"))) {
            long len = ByteBuffer.wrap(in.readNBytes(8))
                    .order(ByteOrder.LITTLE_ENDIAN)
                    .getLong();
            JsonObject header =
                    new Gson().fromJson(new String(in.readNBytes((int) len), StandardCharsets.UTF_8), JsonObject.class);
            for (String k : header.keySet()) {
                if (k.equals("__metadata__")) continue;
                long n = 1;
                for (var d : header.getAsJsonObject(k).getAsJsonArray("shape")) n *= d.getAsLong();
                actual += n;
            }
        }
        assertEquals(actual, c.parameterCount());
    }
}
