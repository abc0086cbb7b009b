package rlcd4j.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import rlcd4j.sandbox.SandboxPretraining;
import rlcd4j.train.PretrainTrainer;
import tech.tablesaw.api.Table;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "pretrain", mixinStandardHelpOptions = true,
        description = "Make the demo's sandbox base model: corpus, BPE tokenizer, LLaMA config, next-token pretraining (resumable).")
public final class PretrainCommand implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "datasets/sandbox/base-model", description = "Model folder to write (default: ${DEFAULT-VALUE}).")
    Path out;
    @Option(names = "--work", defaultValue = "runs/pretrain", description = "Corpus and checkpoints; a killed run resumes from here.")
    Path work;
    @Option(names = "--seed", defaultValue = "0")
    long seed;
    @Option(names = "--dialogues", defaultValue = "30000")
    int dialogues;
    @Option(names = "--steps", defaultValue = "1200")
    int steps;
    @Option(names = "--batch", defaultValue = "32", description = "Windows per step.")
    int batch;
    @Option(names = "--seq-len", defaultValue = "128")
    int seqLen;
    @Option(names = "--lr", defaultValue = "2e-3")
    double lr;

    @Override
    public Integer call() {
        String command = "./rlcd pretrain --out " + out + " --work " + work + " --seed " + seed + " --dialogues " + dialogues
                + " --steps " + steps + " --batch " + batch + " --seq-len " + seqLen + " --lr " + lr;
        SandboxPretraining.Options o = SandboxPretraining.Options.defaults().withDialogues(dialogues)
                .withTraining(PretrainTrainer.Config.defaults().withSteps(steps).withBatch(batch, seqLen).withLr(lr, Math.max(1, steps / 20)).withCheckpointEvery(100));
        o = new SandboxPretraining.Options(seed, o.dialogues(), o.merges(), o.training());
        Table log = SandboxPretraining.run(work, out, o, command);
        System.out.println(log.last(Math.min(5, log.rowCount())).print());
        System.out.println("model written to " + out.toAbsolutePath());
        return 0;
    }
}
