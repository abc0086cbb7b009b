package rlcd4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import rlcd4j.RlcdException;
import rlcd4j.data.PreferencePairs;
import rlcd4j.engine.CausalLM;
import rlcd4j.train.SftTrainer;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code rlcd sft}: supervised fine-tuning (context distillation) on prompt/response pairs. */
@Command(name = "sft", mixinStandardHelpOptions = true,
        description = {"Supervised fine-tuning with the loss on response tokens only (RLCD's context distillation).",
                "Text: prompt + ' ' then response + '\\n\\nHuman:' + EOS; defaults are the paper's (lr 2e-5, 3 epochs, batch 128, cosine, warmup 0.03, max length 512)."})
public final class SftCommand implements Callable<Integer> {
    @Mixin
    TrainOptions common;

    @Option(names = "--data", required = true, description = ".jsonl(.gz) or .csv with prompt and response; "
            + "a pairs file (prompt, chosen, rejected, or rlcd simulate's output: its ok rows) trains on chosen.")
    Path data;

    @Override
    public Integer call() {
        try {
            SftTrainer.Config c = SftTrainer.Config.defaults();
            TrainOptions o = common;
            if (o.lr != null) c = c.withLearningRate(o.lr);
            if (o.epochs != null) c = c.withEpochs(o.epochs);
            if (o.batchSize != null) c = c.withBatchSize(o.batchSize);
            if (o.microBatchSize != null) c = c.withMicroBatchSize(o.microBatchSize);
            if (o.maxLength != null) c = c.withMaxLength(o.maxLength);
            if (o.scheduleKind() != null) c = c.withSchedule(o.scheduleKind());
            if (o.warmupRatio != null) c = c.withWarmupRatio(o.warmupRatio);
            if (o.weightDecay != null) c = c.withWeightDecay(o.weightDecay);
            if (o.maxGradNorm != null) c = c.withMaxGradNorm(o.maxGradNorm);
            if (o.seed != null) c = c.withSeed(o.seed);
            if (o.saveEvery != null) c = c.withSaveEvery(o.saveEvery);
            c = c.withLora(o.lora());
            // The simulator's output trains on the chosen side of its ok rows (context distillation).
            PreferencePairs pairs = PreferencePairs.isPairsJsonl(data) ? PreferencePairs.read(data) : null;
            var table = pairs == null ? TrainingFiles.read(data, 0) : null;
            try (CausalLM lm = CausalLM.load(o.model)) {
                SftTrainer.Result r = pairs != null ? new SftTrainer(c).train(lm, pairs, o.out)
                        : new SftTrainer(c).train(lm, table, o.out);
                System.out.println(r.log().last(1).print());
                if (r.adapter() != null) r.adapter().close();
            }
            System.out.println((c.lora() == null ? "model" : "LoRA adapter") + " saved to " + o.out);
            return 0;
        } catch (RlcdException e) {
            System.err.println("error: " + e.getMessage());
            return 1;
        }
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new SftCommand()).execute(args));
    }
}
