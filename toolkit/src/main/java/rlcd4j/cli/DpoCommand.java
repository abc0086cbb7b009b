package rlcd4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import rlcd4j.RlcdException;
import rlcd4j.data.PreferencePairs;
import rlcd4j.engine.CausalLM;
import rlcd4j.train.DpoTrainer;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code rlcd dpo}: direct preference optimisation (or IPO) on preference pairs. */
@Command(name = "dpo", mixinStandardHelpOptions = true,
        description = {"Direct preference optimisation on pairs; the reference is the starting model (with LoRA: the base with the adapter off).",
                "Defaults follow AlpacaFarm's dpo.sh (lr 1e-6, 2 epochs, batch 128, beta 0.1, cosine, warmup 0.03, max length 512)."})
public final class DpoCommand implements Callable<Integer> {
    @Mixin
    TrainOptions common;

    @Option(names = "--pairs", required = true, description = "rlcd simulate's output (only its ok rows train), "
            + ".jsonl(.gz) or .csv with prompt, chosen, rejected, or AlpacaFarm's .csv.")
    Path pairs;

    @Option(names = "--beta", description = "Strength of the implicit KL penalty (default 0.1).")
    Double beta;

    @Option(names = "--loss", description = "dpo (default) or ipo.")
    String loss;

    @Override
    public Integer call() {
        try {
            DpoTrainer.Config c = DpoTrainer.Config.defaults();
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
            if (beta != null) c = c.withBeta(beta);
            if (loss != null) {
                c = c.withLoss(switch (loss.toLowerCase()) {
                    case "dpo", "sigmoid" -> DpoTrainer.Loss.DPO;
                    case "ipo" -> DpoTrainer.Loss.IPO;
                    default -> throw new RlcdException("--loss " + loss + ": expected dpo or ipo");
                });
            }
            c = c.withLora(o.lora());
            PreferencePairs data = PreferencePairs.read(pairs);
            try (CausalLM lm = CausalLM.load(o.model)) {
                DpoTrainer.Result r = new DpoTrainer(c).train(lm, data, o.out);
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
        System.exit(new CommandLine(new DpoCommand()).execute(args));
    }
}
