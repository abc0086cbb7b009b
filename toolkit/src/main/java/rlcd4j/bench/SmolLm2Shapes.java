package rlcd4j.bench;

import java.util.List;
import rlcd4j.engine.llama.LlamaConfig;

/**
 * The model every benchmark measures: SmolLM2-135M's shapes (30 layers, hidden 576, 9 heads over 3 kv heads, MLP
 * 1536, vocab 49152, tied embeddings, rope_theta 1e5, 8192 positions, BOS 1, EOS and pad 2), with random weights.
 */
final class SmolLm2Shapes {
    private SmolLm2Shapes() {}

    static LlamaConfig config() {
        return new LlamaConfig(
                "LlamaForCausalLM",
                49152,
                576,
                1536,
                30,
                9,
                3,
                64,
                8192,
                1e-5,
                100000.0,
                null,
                false,
                false,
                true,
                1,
                List.of(2),
                2,
                "float32");
    }
}
