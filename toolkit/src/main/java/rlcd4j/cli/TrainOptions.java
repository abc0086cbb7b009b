package rlcd4j.cli;

import java.util.Locale;
import java.util.stream.Collectors;
import picocli.CommandLine.Option;
import rlcd4j.engine.llama.LoraAdapter;
import rlcd4j.train.LrSchedule;
import rlcd4j.train.PreferenceModelTrainer;
import rlcd4j.train.TrainingArgs;

/**
 * Options the training commands share. Their defaults are read from the command's trainer config (the paper's
 * settings, defined once in each {@code Config.defaults()}) when the command builds its options, so the help shows
 * them and the CLI cannot drift from the library.
 */
final class TrainOptions {
    private final TrainingArgs defaults;

    TrainOptions(TrainingArgs defaults, int maxLength) {
        this.defaults = defaults;
        lr = defaults.learningRate();
        epochs = defaults.epochs();
        batchSize = defaults.batchSize();
        microBatchSize = defaults.microBatchSize();
        this.maxLength = maxLength;
        schedule = defaults.schedule().name().toLowerCase(Locale.ROOT);
        warmupRatio = defaults.warmupRatio();
        weightDecay = defaults.weightDecay();
        maxGradNorm = defaults.maxGradNorm();
        seed = defaults.seed();
        saveEvery = defaults.saveEvery();
        LoraAdapter.Config lora = LoraAdapter.Config.defaults();
        loraAlpha = lora.alpha();
        loraDropout = lora.dropout();
        loraTargets = LoraAdapter.ALL_TARGETS.stream()
                .filter(lora.targets()::contains)
                .collect(Collectors.joining(","));
    }

    @Option(
            names = "--model",
            required = true,
            description = "Base model: a local Hugging Face folder or a Hub repo id.")
    String model;

    @Option(
            names = "--out",
            required = true,
            description = "Output folder: checkpoints, log.jsonl and the result. A run resumes from its latest "
                    + "checkpoint here.")
    java.nio.file.Path out;

    @Option(names = "--lr", description = "Peak learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--epochs", description = "Passes over the data (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(
            names = "--batch-size",
            description = "Examples per optimiser step, the effective batch (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(
            names = "--micro-batch-size",
            description = "Examples per forward/backward; gradients accumulate. Memory only, not the result "
                    + "(default: ${DEFAULT-VALUE}).")
    int microBatchSize;

    @Option(
            names = "--max-length",
            description = "Tokens per text; longer texts are cut at the end (default: ${DEFAULT-VALUE}).")
    int maxLength;

    @Option(names = "--schedule", description = "constant, linear or cosine (default: ${DEFAULT-VALUE}).")
    String schedule;

    @Option(
            names = "--warmup-ratio",
            description = "Fraction of the steps spent warming up (default: ${DEFAULT-VALUE}).")
    double warmupRatio;

    @Option(names = "--weight-decay", description = "AdamW decoupled weight decay (default: ${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(names = "--max-grad-norm", description = "Global gradient-norm clip, 0: none (default: ${DEFAULT-VALUE}).")
    double maxGradNorm;

    @Option(
            names = "--seed",
            description = "Seed for data order, initialisation and dropout (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--save-every", description = "Checkpoint every this many steps (default: ${DEFAULT-VALUE}).")
    int saveEvery;

    @Option(
            names = "--lora-rank",
            description = "Train a LoRA adapter of this rank on the frozen base (default: full fine-tuning).")
    Integer loraRank;

    @Option(
            names = "--lora-alpha",
            description = "LoRA alpha (update scaled by alpha / rank) (default: ${DEFAULT-VALUE}).")
    double loraAlpha;

    @Option(names = "--lora-dropout", description = "LoRA dropout (default: ${DEFAULT-VALUE}).")
    double loraDropout;

    @Option(
            names = "--lora-targets",
            description = "Comma list among q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj, or all "
                    + "(default: ${DEFAULT-VALUE}).")
    String loraTargets;

    /** The shared settings as given (every one left out is the trainer's default). */
    TrainingArgs training() {
        return new TrainingArgs(
                lr,
                epochs,
                batchSize,
                microBatchSize,
                LrSchedule.parse(schedule),
                warmupRatio,
                weightDecay,
                maxGradNorm,
                seed,
                saveEvery,
                defaults.keepCheckpoints());
    }

    LoraAdapter.Config lora() {
        return loraRank == null || loraRank == 0
                ? null
                : PreferenceModelTrainer.lora(loraRank, loraAlpha, loraDropout, loraTargets);
    }
}
