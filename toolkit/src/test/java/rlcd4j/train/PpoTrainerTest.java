package rlcd4j.train;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDArray;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.Fixtures;
import rlcd4j.data.PromptSet;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.llama.LoraAdapter;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.Table;

/** PPO end to end on TinyStories-656K (2 layers, hidden 128) against rewards computed by code or a preference model. */
class PpoTrainerTest {
    static final PromptSet PROMPTS = PromptSet.of(
            "stories",
            List.of(
                    "Once upon a time",
                    "One day, a little girl",
                    "Tom and his dog",
                    "The sun was",
                    "Lily wanted to",
                    "There was a big",
                    "Mom said",
                    "The cat and the bird"));

    /** Fraction of the response's words that are "the", "a" or "and": dense, and reachable by a tiny story model. */
    static final RewardFunction SMALL_WORDS = (prompts, responses) -> {
        double[] out = new double[responses.size()];
        for (int i = 0; i < out.length; i++) {
            int n = 0, k = 0;
            for (String w : responses.get(i).trim().toLowerCase().split("[^a-z]+")) {
                if (w.isEmpty()) continue;
                n++;
                if (w.equals("the") || w.equals("a") || w.equals("and")) k++;
            }
            out[i] = n == 0 ? 0 : (double) k / n;
        }
        return out;
    };

    static PpoTrainer.Config tiny() {
        return PpoTrainer.Config.defaults()
                .withBatches(16, 8, 8)
                .withGenerationBatchSize(16)
                .withResponseLength(8)
                .withStop(null, -1)
                .withSteps(10, 5)
                .withWarmupSteps(0)
                .withLr(3e-3)
                .withKlCoef(0.05)
                .withSeed(7);
    }

    static LoraAdapter.Config lora() {
        return new LoraAdapter.Config(8, 16, 0.0, Set.copyOf(LoraAdapter.ALL_TARGETS));
    }

    @Test
    void rewardRisesWhileKlStaysBounded(@TempDir Path out) {
        PpoTrainer.Config c = tiny().withBatches(32, 16, 16)
                .withGenerationBatchSize(32)
                .withKlCoef(0.01)
                .withSteps(12, 6)
                .withLora(lora());
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories());
                PpoTrainer ppo = new PpoTrainer(c, lm, SMALL_WORDS, PROMPTS, out)) {
            Table log = ppo.trainUntil(12);
            System.out.println(log.selectColumns(
                            "step", "reward", "kl", "kl_clamped", "entropy", "clip_frac", "value_loss", "approx_kl")
                    .print());
            assertEquals(12, log.rowCount());
            double[] reward = log.doubleColumn("reward").asDoubleArray(),
                    kl = log.doubleColumn("kl").asDoubleArray();
            double first = (reward[0] + reward[1] + reward[2]) / 3, last = (reward[9] + reward[10] + reward[11]) / 3;
            assertTrue(last > first + 0.04, "mean reward should rise: first 3 steps " + first + ", last 3 " + last);
            for (double k : kl) assertTrue(Math.abs(k) < 3, "KL per sequence stays bounded: " + k);
            for (String col : log.columnNames()) {
                for (double v : log.doubleColumn(col).asDoubleArray())
                    assertTrue(Double.isFinite(v), col + " is finite");
            }
            assertTrue(ppo.samples().rowCount() >= 10);
            assertTrue(Files.exists(out.resolve("checkpoint-12").resolve(Checkpoint.STATE)));
            assertTrue(
                    Files.exists(out.resolve("policy").resolve("adapter_config.json")),
                    "LoRA policy saved as a PEFT adapter");
            ppo.close();
            assertNull(lm.model().adapter(), "closing the trainer leaves the shared base as it was");
        }
    }

    @Test
    void aRunKilledBetweenCheckpointsResumesToTheSameWeights(@TempDir Path a, @TempDir Path b) {
        // Full fine-tuning (reference and value model are copies), 4 steps, a checkpoint every 2.
        PpoTrainer.Config c =
                tiny().withBatches(8, 4, 2).withGenerationBatchSize(8).withSteps(4, 2);
        Map<String, float[]> straight = new LinkedHashMap<>();
        Table logA;
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories());
                PpoTrainer ppo = new PpoTrainer(c, lm, SMALL_WORDS, PROMPTS, a)) {
            logA = ppo.train();
            ppo.trainable().forEach((k, v) -> straight.put(k, v.toFloatArray()));
        }
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories());
                PpoTrainer ppo = new PpoTrainer(c, lm, SMALL_WORDS, PROMPTS, b)) {
            ppo.trainUntil(3); // step 3 done but not checkpointed, then the process "dies"
        }
        assertEquals(3, lines(b.resolve("log.jsonl")));
        Table logB;
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories());
                PpoTrainer ppo = new PpoTrainer(c, lm, SMALL_WORDS, PROMPTS, b)) {
            logB = ppo.train(); // resumes from checkpoint-2, redoes step 3
            for (var e : ppo.trainable().entrySet()) {
                assertArrayEquals(straight.get(e.getKey()), e.getValue().toFloatArray(), 0f, e.getKey());
            }
        }
        assertEquals(4, logB.rowCount());
        assertArrayEquals(
                logA.doubleColumn("reward").asDoubleArray(),
                logB.doubleColumn("reward").asDoubleArray(),
                0.0);
        assertArrayEquals(
                logA.doubleColumn("policy_loss").asDoubleArray(),
                logB.doubleColumn("policy_loss").asDoubleArray(),
                0.0);
        assertTrue(
                Files.exists(b.resolve("policy").resolve("model.safetensors")), "full policy saved as a model folder");
    }

    @Test
    void preferenceModelRewardOnOneSharedBaseAndPenaltyWithoutStopMarker(@TempDir Path out) {
        // Both rollout modes: the paper's (sample all responseLength tokens, cut at the marker only for the reward)
        // and stopping at the marker. Stop at "." so that some responses end properly and the others are penalised.
        for (boolean stopRollouts : new boolean[] {false, true}) {
            try (CausalLM lm = CausalLM.load(Fixtures.tinyStories());
                    PreferenceModel rm = PreferenceModel.create(lm, lora(), 128, 3)) {
                PpoTrainer.Config c = tiny().withBatches(8, 8, 8)
                        .withGenerationBatchSize(8)
                        .withResponseLength(12)
                        .withStop(".", -1)
                        .withStopRollouts(stopRollouts)
                        .withSteps(1, 1)
                        .withLora(lora());
                try (PpoTrainer ppo = new PpoTrainer(c, lm, rm, PROMPTS, out.resolve("stop-" + stopRollouts))) {
                    Table log = ppo.train();
                    Table s = ppo.samples();
                    int stopped = 0;
                    for (int i = 0; i < s.rowCount(); i++) {
                        String finish = s.stringColumn("finish_reason").get(i),
                                response = s.stringColumn("response").get(i);
                        boolean hasMarker = s.booleanColumn("stopped").get(i);
                        assertFalse(
                                response.contains("."),
                                "the reward model reads the response cut at the marker: " + response);
                        if (stopRollouts)
                            assertEquals("stop".equals(finish) && !response.isEmpty(), hasMarker, "row " + i);
                        else assertNotEquals("stop", finish, "full-length rollouts never stop at the marker");
                        if (!stopRollouts && "length".equals(finish))
                            assertEquals(12, s.intColumn("tokens").get(i), "row " + i);
                        double expected = hasMarker
                                ? rm.score(List.of(s.stringColumn("prompt").get(i)), List.of(response), 1)[0]
                                : -1.0;
                        if (hasMarker) stopped++;
                        assertEquals(expected, s.doubleColumn("reward").get(i), 1e-4, "row " + i);
                    }
                    double noStop = log.doubleColumn("no_stop_frac").get(0);
                    assertTrue(noStop >= 0 && noStop <= 1);
                    System.out.println("stopRollouts " + stopRollouts + ": stopped samples " + stopped + " of "
                            + s.rowCount() + "; no_stop_frac " + noStop + "; response_length "
                            + log.doubleColumn("response_length").get(0));
                }
            }
        }
    }

    @Test
    void resumeRefusesACheckpointOfOtherSettingsOrOtherPrompts(@TempDir Path out) {
        PpoTrainer.Config c = tiny().withBatches(4, 4, 4)
                .withGenerationBatchSize(4)
                .withSteps(2, 1)
                .withLora(lora());
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories())) {
            try (PpoTrainer ppo = new PpoTrainer(c, lm, SMALL_WORDS, PROMPTS, out)) {
                ppo.trainUntil(1);
            }
            try (PpoTrainer other = new PpoTrainer(c.withKlCoef(0.2), lm, SMALL_WORDS, PROMPTS, out)) {
                RlcdException e = assertThrows(RlcdException.class, () -> other.trainUntil(2));
                assertTrue(e.getMessage().contains("config") && e.getMessage().contains("kl_coef"), e.getMessage());
            }
            try (PpoTrainer other = new PpoTrainer(c, lm, SMALL_WORDS, PROMPTS.limit(2), out)) {
                RlcdException e = assertThrows(RlcdException.class, () -> other.trainUntil(2));
                assertTrue(e.getMessage().contains("other data"), e.getMessage());
            }
            try (PpoTrainer same = new PpoTrainer(c.withSteps(2, 5), lm, SMALL_WORDS, PROMPTS, out)) {
                assertEquals(2, same.train().rowCount(), "how often to save is not part of the run's identity");
            }
        }
    }

    @Test
    void aStepThatFailedAfterItsBackwardLeavesNoGradientForTheRetry(@TempDir Path a, @TempDir Path b) {
        // A NaN value head makes the first micro-batch's loss NaN: the step stops after its backward, leaving NaN
        // gradients. A notebook user fixes the cause and calls trainUntil again on the same trainer: the retry must
        // start from zero gradients and end where a run that never failed ends. Before the fix the NaN stayed.
        PpoTrainer.Config c = tiny().withBatches(8, 4, 2)
                .withGenerationBatchSize(8)
                .withSteps(2, 1)
                .withLora(lora());
        float[] clean;
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories());
                PpoTrainer ppo = new PpoTrainer(c, lm, SMALL_WORDS, PROMPTS, a)) {
            ppo.trainUntil(2);
            clean = PreferenceModelTrainerTest.concat(ppo.trainable());
        }
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories());
                PpoTrainer ppo = new PpoTrainer(c, lm, SMALL_WORDS, PROMPTS, b)) {
            NDArray head = ppo.trainable().get("value.value_head.weight");
            Checkpoint.assign(head, head.getManager().full(head.getShape(), Float.NaN));
            RlcdException e = assertThrows(RlcdException.class, () -> ppo.trainUntil(2));
            assertTrue(e.getMessage().contains("NaN"), e.getMessage());
            Checkpoint.assign(head, head.getManager().zeros(head.getShape()));
            ppo.trainUntil(2);
            assertArrayEquals(clean, PreferenceModelTrainerTest.concat(ppo.trainable()), 0f);
        }
    }

    @Test
    void aNonFiniteRewardStopsWithStepAndQuantity(@TempDir Path out) {
        RewardFunction nan = (p, r) -> {
            double[] x = new double[r.size()];
            java.util.Arrays.fill(x, Double.NaN);
            return x;
        };
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories());
                PpoTrainer ppo = new PpoTrainer(
                        tiny().withBatches(4, 4, 4).withSteps(2, 1).withLora(lora()), lm, nan, PROMPTS, out)) {
            RlcdException e = assertThrows(RlcdException.class, ppo::train);
            assertTrue(e.getMessage().contains("at step 1") && e.getMessage().contains("reward"), e.getMessage());
            assertNull(Checkpoint.latest(out));
        }
    }

    @Test
    void configDefaultsAreThePapersAndBadValuesNameTheField() {
        PpoTrainer.Config d = PpoTrainer.Config.defaults();
        assertEquals(0.002, d.klCoef());
        assertEquals(1.0, d.gamma());
        assertEquals(1.0, d.lambda());
        assertEquals(0.2, d.clip());
        assertEquals(0.2, d.valueClip());
        assertEquals(0.1, d.vfCoef());
        assertEquals(2, d.ppoEpochs());
        assertEquals(1e-5, d.lr());
        assertEquals(512, d.rolloutBatchSize());
        assertEquals(256, d.stepBatchSize());
        assertEquals(300, d.responseLength());
        assertEquals(192, d.queryLength());
        assertEquals("\n\nHuman:", d.stop());
        assertEquals(-1.0, d.penaltyReward());
        assertTrue(d.whitenRewards());
        assertNull(d.lora());
        RlcdException e = assertThrows(RlcdException.class, () -> d.withBatches(8, 16, 4));
        assertTrue(e.getMessage().contains("stepBatchSize"), e.getMessage());
        assertTrue(d.toJson().has("kl_coef"), "snake_case, as the other trainers' configs");
    }

    private static long lines(Path f) {
        try {
            return Files.readAllLines(f).stream().filter(l -> !l.isBlank()).count();
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }
}
