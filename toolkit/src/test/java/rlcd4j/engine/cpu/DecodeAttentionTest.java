package rlcd4j.engine.cpu;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.sun.jna.Platform;
import java.util.List;
import org.junit.jupiter.api.Test;
import rlcd4j.Fixtures;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.Generation;
import rlcd4j.engine.GenerationConfig;

/** The native decode attention against libtorch's ops, alone and inside generation. */
class DecodeAttentionTest {

    @Test
    void theNativeKernelIsBuiltAndLoadedOnLinuxX86() {
        // Maven builds it wherever gcc is installed (.ci/run installs gcc); a silent fallback would hide a lost
        // speed-up
        if (Platform.isLinux() && Platform.isIntel() && Platform.is64Bit()) {
            assertEquals("native (AVX2)", DecodeAttention.status());
            assertTrue(DecodeAttention.usable(DataType.FLOAT32, 64));
        }
        assertFalse(DecodeAttention.usable(DataType.FLOAT16, 64), "fp16 goes through libtorch");
        assertFalse(
                DecodeAttention.usable(DataType.FLOAT32, 12),
                "head sizes that are not a multiple of 8 go through libtorch");
    }

    @Test
    void eachRowAttendsToItsOwnColumnsAsLibtorchOpsDo() {
        for (int hd : new int[] {16, 64}) {
            for (boolean split : new boolean[] {false, true}) {
                check(hd, split);
            }
        }
    }

    private static void check(int hd, boolean split) {
        int B = 5, KV = 2, G = 3, H = KV * G, cap = 48, S = 37;
        // whole history; left padding; only itself; fewer columns than 8; exactly 8
        int[] starts = {0, 3, S - 1, 30, 29};
        try (NDManager m = NDManager.newBaseManager();
                KvCache cache = new KvCache(m, 1, B, KV, cap, hd, DataType.FLOAT32)) {
            cache.keys(0).set(new NDIndex(":"), m.randomNormal(new Shape(B, KV, cap, hd)));
            cache.values(0).set(new NDIndex(":"), m.randomNormal(new Shape(B, KV, cap, hd)));
            cache.advance(S - 1);
            // q as a stacked projection lays it out: H query heads, then KV key heads, per row
            NDArray qk = m.randomNormal(new Shape(B, H + KV, hd));
            float scale = 1f / (float) Math.sqrt(hd);
            // [B, H*hd]
            NDArray got = DecodeAttention.attend(qk, (long) (H + KV) * hd, cache, 0, starts, S, H, scale, split);
            assertEquals(new Shape(B, (long) H * hd), got.getShape());
            for (int b = 0; b < B; b++) {
                for (int h = 0; h < H; h++) {
                    NDArray q = qk.get(b).get(h); // [hd]
                    NDArray k = cache.keys(0).get(b).get(h / G).get(starts[b] + ":" + S); // [len, hd]
                    NDArray v = cache.values(0).get(b).get(h / G).get(starts[b] + ":" + S);
                    NDArray want = k.matMul(q.reshape(hd, 1))
                            .reshape(-1)
                            .mul(scale)
                            .softmax(0)
                            .reshape(1, -1)
                            .matMul(v)
                            .reshape(-1);
                    NDArray row = got.get(b).get(h * hd + ":" + (h + 1) * hd);
                    float diff = want.sub(row).abs().max().getFloat();
                    assertTrue(
                            diff < 1e-5f,
                            "hd " + hd + (split ? ", split" : "") + ", row " + b + ", head " + h + ": max difference "
                                    + diff);
                }
            }
        }
    }

    @Test
    void theRowsSplitWhereHalfTheColumnsAreRead() {
        assertEquals(1, DecodeAttention.balancedCut(new int[] {0, 80, 80, 80}, 100)); // 100 | 20 + 20 + 20
        assertEquals(2, DecodeAttention.balancedCut(new int[] {0, 0, 0, 0}, 10));
        assertEquals(1, DecodeAttention.balancedCut(new int[] {9, 9}, 10));
    }

    @Test
    void decodingWithItGivesWhatLibtorchOpsGive() {
        // prompts of different lengths: left padding, rows leaving and joining (batch 3 of 5)
        List<String> prompts =
                List.of("Lily", "Tom had a big red ball and", "One day", "The sun was hot and the kids", "Sam");
        GenerationConfig greedy = GenerationConfig.greedy(24).withBatchSize(3);
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories())) {
            List<Generation> nativeRuns = lm.generate(prompts, greedy, new long[prompts.size()]);
            List<Generation> libtorch;
            System.setProperty(DecodeAttention.PROPERTY, "false");
            try {
                libtorch = lm.generate(prompts, greedy, new long[prompts.size()]);
            } finally {
                System.clearProperty(DecodeAttention.PROPERTY);
            }
            for (int i = 0; i < prompts.size(); i++) {
                assertArrayEquals(libtorch.get(i).ids(), nativeRuns.get(i).ids(), prompts.get(i));
                assertArrayEquals(libtorch.get(i).logprobs(), nativeRuns.get(i).logprobs(), 1e-4f, prompts.get(i));
            }
        }
    }
}
