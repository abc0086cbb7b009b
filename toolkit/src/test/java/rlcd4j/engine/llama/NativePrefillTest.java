package rlcd4j.engine.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import com.sun.jna.Platform;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import rlcd4j.TinyModels;
import rlcd4j.engine.cpu.KvCache;
import rlcd4j.engine.cpu.NativePrefill;

/**
 * The native prefill ({@link NativePrefill}) against libtorch's ops ({@code -Drlcd4j.nativePrefill=false}) on the
 * same inputs: scoring forwards of left-padded rows, a prompt fed over a cache in two forwards (keys, values and
 * hidden states), and a long prompt whose queries attend in blocks, all agree to rounding.
 */
class NativePrefillTest {
    static NDManager manager;
    static LlamaModel model;
    static final int VOCAB = 512;

    @BeforeAll
    static void build() {
        // head size 32, 3 query heads per kv head, an MLP width that is not a multiple of 16
        LlamaConfig c = TinyModels.config(VOCAB, 192, 328, 3, 6, 2, 1024);
        manager = NDManager.newBaseManager();
        model = LlamaModel.random(c, manager, DataType.FLOAT32, 7);
        JniUtils.setGradMode(false);
    }

    @AfterAll
    static void close() {
        model.close();
        manager.close();
    }

    @AfterEach
    void reset() {
        System.clearProperty(NativePrefill.PROPERTY);
    }

    /** The hidden states of a forward without a cache, natively or through libtorch's ops. */
    private static float[] scored(boolean natively, NDArray[] b) {
        System.setProperty(NativePrefill.PROPERTY, String.valueOf(natively));
        int T = (int) b[0].getShape().get(1);
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray mask = LlamaModel.attentionMask(b[0].getManager(), b[2], 0, T);
            assertEquals(natively, model.prefillsNatively(b[0], b[1], mask, null));
            return model.forward(b[0], b[1], mask, null).toFloatArray();
        }
    }

    @Test
    void theKernelsAreUsedOnLinuxX86AndThePropertyTurnsThemOff() {
        try (NDManager m = manager.newSubManager()) {
            NDArray[] b = Agreement.leftPadded(m, new int[] {8}, 8, VOCAB, 1);
            NDArray mask = LlamaModel.attentionMask(m, b[2], 0, 8);
            if (Platform.isLinux() && Platform.isIntel() && Platform.is64Bit()) {
                assertTrue(model.prefillsNatively(b[0], b[1], mask, null));
            }
            System.setProperty(NativePrefill.PROPERTY, "false");
            assertFalse(model.prefillsNatively(b[0], b[1], mask, null));
        }
    }

    @Test
    void paddedRowsScoreAsLibtorchScoresThem() {
        if (!NativePrefill.enabled()) return; // the kernels are not built here (asserted above on Linux x86-64)
        try (NDManager m = manager.newSubManager()) {
            NDArray[] b = Agreement.leftPadded(m, new int[] {37, 12, 40}, 40, VOCAB, 2);
            Agreement.assertClose(scored(false, b), scored(true, b), 2e-4f, "hidden states");
        }
    }

    @Test
    void aLongPromptAttendsInBlocksAsLibtorchDoes() {
        if (!NativePrefill.enabled()) return;
        try (NDManager m = manager.newSubManager()) {
            NDArray[] b = Agreement.leftPadded(m, new int[] {300, 233}, 300, VOCAB, 3);
            assertTrue(LlamaModel.queryBlock(2, 300, 300, 6) < 300, "the test must exercise query blocks");
            Agreement.assertClose(scored(false, b), scored(true, b), 2e-4f, "hidden states");
        }
    }

    /** A prompt fed in two forwards over a cache: the second attends to the first's columns too. */
    @Test
    void aPromptFedOverACacheStoresTheSameKeysAndValues() {
        if (!NativePrefill.enabled()) return;
        try (NDManager m = manager.newSubManager()) {
            int first = 21, T = 50;
            NDArray[] b = Agreement.leftPadded(m, new int[] {T, T - 9}, T, VOCAB, 4);
            LlamaConfig c = model.config();
            float[][] hidden = new float[2][], keys = new float[2][], values = new float[2][];
            for (int run = 0; run < 2; run++) {
                boolean natively = run == 1;
                System.setProperty(NativePrefill.PROPERTY, String.valueOf(natively));
                try (NDScope scope = new NDScope();
                        KvCache cache = new KvCache(
                                m, c.numLayers(), 2, c.numKvHeads(), T + 4, c.headDim(), DataType.FLOAT32)) {
                    scope.suppressNotUsedWarning();
                    NDArray mask = LlamaModel.attentionMask(m, b[2], 0, T);
                    model.forward(
                            b[0].get(":, :" + first),
                            b[1].get(":, :" + first),
                            mask.get(":, :, :" + first + ", :" + first),
                            cache);
                    NDArray second = mask.get(":, :, " + first + ":, :");
                    assertEquals(
                            natively,
                            model.prefillsNatively(
                                    b[0].get(":, " + first + ":"), b[1].get(":, " + first + ":"), second, cache));
                    hidden[run] = model.forward(
                                    b[0].get(":, " + first + ":"), b[1].get(":, " + first + ":"), second, cache)
                            .toFloatArray();
                    assertEquals(T, cache.length());
                    keys[run] = cache.keys(c.numLayers() - 1).toFloatArray();
                    values[run] = cache.values(c.numLayers() - 1).toFloatArray();
                }
            }
            Agreement.assertClose(hidden[0], hidden[1], 2e-4f, "hidden states of the second forward");
            Agreement.assertClose(keys[0], keys[1], 2e-4f, "the last layer's cached keys");
            Agreement.assertClose(values[0], values[1], 2e-4f, "the last layer's cached values");
        }
    }

    /** Generation reads the last position only: forwardLast computes the last layer for it alone, and fills the cache. */
    @Test
    void theLastPositionAloneAgreesWithLibtorchsWholeForward() {
        if (!NativePrefill.enabled()) return;
        try (NDManager m = manager.newSubManager()) {
            int T = 23;
            NDArray[] b = Agreement.leftPadded(m, new int[] {T, 17, 5}, T, VOCAB, 6);
            LlamaConfig c = model.config();
            float[][] last = new float[2][], keys = new float[2][], values = new float[2][];
            for (int run = 0; run < 2; run++) {
                boolean natively = run == 1;
                System.setProperty(NativePrefill.PROPERTY, String.valueOf(natively));
                try (NDScope scope = new NDScope();
                        KvCache cache = new KvCache(
                                m, c.numLayers(), 3, c.numKvHeads(), T + 2, c.headDim(), DataType.FLOAT32)) {
                    scope.suppressNotUsedWarning();
                    NDArray mask = LlamaModel.attentionMask(m, b[2], 0, T);
                    NDArray hidden = natively
                            ? model.forwardLast(b[0], b[1], mask, cache)
                            : model.forward(b[0], b[1], mask, cache).get(":, -1, :");
                    assertEquals(new Shape(3, c.hiddenSize()), hidden.getShape());
                    last[run] = hidden.toFloatArray();
                    assertEquals(T, cache.length());
                    keys[run] = cache.keys(c.numLayers() - 1).toFloatArray();
                    values[run] = cache.values(c.numLayers() - 1).toFloatArray();
                }
            }
            Agreement.assertClose(last[0], last[1], 2e-4f, "the last positions' hidden states");
            Agreement.assertClose(keys[0], keys[1], 2e-4f, "the last layer's cached keys");
            Agreement.assertClose(values[0], values[1], 2e-4f, "the last layer's cached values");
        }
    }

    /** The products write into MKL's sgemm_ from libtorch, and the passes run on libtorch's OpenMP threads. */
    @Test
    void productsAndPassesUseLibtorchsMklAndOpenMpThreads() {
        if (!NativePrefill.enabled()) return;
        String status = NativePrefill.status();
        assertTrue(status.contains("products by libtorch's sgemm_"), status);
        assertTrue(status.contains("passes on OpenMP's threads"), status);
    }

    /**
     * One workspace serves forwards of every size in turn: kept when small, grown for a larger forward, and a
     * temporary one (freed after its forward) past the size kept; each forward agrees with libtorch's.
     */
    @Test
    void forwardsOfChangingSizesShareTheWorkspaceCorrectly() {
        if (!NativePrefill.enabled()) return;
        try (NDManager m = manager.newSubManager()) {
            int[][] rows = {{9, 4}, {40, 33, 12}, {9, 4}, {512, 300, 17, 512, 490, 64, 511, 200}, {40, 33, 12}};
            for (int i = 0; i < rows.length; i++) {
                int T = java.util.Arrays.stream(rows[i]).max().orElseThrow();
                NDArray[] b = Agreement.leftPadded(m, rows[i], T, VOCAB, 10 + i);
                Agreement.assertClose(scored(false, b), scored(true, b), 2e-4f, "hidden states of forward " + i);
            }
        }
    }

    @Test
    void aTokenOutsideTheVocabularyIsRefusedByValue() {
        if (!NativePrefill.enabled()) return;
        try (NDManager m = manager.newSubManager()) {
            NDArray[] b = Agreement.leftPadded(m, new int[] {6}, 6, VOCAB, 5);
            NDArray ids = m.create(new long[] {5, 6, VOCAB + 3, 7, 8, 9}, new Shape(1, 6));
            NDArray mask = LlamaModel.attentionMask(m, b[2], 0, 6);
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> model.forward(ids, b[1], mask, null));
            assertTrue(e.getMessage().contains(String.valueOf(VOCAB + 3)), e.getMessage());
        }
    }
}
