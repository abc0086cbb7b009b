package rlcd4j.engine.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import com.sun.jna.Platform;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.TinyModels;
import rlcd4j.engine.cpu.KvCache;
import rlcd4j.engine.cpu.NativeDecoder;

/**
 * The native decode step ({@link NativeDecoder}) against libtorch's ops ({@code -Drlcd4j.nativeDecode=false}), step
 * by step over the same cache contents: hidden states and logits agree to rounding, for one row and for left-padded
 * rows of different lengths, with the weights read as fp32 and, for 16-bit checkpoints, as their 16-bit values.
 */
class NativeDecodeTest {
    static NDManager manager;
    static LlamaModel model;
    static final int VOCAB = 512;

    @BeforeAll
    static void build() {
        // head size 32, 3 query heads per kv head, an MLP width that is not a multiple of the threads' cut
        LlamaConfig c = TinyModels.config(VOCAB, 192, 328, 3, 6, 2, 256);
        manager = NDManager.newBaseManager();
        model = LlamaModel.random(c, manager, DataType.FLOAT32, 5);
        JniUtils.setGradMode(false);
    }

    @AfterAll
    static void close() {
        model.close();
        manager.close();
    }

    @AfterEach
    void reset() {
        System.clearProperty(NativeDecoder.PROPERTY);
    }

    @Test
    void theKernelsAreBuiltAndUsedOnLinuxX86() {
        // Maven builds them wherever gcc is installed (.ci/run installs gcc); a silent fallback would hide a lost
        // speed-up
        if (Platform.isLinux() && Platform.isIntel() && Platform.is64Bit()) {
            assertEquals("native (AVX2)", NativeDecoder.status());
            assertTrue(model.decodesNatively(manager.getDevice()));
        }
        System.setProperty(NativeDecoder.PROPERTY, "false");
        assertTrue(!model.decodesNatively(manager.getDevice()), "the property turns it off");
    }

    @Test
    void aCacheOfAnotherShapeIsRefusedBeforeAnyNativeCode() {
        if (!model.decodesNatively(manager.getDevice())) return; // the kernels are not built here (asserted above)
        LlamaConfig c = model.config();
        try (KvCache wrong =
                        new KvCache(manager, c.numLayers(), 1, c.numKvHeads() + 1, 32, c.headDim(), DataType.FLOAT32);
                NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray ids = manager.create(new long[] {5}, new Shape(1, 1)),
                    pos = manager.create(new long[] {0}, new Shape(1, 1));
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
                    IllegalArgumentException.class, () -> model.step(ids, pos, new int[] {0}, wrong));
            assertTrue(e.getMessage().contains("kv heads"), e.getMessage());
        }
    }

    @Test
    void oneRowAgreesWithLibtorchStepByStep() {
        compare(model, new int[] {9});
    }

    @Test
    void paddedRowsOfDifferentLengthsAgreeWithLibtorch() {
        compare(model, new int[] {14, 3, 9, 1});
        // seven rows: the products' tiles of four input rows and of the three left over
        compare(model, new int[] {14, 3, 9, 1, 7, 12, 5});
    }

    @Test
    void eachRowOfABatchStepsExactlyAsItWouldAlone() {
        if (!model.decodesNatively(manager.getDevice())) return; // the kernels are not built here (asserted above)
        // A row's sums are added in the same order whatever the batch (products tile input rows by four, then the
        // rest; attention takes keys eight at a time, then the rest), so a sample does not depend on its batch.
        int[] lengths = {14, 3, 9, 1, 7, 12, 5};
        int B = lengths.length, T = Prompts.T, V = VOCAB;
        Prompts prompts = Prompts.of(lengths, new SplittableRandom(11));
        KvCache batch = cache(model, B);
        KvCache[] alone = new KvCache[B];
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            prompts.prefill(model, batch);
            for (int b = 0; b < B; b++) {
                alone[b] = cache(model, B);
                prompts.prefill(model, alone[b]);
                alone[b].relayout(new int[] {b}, T, T, alone[b].capacity()); // row b only
            }
            long[] next = new long[B];
            for (int b = 0; b < B; b++) next[b] = 3 + 37 * b;
            for (int step = 0; step < 5; step++) { // 15 to 19 columns: blocks of eight keys and the rest
                long[] p = new long[B];
                for (int b = 0; b < B; b++) p[b] = lengths[b] + step;
                float[][] together = stepAndHead(
                        model,
                        true,
                        manager.create(next, new Shape(B, 1)),
                        manager.create(p, new Shape(B, 1)),
                        prompts.starts(),
                        batch);
                int D = together[0].length / B;
                for (int b = 0; b < B; b++) {
                    float[][] single = stepAndHead(
                            model,
                            true,
                            manager.create(new long[] {next[b]}, new Shape(1, 1)),
                            manager.create(new long[] {p[b]}, new Shape(1, 1)),
                            new int[] {prompts.starts()[b]},
                            alone[b]);
                    String where = "row " + b + " at step " + step;
                    assertArrayEquals(
                            Arrays.copyOfRange(together[0], b * D, (b + 1) * D), single[0], "hidden, " + where);
                    assertArrayEquals(
                            Arrays.copyOfRange(together[1], b * V, (b + 1) * V), single[1], "logits, " + where);
                    next[b] = argmax(single[1], 0, V);
                }
            }
        } finally {
            batch.close();
            for (KvCache c : alone) if (c != null) c.close();
        }
    }

    @Test
    void fp16WeightsOfAnFp16CheckpointAgreeWithItsFp32Decode(@TempDir Path dir) {
        Map<String, NDArray> half = new LinkedHashMap<>();
        model.weights().forEach((name, a) -> {
            if (!name.equals("lm_head.weight")) half.put(name, a.toType(DataType.FLOAT16, true));
        });
        LlamaModel m16 = reload(dir, half);
        try {
            assertTrue(m16.decodeWeights("fp16"));
            assertEquals("fp16", m16.decodeWeightType());
            compare(m16, new int[] {14, 3, 9, 1});
            compare(m16, new int[] {5});
        } finally {
            m16.close();
        }
    }

    /** A checkpoint whose fp32 values are all bf16 values, as a bf16 checkpoint's are once loaded. */
    @Test
    void bf16WeightsAgreeWithTheFp32DecodeAndATrainingForwardDropsThem(@TempDir Path dir) {
        LlamaModel m16 = reload(dir, truncatedToBf16(model));
        try {
            assertTrue(m16.decodeWeights("bf16"));
            assertEquals("bf16", m16.decodeWeightType());
            compare(m16, new int[] {14, 3, 9, 1});
            JniUtils.setGradMode(true);
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                NDArray ids = manager.create(new long[] {3, 4, 5}, new Shape(1, 3));
                NDArray pos = manager.create(new long[] {0, 1, 2}, new Shape(1, 3));
                NDArray mask = LlamaModel.attentionMask(manager, manager.ones(new Shape(1, 3), DataType.INT64), 0, 3);
                m16.forward(ids, pos, mask, null);
            } finally {
                JniUtils.setGradMode(false);
            }
            assertEquals(
                    "fp32", m16.decodeWeightType(), "training changes the weights: the 16-bit copies would be stale");
        } finally {
            m16.close();
        }
    }

    /**
     * One row's bf16 products read 32 weights a round, so rows of an odd number of sixteen (hidden 240, MLP 336) end
     * on a half round, which the batched kernels never take.
     */
    @Test
    void bf16RowsOfAnOddNumberOfSixteenWeightsAgreeWithTheFp32Decode(@TempDir Path dir) {
        LlamaConfig c = TinyModels.config(VOCAB, 240, 336, 2, 5, 1, 256); // head size 48
        LlamaModel m32 = LlamaModel.random(c, manager, DataType.FLOAT32, 9);
        LlamaModel m16;
        try {
            m16 = reload(dir, c, truncatedToBf16(m32));
        } finally {
            m32.close();
        }
        try {
            assertTrue(m16.decodeWeights("bf16"));
            compare(m16, new int[] {5});
            compare(m16, new int[] {14, 3, 9});
        } finally {
            m16.close();
        }
    }

    @Test
    void weightsThatAre16BitValuesOnlyInPartAreRefusedByName() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> model.decodeWeights("bf16"));
        assertTrue(e.getMessage().contains("not exact in bf16"), e.getMessage());
        assertTrue(e.getMessage().contains("model.layers.0."), e.getMessage());
        assertEquals("fp32", model.decodeWeightType());
    }

    private static LlamaModel reload(Path dir, Map<String, NDArray> weights) {
        return reload(dir, model.config(), weights);
    }

    private static LlamaModel reload(Path dir, LlamaConfig config, Map<String, NDArray> weights) {
        try {
            Files.writeString(dir.resolve("config.json"), config.toJson().toString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        Safetensors.write(dir.resolve("model.safetensors"), weights, null);
        return LlamaModel.load(dir, config, manager, DataType.FLOAT32);
    }

    /** The weights of {@code m} but the head's, each rounded down to a bf16 value, as a bf16 checkpoint's load. */
    private static Map<String, NDArray> truncatedToBf16(LlamaModel m) {
        Map<String, NDArray> truncated = new LinkedHashMap<>();
        m.weights().forEach((name, a) -> {
            if (name.equals("lm_head.weight")) return;
            float[] v = a.toFloatArray();
            for (int i = 0; i < v.length; i++) v[i] = Float.intBitsToFloat(Float.floatToRawIntBits(v[i]) & 0xffff0000);
            truncated.put(name, manager.create(v, a.getShape()));
        });
        return truncated;
    }

    /** Left-padded prompts of the given lengths in T = 14 columns: ids, positions and key mask [B, T], row starts. */
    private record Prompts(long[] ids, long[] positions, long[] keys, int[] starts) {
        static final int T = 14;

        static Prompts of(int[] lengths, SplittableRandom rng) {
            int B = lengths.length;
            long[] ids = new long[B * T], pos = new long[B * T], key = new long[B * T];
            int[] starts = new int[B];
            for (int b = 0; b < B; b++) {
                starts[b] = T - lengths[b];
                for (int t = 0; t < T; t++) {
                    boolean pad = t < starts[b];
                    ids[b * T + t] = pad ? 2 : 3 + rng.nextInt(VOCAB - 3);
                    pos[b * T + t] = pad ? 0 : t - starts[b];
                    key[b * T + t] = pad ? 0 : 1;
                }
            }
            return new Prompts(ids, pos, key, starts);
        }

        /** A forward of all rows into {@code cache}. */
        void prefill(LlamaModel model, KvCache cache) {
            Shape s = new Shape(starts.length, T);
            NDArray mask = LlamaModel.attentionMask(manager, manager.create(keys, s), 0, T);
            model.forward(manager.create(ids, s), manager.create(positions, s), mask, cache);
        }
    }

    /** Prefills two caches alike, then steps one natively and one through libtorch, feeding both the same tokens. */
    private static void compare(LlamaModel model, int[] lengths) {
        int B = lengths.length, T = Prompts.T, steps = 6;
        SplittableRandom rng = new SplittableRandom(lengths.length);
        Prompts prompts = Prompts.of(lengths, rng);
        int[] starts = prompts.starts();
        KvCache nativeCache = cache(model, B), torchCache = cache(model, B);
        try (nativeCache;
                torchCache;
                NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            for (KvCache c : new KvCache[] {nativeCache, torchCache}) prompts.prefill(model, c);
            long[] next = new long[B];
            for (int b = 0; b < B; b++) next[b] = 3 + rng.nextInt(VOCAB - 3);
            for (int step = 0; step < steps; step++) {
                long[] p = new long[B];
                for (int b = 0; b < B; b++) p[b] = lengths[b] + step;
                NDArray idArray = manager.create(next, new Shape(B, 1)), posArray = manager.create(p, new Shape(B, 1));
                float[][] natively = stepAndHead(model, true, idArray, posArray, starts, nativeCache);
                float[][] torch = stepAndHead(model, false, idArray, posArray, starts, torchCache);
                Agreement.assertClose(torch[0], natively[0], 2e-4f, "hidden states at step " + step);
                Agreement.assertClose(torch[1], natively[1], 2e-4f, "logits at step " + step);
                for (int b = 0; b < B; b++) next[b] = argmax(torch[1], b * VOCAB, VOCAB);
            }
            assertEquals(T + steps, nativeCache.length());
        }
    }

    private static float[][] stepAndHead(
            LlamaModel model, boolean natively, NDArray ids, NDArray pos, int[] starts, KvCache cache) {
        System.setProperty(NativeDecoder.PROPERTY, String.valueOf(natively));
        assertEquals(natively, model.decodesNatively(manager.getDevice()));
        NDArray hidden = model.step(ids, pos, starts, cache); // [B, 1, D]
        return new float[][] {hidden.toFloatArray(), model.logits(hidden).toFloatArray()};
    }

    private static KvCache cache(LlamaModel model, int B) {
        LlamaConfig c = model.config();
        return new KvCache(manager, c.numLayers(), B, c.numKvHeads(), 32, c.headDim(), DataType.FLOAT32);
    }

    private static int argmax(float[] a, int from, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (a[from + i] > a[from + best]) best = i;
        return best;
    }
}
