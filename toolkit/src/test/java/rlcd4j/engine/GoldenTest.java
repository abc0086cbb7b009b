package rlcd4j.engine;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import rlcd4j.Fixtures;
import rlcd4j.engine.cpu.KvCache;
import rlcd4j.engine.llama.LlamaModel;

/** Golden tests on the real TinyStories-656K checkpoint. */
class GoldenTest {
    static CausalLM lm;

    @BeforeAll
    static void load() {
        lm = CausalLM.load(Fixtures.tinyStories());
    }

    @AfterAll
    static void close() {
        lm.close();
    }

    @Test
    void greedyFromBosReproducesRecordedIds() {
        // ../shared/data/SOURCES.md: greedy decoding from BOS alone gives ids starting [1, 147, 201, 282, ...]
        long[] expected = {147, 201, 282, 215, 286, 598, 1662, 356, 499, 826};
        Generation g = lm.generate("", GenerationConfig.greedy(expected.length));
        assertArrayEquals(new long[] {1}, g.promptIds(), "the empty prompt is BOS alone");
        assertArrayEquals(expected, g.ids(), "greedy ids " + Arrays.toString(g.ids()));
        assertTrue(g.text().startsWith("Once upon a time, there was a little girl named Lily."), g.text());
    }

    /** The same forward through the per-module path: autograd on makes the model skip its stacked projections. */
    static float[] perModuleLogits(LlamaModel model, Batch b) {
        ai.djl.pytorch.jni.JniUtils.setGradMode(true);
        try {
            return model.logits(model.forward(b.ids(), b.positions(), b.mask(), null))
                    .toFloatArray();
        } finally {
            ai.djl.pytorch.jni.JniUtils.setGradMode(false);
        }
    }

    @Test
    void stackedProjectionsMatchPerModuleAndSurviveReplacedWeights() {
        try (CausalLM own = CausalLM.load(Fixtures.tinyStories());
                NDManager m = own.manager().newSubManager()) {
            LlamaModel model = own.model();
            Batch b = Batch.leftPadded(
                    m,
                    List.of(
                            own.tokenizer().encode("One day a dog", true),
                            own.tokenizer().encode("Hi", true)),
                    own.tokenizer().padId());
            float[] stacked = model.logits(model.forward(b.ids(), b.positions(), b.mask(), null))
                    .toFloatArray();
            float[] perModule = perModuleLogits(model, b);
            float maxDiff = 0;
            for (int i = 0; i < stacked.length; i++) maxDiff = Math.max(maxDiff, Math.abs(stacked[i] - perModule[i]));
            assertTrue(maxDiff < 1e-4, "stacked vs per-module logits differ by " + maxDiff);

            // set(float[]) gives the tensor new storage: the stacked matrices are stale and must not be used
            NDArray k = model.weights().get("model.layers.1.self_attn.k_proj.weight");
            float[] scaled = k.toFloatArray();
            for (int i = 0; i < scaled.length; i++) scaled[i] *= 3;
            k.set(scaled);
            float[] after = model.logits(model.forward(b.ids(), b.positions(), b.mask(), null))
                    .toFloatArray();
            assertArrayEquals(
                    perModuleLogits(model, b),
                    after,
                    1e-4f,
                    "the forward after a replaced weight reads the new weight");
            assertFalse(Arrays.equals(stacked, after), "scaling k changed the logits");
        }
    }

    @Test
    void cachedLogitsEqualFullForward() {
        long[] ids = lm.tokenizer().encode("Once upon a time, there was a cat who liked to run.", true);
        int T = ids.length;
        LlamaModel model = lm.model();
        try (NDManager m = lm.manager().newSubManager()) {
            Batch full = Batch.leftPadded(m, List.of(ids), lm.tokenizer().padId());
            float[] expected = model.logits(model.forward(full.ids(), full.positions(), full.mask(), null))
                    .toFloatArray();
            int V = model.config().vocabSize();
            try (KvCache cache = new KvCache(
                    m,
                    model.config().numLayers(),
                    1,
                    model.config().numKvHeads(),
                    T,
                    model.config().headDim(),
                    DataType.FLOAT32)) {
                // prefill 4 tokens, then one at a time
                int pre = 4;
                NDArray ones = m.ones(new Shape(1, T), DataType.INT64);
                float maxDiff = 0;
                NDArray h = model.forward(
                        m.create(Arrays.copyOf(ids, pre), new Shape(1, pre)),
                        m.arange(0, pre, 1, DataType.INT64).reshape(1, pre),
                        LlamaModel.attentionMask(m, ones.get(":, :{}", pre), 0, pre),
                        cache);
                float[] got = model.logits(h).toFloatArray();
                for (int i = 0; i < pre * V; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - expected[i]));
                for (int t = pre; t < T; t++) {
                    h = model.forward(
                            m.create(new long[] {ids[t]}, new Shape(1, 1)),
                            m.create(new long[] {t}, new Shape(1, 1)),
                            LlamaModel.attentionMask(m, ones.get(":, :{}", t + 1), t, 1),
                            cache);
                    got = model.logits(h).toFloatArray();
                    for (int v = 0; v < V; v++) maxDiff = Math.max(maxDiff, Math.abs(got[v] - expected[t * V + v]));
                }
                assertTrue(maxDiff < 1e-4, "max |cached - full| = " + maxDiff);
            }
        }
    }

    @Test
    void batchOfDifferentLengthsMatchesEachAlone() {
        List<String> prompts = List.of("Once upon a time", "The dog ran to the big red ball and", "Tom");
        GenerationConfig greedy = GenerationConfig.greedy(24);
        List<Generation> batched = lm.generate(prompts, greedy);
        for (int i = 0; i < prompts.size(); i++) {
            Generation alone = lm.generate(prompts.get(i), greedy);
            assertArrayEquals(
                    alone.ids(),
                    batched.get(i).ids(),
                    "prompt " + i + ": " + alone.text() + " vs "
                            + batched.get(i).text());
        }
    }

    @Test
    void promptsFarApartInLengthArePrefilledApartAndMatchEachAlone() {
        String longPrompt =
                "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her"
                        + " friends. One day, she saw a big red ball under a tree and she wanted to play with it. She asked her mom if she"
                        + " could take the ball home, and her mom said yes. Lily was very happy and she ran home with the";
        List<String> prompts = List.of("Tom", longPrompt, "The dog ran to the big red ball and", "Once upon a time");
        long[][] ids = new long[prompts.size()][];
        for (int i = 0; i < ids.length; i++) ids[i] = lm.tokenizer().encode(prompts.get(i), true);
        // the long prompt gets a forward of its own; the three short ones share one, padded (both paths run here)
        List<int[]> groups = Generator.prefillGroups(ids, Generator.PREFILL_PAD_LIMIT);
        assertEquals(2, groups.size(), "lengths " + Arrays.deepToString(ids));
        assertArrayEquals(new int[] {1}, groups.get(0));
        assertArrayEquals(new int[] {0, 2, 3}, groups.get(1));
        GenerationConfig greedy = GenerationConfig.greedy(24);
        List<Generation> batched = lm.generate(prompts, greedy);
        for (int i = 0; i < prompts.size(); i++) {
            Generation alone = lm.generate(prompts.get(i), greedy);
            assertArrayEquals(
                    alone.ids(),
                    batched.get(i).ids(),
                    "prompt " + i + ": " + alone.text() + " vs "
                            + batched.get(i).text());
            assertArrayEquals(alone.logprobs(), batched.get(i).logprobs(), 1e-4f, "prompt " + i);
        }
    }

    @Test
    void decodeHelperSplitsProductsWithoutChangingThem() {
        assumeTrue(Runtime.getRuntime().availableProcessors() >= 2, "the helper needs a second core");
        GenerationConfig greedy = GenerationConfig.greedy(24);
        // tests run libtorch on one thread: steps use the helper
        Generation with = lm.generate("Once upon a time", greedy);
        assertTrue(
                Thread.getAllStackTraces().keySet().stream()
                        .anyMatch(t -> t.getName().equals("rlcd4j-decode-helper")),
                "no decode helper thread was started");
        Generation without;
        System.setProperty("rlcd4j.decodeHelper", "false");
        try {
            without = lm.generate("Once upon a time", greedy);
        } finally {
            System.clearProperty("rlcd4j.decodeHelper");
        }
        assertArrayEquals(without.ids(), with.ids());
        assertArrayEquals(without.logprobs(), with.logprobs(), 1e-5f);
    }

    @Test
    void prefillGroupsCutWherePaddingWouldExceedTheLimit() {
        long[][] ids = {new long[10], new long[50], new long[42], new long[9], new long[43]};
        List<int[]> groups = Generator.prefillGroups(ids, 8);
        assertEquals(2, groups.size());
        assertArrayEquals(new int[] {1, 2, 4}, groups.get(0)); // 50, 42, 43: within 8 of 50
        assertArrayEquals(new int[] {0, 3}, groups.get(1));
        assertEquals(1, Generator.prefillGroups(ids, Integer.MAX_VALUE).size(), "a GPU pads the whole batch");
    }

    @Test
    void samplingRepeatsWithSeedAndDiffersAcrossSeeds() {
        GenerationConfig cfg = GenerationConfig.defaults()
                .withMaxNewTokens(30)
                .withTopK(50)
                .withTopP(0.9)
                .withSeed(7);
        Generation a = lm.generate("Once upon a time", cfg);
        Generation b = lm.generate("Once upon a time", cfg);
        Generation c = lm.generate("Once upon a time", cfg.withSeed(8));
        assertArrayEquals(a.ids(), b.ids());
        assertFalse(Arrays.equals(a.ids(), c.ids()), "two seeds gave the same 30 tokens");
        // a prompt samples the same alone and in a batch (row 0)
        List<Generation> batch = lm.generate(List.of("Once upon a time", "Tom had a"), cfg);
        assertArrayEquals(a.ids(), batch.get(0).ids());
    }

    @Test
    void logprobsAreThoseOfTheUnmodifiedDistribution() {
        Generation g = lm.generate(
                "Once upon a time",
                GenerationConfig.defaults()
                        .withMaxNewTokens(12)
                        .withTemperature(0.7)
                        .withTopK(5)
                        .withSeed(3));
        Scored s = lm.score("Once upon a time", g.text());
        // scoring the decoded text re-tokenises it; the ids agree for this plain text
        assertArrayEquals(g.ids(), s.ids());
        for (int i = 0; i < g.ids().length; i++) assertEquals(g.logprobs()[i], s.logprobs()[i], 1e-4, "token " + i);
    }

    @Test
    void bannedStringsNeverAppearAndStopStringsCut() {
        GenerationConfig cfg =
                GenerationConfig.defaults().withMaxNewTokens(60).withSeed(1).withBannedStrings(List.of("Lily", "."));
        for (Generation g : lm.generate(List.of("Once upon a time", "One day"), cfg)) {
            assertFalse(g.rawText().contains("Lily") || g.rawText().contains("."), g.rawText());
        }
        Generation stopped = lm.generate("", GenerationConfig.greedy(60).withStopStrings(List.of("Lily")));
        assertEquals("stop", stopped.finishReason());
        assertEquals("Once upon a time, there was a little girl named ", stopped.text());
        assertTrue(stopped.rawText().contains("Lily"));
    }

    @Test
    void rowsThatFinishLeaveTheBatchAndTheOthersGoOnAsAlone() {
        // sampled rows with stop strings end at different steps; once half of the running batch has ended those rows
        // are dropped, and every row must still be what it is alone, with the same row seed
        List<String> prompts = List.of(
                "Once upon a time",
                "Tom had a",
                "The dog ran to the big red ball and",
                "One day",
                "Lily",
                "The cat",
                "Mom said",
                "They went to the park");
        long[] seeds = {11, 12, 13, 14, 15, 16, 17, 18};
        GenerationConfig cfg =
                GenerationConfig.defaults().withMaxNewTokens(48).withSeed(3).withStopStrings(List.of(".", "!"));
        List<Generation> batched = lm.generate(prompts, cfg, seeds);
        assertTrue(
                Generator.lastStats().rowsLeft() > 0,
                "rows must end at different steps for this test to drop any: " + Generator.lastStats());
        for (int i = 0; i < prompts.size(); i++) {
            Generation alone = lm.generate(List.of(prompts.get(i)), cfg, new long[] {seeds[i]})
                    .get(0);
            assertArrayEquals(
                    alone.ids(),
                    batched.get(i).ids(),
                    "prompt " + i + ": " + alone.text() + " vs "
                            + batched.get(i).text());
            assertArrayEquals(alone.logprobs(), batched.get(i).logprobs(), 1e-4f, "prompt " + i);
            assertEquals(alone.finishReason(), batched.get(i).finishReason());
        }
    }

    @Test
    void nextTokenLogitsMatchScoring() {
        float[][] logits = lm.nextTokenLogits(List.of("Once upon a time", "Tom"));
        assertEquals(lm.config().vocabSize(), logits[0].length);
        // argmax after "Once upon a time" is the greedy next token
        Generation g = lm.generate("Once upon a time", GenerationConfig.greedy(1));
        int best = 0;
        for (int v = 1; v < logits[0].length; v++) if (logits[0][v] > logits[0][best]) best = v;
        assertEquals(g.ids()[0], best);
    }
}
