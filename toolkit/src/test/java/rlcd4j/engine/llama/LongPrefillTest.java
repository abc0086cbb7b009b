package rlcd4j.engine.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import rlcd4j.TinyModels;
import rlcd4j.engine.cpu.KvCache;
import rlcd4j.engine.cpu.NativePrefill;

/**
 * Long prompts: attention in query blocks, the head over blocks of rows and scoring forwards that free each layer's
 * arrays give what the forward gave before them ({@code -Drlcd4j.longPrefill=false}), to rounding. These are
 * libtorch's ops, which run wherever the native prefill does not (GPUs, fp16, adapters, autograd), so the native
 * prefill is off here ({@code NativePrefillTest} compares it with them).
 */
class LongPrefillTest {
    static NDManager manager;
    static LlamaModel model;

    @BeforeAll
    static void build() {
        LlamaConfig c = TinyModels.config(512, 64, 128, 3, 4, 2, 1024);
        manager = NDManager.newBaseManager();
        model = LlamaModel.random(c, manager, DataType.FLOAT32, 11);
        System.setProperty(NativePrefill.PROPERTY, "false");
    }

    @AfterAll
    static void close() {
        System.clearProperty(NativePrefill.PROPERTY);
        model.close();
        manager.close();
    }

    @AfterEach
    void reset() {
        System.clearProperty("rlcd4j.longPrefill");
    }

    private static float maxDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        float d = 0;
        for (int i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
        return d;
    }

    private static float[] hidden(boolean longPrefill, NDArray[] b) {
        System.setProperty("rlcd4j.longPrefill", String.valueOf(longPrefill));
        int T = (int) b[0].getShape().get(1);
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray mask = LlamaModel.attentionMask(b[0].getManager(), b[2], 0, T);
            return model.forward(b[0], b[1], mask, null).toFloatArray();
        }
    }

    @Test
    void queryBlocksGiveTheSameHiddenStates() {
        try (NDManager m = manager.newSubManager()) {
            NDArray[] b = Agreement.leftPadded(m, new int[] {300, 213}, 300, 512, 1);
            assertTrue(LlamaModel.queryBlock(2, 300, 300, 4) < 300, "the test must exercise query blocks");
            float d = maxDiff(hidden(false, b), hidden(true, b));
            assertTrue(d < 1e-5, "blocked attention differs by " + d);
        }
    }

    /** A prompt fed in two forwards over a cache: the second one's blocks attend to the cached columns too. */
    @Test
    void queryBlocksOverACacheGiveTheSameHiddenStates() {
        try (NDManager m = manager.newSubManager()) {
            int first = 70, T = 330;
            NDArray[] b = Agreement.leftPadded(m, new int[] {T, T - 41}, T, 512, 2);
            float[][] out = new float[2][];
            for (boolean longPrefill : new boolean[] {false, true}) {
                System.setProperty("rlcd4j.longPrefill", String.valueOf(longPrefill));
                try (NDScope scope = new NDScope();
                        KvCache cache = new KvCache(m, 3, 2, 2, T, 16, DataType.FLOAT32)) {
                    scope.suppressNotUsedWarning();
                    NDArray mask = LlamaModel.attentionMask(m, b[2], 0, first);
                    String head = ":, :" + first, tail = ":, " + first + ":";
                    model.forward(b[0].get(head), b[1].get(head), mask.get(":, :, :, :" + first), cache);
                    NDArray rest = LlamaModel.attentionMask(m, b[2], first, T - first);
                    NDArray h = model.forward(b[0].get(tail), b[1].get(tail), rest, cache);
                    out[longPrefill ? 1 : 0] = h.toFloatArray();
                }
            }
            float d = maxDiff(out[0], out[1]);
            assertTrue(d < 1e-5, "blocked attention over a cache differs by " + d);
        }
    }

    @Test
    void nextTokenLogProbsMatchALogSoftmaxOverAllRows() {
        try (NDManager m = manager.newSubManager();
                NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray[] b = Agreement.leftPadded(m, new int[] {300}, 300, 512, 3);
            NDArray hidden = model.forward(b[0], b[1], LlamaModel.attentionMask(m, b[2], 0, 300), null);
            float[] got = model.nextTokenLogProbs(hidden, b[0]).toFloatArray(); // 299 rows: three blocks of the head
            NDArray next = b[0].get(":, 1:").expandDims(-1);
            float[] all = model.logits(hidden)
                    .logSoftmax(-1)
                    .get(":, :-1, :")
                    .gather(next, -1)
                    .toFloatArray();
            assertEquals(299, got.length);
            float d = maxDiff(all, got);
            assertTrue(d < 1e-5, "log-probs differ by " + d);
        }
    }

    /**
     * A scoring forward (no cache, no autograd) frees each layer's arrays as it goes: kept for all layers, a 1024-token
     * forward took its memory fresh from the system and spent seconds in page faults (docs/perf/engine.md).
     */
    @Test
    void aScoringForwardKeepsNoLayerArrays() {
        try (NDManager m = manager.newSubManager()) {
            NDArray[] b = Agreement.leftPadded(m, new int[] {64}, 64, 512, 4);
            NDArray mask = LlamaModel.attentionMask(m, b[2], 0, 64);
            int before = m.getManagedArrays().size();
            model.forward(b[0], b[1], mask, null);
            int made = m.getManagedArrays().size() - before;
            // the embedding, the RoPE tables, the last layer's output and the final norm: about a dozen, whatever the
            // number of layers
            assertTrue(made < 20, made + " arrays left behind by a 3-layer forward");
        }
    }
}
