package rlcd4j.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.sun.jna.Platform;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.Fixtures;
import rlcd4j.engine.llama.Safetensors;

/**
 * {@code CausalLM.Options.withDecodeWeights("checkpoint")}: a checkpoint stored in fp16 decodes from its own 16-bit
 * values, with the same tokens and log-probabilities (to rounding) as from the fp32 arrays; an fp32 checkpoint is
 * left as it is.
 */
class CheckpointDecodeWeightsTest {

    @Test
    void anFp16CheckpointDecodesFromItsOwnValues(@TempDir Path dir) throws IOException {
        Path src = Fixtures.tinyStories();
        try (var files = Files.list(src)) {
            for (Path f : files.toList()) {
                if (!f.getFileName().toString().endsWith(".safetensors")) Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> half = new LinkedHashMap<>();
            Safetensors.loadAll(m, src.resolve("model.safetensors"), DataType.FLOAT32)
                    .forEach((name, a) -> half.put(name, a.toType(DataType.FLOAT16, true)));
            Safetensors.write(dir.resolve("model.safetensors"), half, null);
        }
        CausalLM.Options fp32 = CausalLM.Options.defaults(), own = fp32.withDecodeWeights("checkpoint");
        GenerationConfig greedy = GenerationConfig.greedy(24);
        String prompt = "Once upon a time, there was a little";
        Generation wide, narrow;
        try (CausalLM lm = CausalLM.load(dir.toString(), fp32)) {
            assertEquals("fp32", lm.model().decodeWeightType());
            wide = lm.generate(prompt, greedy);
        }
        try (CausalLM lm = CausalLM.load(dir.toString(), own)) {
            if (Platform.isLinux() && Platform.isIntel() && Platform.is64Bit()) {
                assertEquals("fp16", lm.model().decodeWeightType());
            }
            narrow = lm.generate(prompt, greedy);
        }
        assertArrayEquals(wide.ids(), narrow.ids());
        for (int i = 0; i < wide.ids().length; i++) {
            assertEquals(wide.logprobs()[i], narrow.logprobs()[i], 1e-3, "log-probability of token " + i);
        }
    }

    @Test
    void anFp32CheckpointIsLeftAsItIs() {
        CausalLM.Options own = CausalLM.Options.defaults().withDecodeWeights("checkpoint");
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories().toString(), own)) {
            assertEquals("F32", lm.model().storedType());
            assertEquals("fp32", lm.model().decodeWeightType());
        }
    }

    @Test
    void anUnknownSettingIsRefused() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> CausalLM.Options.defaults().withDecodeWeights("int8"));
        assertTrue(e.getMessage().contains("expected fp32 or checkpoint"), e.getMessage());
    }
}
