package rlcd4j;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.List;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.Tokenizer;
import rlcd4j.engine.llama.LlamaConfig;
import rlcd4j.engine.llama.LlamaModel;

/** Small randomly initialised models that share the TinyStories tokenizer (vocab 2048), for fast training tests. */
public final class TinyModels {
    private TinyModels() {}

    public static LlamaConfig config(int hidden, int layers, int heads, int kvHeads) {
        return config(2048, hidden, hidden * 3, layers, heads, kvHeads, 512);
    }

    /** A LLaMA shape with tied embeddings, RMSNorm epsilon 1e-6 and RoPE theta 10000; BOS 1, EOS 2. */
    public static LlamaConfig config(
            int vocab, int hidden, int intermediate, int layers, int heads, int kvHeads, int maxPositions) {
        return new LlamaConfig(
                "LlamaForCausalLM",
                vocab,
                hidden,
                intermediate,
                layers,
                heads,
                kvHeads,
                hidden / heads,
                maxPositions,
                1e-6,
                10000,
                null,
                false,
                false,
                true,
                1,
                List.of(2),
                null,
                "float32");
    }

    public static CausalLM random(int hidden, int layers, long seed) {
        LlamaConfig c = config(hidden, layers, 4, 2);
        NDManager m = NDManager.newBaseManager();
        LlamaModel model = LlamaModel.random(c, m, DataType.FLOAT32, seed);
        return CausalLM.of("tiny-random", model, Tokenizer.load(Fixtures.tinyStories(), c));
    }
}
