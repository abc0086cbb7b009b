package rlcd4j.train;

import com.google.gson.JsonObject;
import java.util.Locale;
import rlcd4j.util.RlcdException;

/**
 * The optimisation settings the fine-tuning trainers share, defined once (as TRL's {@code TrainingArguments} under its
 * {@code DPOConfig}): {@link PreferenceModelTrainer.Config}, {@link SftTrainer.Config} and {@link DpoTrainer.Config}
 * each hold one. JSON keys are snake_case, as HF and TRL write configs.
 *
 * @param learningRate    peak learning rate
 * @param epochs          passes over the data
 * @param batchSize       examples per optimiser step (the effective batch)
 * @param microBatchSize  examples per forward/backward; gradients accumulate to {@code batchSize}. Changes memory only,
 *                        not the result (each example's loss is divided by the step's count)
 * @param schedule        learning-rate schedule (cosine)
 * @param warmupRatio     fraction of the steps spent warming up linearly from 0 (0.03)
 * @param weightDecay     AdamW decoupled weight decay (0)
 * @param maxGradNorm     global gradient-norm clip, 0 for none (1.0, HF's default)
 * @param seed            data order, initialisation, dropout (42)
 * @param saveEvery       checkpoint every this many steps (100); the last step is always saved
 * @param keepCheckpoints newest checkpoints kept (2; 0 keeps all)
 */
public record TrainingArgs(
        double learningRate,
        int epochs,
        int batchSize,
        int microBatchSize,
        LrSchedule.Kind schedule,
        double warmupRatio,
        double weightDecay,
        double maxGradNorm,
        long seed,
        int saveEvery,
        int keepCheckpoints) {
    public TrainingArgs {
        if (!(learningRate > 0)
                || epochs <= 0
                || batchSize <= 0
                || microBatchSize <= 0
                || saveEvery <= 0
                || keepCheckpoints < 0
                || !(warmupRatio >= 0 && warmupRatio <= 1)
                || schedule == null) {
            throw new RlcdException("training arguments: learning rate, epochs, batch sizes and save interval must be "
                    + "positive, the warmup ratio in [0, 1], kept checkpoints non-negative and a schedule given; got "
                    + toJson(
                            learningRate,
                            epochs,
                            batchSize,
                            microBatchSize,
                            schedule,
                            warmupRatio,
                            weightDecay,
                            maxGradNorm,
                            seed,
                            saveEvery,
                            keepCheckpoints));
        }
    }

    /** The settings the trainers agree on (HF's where the papers say nothing), with a trainer's rate, epochs, batch. */
    public static TrainingArgs of(double learningRate, int epochs, int batchSize) {
        return new TrainingArgs(learningRate, epochs, batchSize, 4, LrSchedule.Kind.COSINE, 0.03, 0.0, 1.0, 42, 100, 2);
    }

    public TrainingArgs withLearningRate(double v) {
        return new TrainingArgs(
                v,
                epochs,
                batchSize,
                microBatchSize,
                schedule,
                warmupRatio,
                weightDecay,
                maxGradNorm,
                seed,
                saveEvery,
                keepCheckpoints);
    }

    public TrainingArgs withEpochs(int v) {
        return new TrainingArgs(
                learningRate,
                v,
                batchSize,
                microBatchSize,
                schedule,
                warmupRatio,
                weightDecay,
                maxGradNorm,
                seed,
                saveEvery,
                keepCheckpoints);
    }

    public TrainingArgs withBatchSize(int v) {
        return new TrainingArgs(
                learningRate,
                epochs,
                v,
                microBatchSize,
                schedule,
                warmupRatio,
                weightDecay,
                maxGradNorm,
                seed,
                saveEvery,
                keepCheckpoints);
    }

    public TrainingArgs withMicroBatchSize(int v) {
        return new TrainingArgs(
                learningRate,
                epochs,
                batchSize,
                v,
                schedule,
                warmupRatio,
                weightDecay,
                maxGradNorm,
                seed,
                saveEvery,
                keepCheckpoints);
    }

    public TrainingArgs withSchedule(LrSchedule.Kind v) {
        return new TrainingArgs(
                learningRate,
                epochs,
                batchSize,
                microBatchSize,
                v,
                warmupRatio,
                weightDecay,
                maxGradNorm,
                seed,
                saveEvery,
                keepCheckpoints);
    }

    public TrainingArgs withWarmupRatio(double v) {
        return new TrainingArgs(
                learningRate,
                epochs,
                batchSize,
                microBatchSize,
                schedule,
                v,
                weightDecay,
                maxGradNorm,
                seed,
                saveEvery,
                keepCheckpoints);
    }

    public TrainingArgs withWeightDecay(double v) {
        return new TrainingArgs(
                learningRate,
                epochs,
                batchSize,
                microBatchSize,
                schedule,
                warmupRatio,
                v,
                maxGradNorm,
                seed,
                saveEvery,
                keepCheckpoints);
    }

    public TrainingArgs withMaxGradNorm(double v) {
        return new TrainingArgs(
                learningRate,
                epochs,
                batchSize,
                microBatchSize,
                schedule,
                warmupRatio,
                weightDecay,
                v,
                seed,
                saveEvery,
                keepCheckpoints);
    }

    public TrainingArgs withSeed(long v) {
        return new TrainingArgs(
                learningRate,
                epochs,
                batchSize,
                microBatchSize,
                schedule,
                warmupRatio,
                weightDecay,
                maxGradNorm,
                v,
                saveEvery,
                keepCheckpoints);
    }

    public TrainingArgs withSaveEvery(int v) {
        return new TrainingArgs(
                learningRate,
                epochs,
                batchSize,
                microBatchSize,
                schedule,
                warmupRatio,
                weightDecay,
                maxGradNorm,
                seed,
                v,
                keepCheckpoints);
    }

    public TrainingArgs withKeepCheckpoints(int v) {
        return new TrainingArgs(
                learningRate,
                epochs,
                batchSize,
                microBatchSize,
                schedule,
                warmupRatio,
                weightDecay,
                maxGradNorm,
                seed,
                saveEvery,
                v);
    }

    /** The settings as snake_case JSON, the keys each trainer's config JSON starts with. */
    public JsonObject toJson() {
        return toJson(
                learningRate,
                epochs,
                batchSize,
                microBatchSize,
                schedule,
                warmupRatio,
                weightDecay,
                maxGradNorm,
                seed,
                saveEvery,
                keepCheckpoints);
    }

    private static JsonObject toJson(
            double learningRate,
            int epochs,
            int batchSize,
            int microBatchSize,
            LrSchedule.Kind schedule,
            double warmupRatio,
            double weightDecay,
            double maxGradNorm,
            long seed,
            int saveEvery,
            int keepCheckpoints) {
        JsonObject o = new JsonObject();
        o.addProperty("learning_rate", learningRate);
        o.addProperty("epochs", epochs);
        o.addProperty("batch_size", batchSize);
        o.addProperty("micro_batch_size", microBatchSize);
        o.addProperty("schedule", schedule == null ? null : schedule.name().toLowerCase(Locale.ROOT));
        o.addProperty("warmup_ratio", warmupRatio);
        o.addProperty("weight_decay", weightDecay);
        o.addProperty("max_grad_norm", maxGradNorm);
        o.addProperty("seed", seed);
        o.addProperty("save_every", saveEvery);
        o.addProperty("keep_checkpoints", keepCheckpoints);
        return o;
    }
}
