package rlcd4j.cli;

import picocli.CommandLine.Option;
import rlcd4j.engine.llama.LoraAdapter;
import rlcd4j.train.LrSchedule;
import rlcd4j.train.PreferenceModelTrainer;

/**
 * Options the training commands share. Every option left out keeps the trainer's default (the paper's setting),
 * which lives in one place: each trainer's {@code Config.defaults()}.
 */
final class TrainOptions {
    @Option(names = "--model", required = true, description = "Base model: a local Hugging Face folder or a Hub repo id.")
    String model;

    @Option(names = "--out", required = true, description = "Output folder: checkpoints, log.jsonl and the result. A run resumes from its latest checkpoint here.")
    java.nio.file.Path out;

    @Option(names = "--lr", description = "Peak learning rate.")
    Double lr;

    @Option(names = "--epochs", description = "Passes over the data.")
    Integer epochs;

    @Option(names = "--batch-size", description = "Examples per optimiser step (effective batch).")
    Integer batchSize;

    @Option(names = "--micro-batch-size", description = "Examples per forward/backward; gradients accumulate. Memory only, not the result.")
    Integer microBatchSize;

    @Option(names = "--max-length", description = "Tokens per text; longer texts are cut at the end.")
    Integer maxLength;

    @Option(names = "--schedule", description = "constant, linear or cosine.")
    String schedule;

    @Option(names = "--warmup-ratio", description = "Fraction of the steps spent warming up.")
    Double warmupRatio;

    @Option(names = "--weight-decay", description = "AdamW decoupled weight decay.")
    Double weightDecay;

    @Option(names = "--max-grad-norm", description = "Global gradient-norm clip (0: none).")
    Double maxGradNorm;

    @Option(names = "--seed", description = "Seed for data order, initialisation and dropout.")
    Long seed;

    @Option(names = "--save-every", description = "Checkpoint every this many steps.")
    Integer saveEvery;

    @Option(names = "--lora-rank", description = "Train a LoRA adapter of this rank on the frozen base (default: full fine-tuning).")
    Integer loraRank;

    @Option(names = "--lora-alpha", defaultValue = "16", description = "LoRA alpha (update scaled by alpha / rank). Default: ${DEFAULT-VALUE}.")
    double loraAlpha;

    @Option(names = "--lora-dropout", defaultValue = "0.05", description = "LoRA dropout. Default: ${DEFAULT-VALUE}.")
    double loraDropout;

    @Option(names = "--lora-targets", defaultValue = "q_proj,v_proj", description = "Comma list among q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj, or all. Default: ${DEFAULT-VALUE}.")
    String loraTargets;

    LoraAdapter.Config lora() {
        return loraRank == null || loraRank == 0 ? null : PreferenceModelTrainer.lora(loraRank, loraAlpha, loraDropout, loraTargets);
    }

    LrSchedule.Kind scheduleKind() {
        return schedule == null ? null : LrSchedule.parse(schedule);
    }
}
