package rlcd4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import rlcd4j.sandbox.SandboxPretraining;
import tech.tablesaw.api.Table;

@Command(
        name = "pretrain",
        mixinStandardHelpOptions = true,
        description =
                "Make the demo's sandbox base model: corpus, BPE tokenizer, LLaMA config, next-token pretraining (resumable).")
public final class PretrainCommand implements Callable<Integer> {
    private static final SandboxPretraining.Options DEFAULTS = SandboxPretraining.Options.defaults();

    @Option(
            names = "--out",
            defaultValue = "datasets/sandbox/base-model",
            description = "Model folder to write (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(
            names = "--work",
            defaultValue = "runs/pretrain",
            description = "Corpus and checkpoints; a killed run resumes from here.")
    Path work;

    @Option(names = "--seed", description = "Default: ${DEFAULT-VALUE}.")
    long seed = DEFAULTS.seed();

    @Option(names = "--dialogues", description = "Pretraining dialogues in the corpus (default: ${DEFAULT-VALUE}).")
    int dialogues = DEFAULTS.dialogues();

    @Option(
            names = "--described",
            description = "Share of judged assistant turns that carry a description (default: ${DEFAULT-VALUE}).")
    double described = DEFAULTS.mix().described();

    @Option(names = "--steps", description = "Default: ${DEFAULT-VALUE}.")
    int steps = DEFAULTS.training().steps();

    @Option(names = "--batch", description = "Windows per step (default: ${DEFAULT-VALUE}).")
    int batch = DEFAULTS.training().batchSize();

    @Option(names = "--seq-len", description = "Tokens per window (default: ${DEFAULT-VALUE}).")
    int seqLen = DEFAULTS.training().seqLen();

    @Option(names = "--lr", description = "Peak learning rate (default: ${DEFAULT-VALUE}; warmup: steps / 20).")
    double lr = DEFAULTS.training().lr();

    @Override
    public Integer call() {
        String command = "./rlcd pretrain --out " + out + " --work " + work + " --seed " + seed + " --dialogues "
                + dialogues + " --described " + described + " --steps " + steps + " --batch " + batch + " --seq-len "
                + seqLen + " --lr " + lr;
        SandboxPretraining.Options o = DEFAULTS.withDialogues(dialogues)
                .withTraining(DEFAULTS.training()
                        .withSteps(steps)
                        .withBatch(batch, seqLen)
                        .withLr(lr, Math.max(1, steps / 20))
                        .withCheckpointEvery(100));
        o = o.withSeed(seed).withDescribed(described);
        Table log = SandboxPretraining.run(work, out, o, command);
        System.out.println(log.last(Math.min(5, log.rowCount())).print());
        System.out.println("model written to " + out.toAbsolutePath());
        return 0;
    }
}
