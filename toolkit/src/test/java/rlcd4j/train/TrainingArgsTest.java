package rlcd4j.train;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import rlcd4j.util.RlcdException;

/** The shared training settings, and the config JSON a checkpoint stores, which resuming compares. */
class TrainingArgsTest {
    /** The "config" objects of trainer_state.json as the trainers wrote them before TrainingArgs (defaults). */
    private static final String PM_BEFORE = """
            {"learning_rate": 3.0E-6, "epochs": 1, "batch_size": 16, "micro_batch_size": 4, "schedule": "cosine",
             "warmup_ratio": 0.03, "max_length": 512, "weight_decay": 0.0, "max_grad_norm": 1.0, "seed": 42,
             "eval_size": 500, "eval_every": 10, "eval_batch_size": 8, "save_every": 100, "keep_checkpoints": 2}""";

    private static final String SFT_BEFORE = """
            {"learning_rate": 2.0E-5, "epochs": 3, "batch_size": 128, "micro_batch_size": 4, "schedule": "cosine",
             "warmup_ratio": 0.03, "max_length": 512, "weight_decay": 0.0, "max_grad_norm": 1.0, "seed": 42,
             "save_every": 100, "keep_checkpoints": 2}""";
    private static final String DPO_BEFORE = """
            {"learning_rate": 1.0E-6, "epochs": 2, "batch_size": 128, "micro_batch_size": 4, "schedule": "cosine",
             "warmup_ratio": 0.03, "max_length": 512, "weight_decay": 0.0, "max_grad_norm": 1.0, "seed": 42,
             "beta": 0.1, "loss": "dpo",
             "lora": {"rank": 4, "alpha": 8.0, "dropout": 0.0, "targets": ["q_proj", "v_proj"]},
             "save_every": 100, "keep_checkpoints": 2}""";

    @Test
    void checkpointsOfEarlierRunsStillMatchTheirConfig() {
        assertResumable(PM_BEFORE, PreferenceModelTrainer.Config.defaults().toJson());
        assertResumable(SFT_BEFORE, SftTrainer.Config.defaults().toJson());
        assertResumable(
                DPO_BEFORE,
                DpoTrainer.Config.defaults()
                        .withLora(PreferenceModelTrainer.lora(4, 8, 0.0, "q_proj,v_proj"))
                        .toJson());
        // and a changed setting is still told apart
        JsonObject other = SftTrainer.Config.defaults().withLearningRate(1e-5).toJson();
        assertNotEquals(Runs.comparable(JsonParser.parseString(SFT_BEFORE).getAsJsonObject()), Runs.comparable(other));
    }

    private static void assertResumable(String saved, JsonObject now) {
        assertEquals(
                Runs.comparable(JsonParser.parseString(saved).getAsJsonObject()), Runs.comparable(now), now.toString());
    }

    /** PPO's config as its checkpoints stored it before snake_case: camelCase keys, LoRA as a record string. */
    private static final String PPO_BEFORE = """
            {"klCoef": 0.002, "adaptiveKl": false, "klTarget": 6.0, "klBeta": 0.1, "gamma": 1.0, "lambda": 1.0,
             "clip": 0.2, "valueClip": 0.2, "vfCoef": 0.1, "ppoEpochs": 2, "lr": 1.0E-5, "adamEps": 1.0E-5,
             "warmupSteps": 5, "maxGradNorm": 1.0, "rolloutBatchSize": 512, "stepBatchSize": 256, "microBatchSize": 4,
             "generationBatchSize": 32, "responseLength": 300, "temperature": 1.0, "topK": 0, "topP": 1.0,
             "queryLength": 192, "stop": "\n\nHuman:", "stopRollouts": false, "penaltyReward": -1.0,
             "whitenRewards": true, "totalSteps": 80, "saveSteps": 20, "seed": 42,
             "lora": "Config[rank=4, alpha=8.0, dropout=0.0, targets=[v_proj, q_proj]]"}""";

    @Test
    void ppoCheckpointsWithCamelCaseKeysStillResume() {
        PpoTrainer.Config c =
                PpoTrainer.Config.defaults().withLora(PreferenceModelTrainer.lora(4, 8, 0.0, "q_proj,v_proj"));
        assertTrue(
                c.toJson().has("kl_coef") && c.toJson().has("rollout_batch_size"),
                c.toJson().toString());
        assertResumable(PPO_BEFORE, c.toJson());
        assertResumable(PPO_BEFORE, c.withSteps(80, 5).toJson()); // how often to save may change
        assertNotEquals(
                Runs.comparable(JsonParser.parseString(PPO_BEFORE).getAsJsonObject()),
                Runs.comparable(c.withKlCoef(0.004).toJson()));
        assertNotEquals(
                Runs.comparable(JsonParser.parseString(PPO_BEFORE).getAsJsonObject()),
                Runs.comparable(c.withLora(PreferenceModelTrainer.lora(8, 8, 0.0, "q_proj,v_proj"))
                        .toJson()));
    }

    @Test
    void eachTrainerHoldsTheSharedSettingsWithItsOwnDefaults() {
        TrainingArgs pm = PreferenceModelTrainer.Config.defaults().training();
        TrainingArgs sft = SftTrainer.Config.defaults().training();
        TrainingArgs dpo = DpoTrainer.Config.defaults().training();
        assertEquals(TrainingArgs.of(3e-6, 1, 16), pm);
        assertEquals(TrainingArgs.of(2e-5, 3, 128), sft);
        assertEquals(TrainingArgs.of(1e-6, 2, 128), dpo);
        assertEquals(LrSchedule.Kind.COSINE, sft.schedule());
        assertEquals(
                7,
                SftTrainer.Config.defaults().withSeed(7).training().seed(),
                "a config's wither sets the shared field");
        assertEquals(
                sft.withEpochs(1), SftTrainer.Config.defaults().withEpochs(1).training());
    }

    @Test
    void badSettingsAreOneClearError() {
        RlcdException e = assertThrows(
                RlcdException.class, () -> TrainingArgs.of(3e-6, 1, 16).withWarmupRatio(2));
        assertTrue(
                e.getMessage().contains("warmup ratio") && e.getMessage().contains("\"warmup_ratio\":2.0"),
                e.getMessage());
        assertThrows(RlcdException.class, () -> SftTrainer.Config.defaults().withMaxLength(1));
        assertThrows(RlcdException.class, () -> DpoTrainer.Config.defaults().withBeta(0));
    }
}
