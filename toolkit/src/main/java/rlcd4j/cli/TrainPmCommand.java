package rlcd4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import rlcd4j.RlcdException;
import rlcd4j.data.PreferencePairs;
import rlcd4j.engine.CausalLM;
import rlcd4j.train.PreferenceModel;
import rlcd4j.train.PreferenceModelTrainer;
import tech.tablesaw.api.Table;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code rlcd train-pm}: trains a preference model on pairs and reports held-out accuracy and human agreement. */
@Command(name = "train-pm", mixinStandardHelpOptions = true,
        description = {"Train a preference model (backbone + scalar head at the last token) on preference pairs.",
                "Loss BCE(r(chosen) - r(rejected), p_chosen); defaults are the RLCD paper's (lr 3e-6, 1 epoch, batch 16, cosine, warmup 0.03, max length 512, full fine-tuning)."})
public final class TrainPmCommand implements Callable<Integer> {
    @Mixin
    TrainOptions common;

    @Option(names = "--pairs", required = true, description = "Pairs: rlcd simulate's output (only its ok rows train), "
            + ".jsonl(.gz) with prompt, chosen, rejected and optionally p_chosen (soft label), AlpacaFarm's .csv, "
            + "or .csv with prompt, chosen, rejected[, p_chosen].")
    Path pairs;

    @Option(names = "--eval-size", description = "Pairs held out for evaluation (default 500).")
    Integer evalSize;

    @Option(names = "--eval-every", description = "Evaluate every this many steps (0: at the end only).")
    Integer evalEvery;

    @Option(names = "--human-pairs", description = "Human-labelled pairs (e.g. HH-RLHF test.jsonl.gz: chosen, rejected) to report agreement on, as the paper's Table 5.")
    Path humanPairs;

    @Option(names = "--human-limit", defaultValue = "2000", description = "Use the first N human pairs. Default: ${DEFAULT-VALUE} (as the paper's script).")
    int humanLimit;

    @Override
    public Integer call() {
        try {
            PreferenceModelTrainer.Config c = PreferenceModelTrainer.Config.defaults();
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
            if (evalSize != null) c = c.withEvalSize(evalSize);
            if (evalEvery != null) c = c.withEvalEvery(evalEvery);
            c = c.withLora(o.lora());
            PreferencePairs data = PreferencePairs.read(pairs);
            Table human = humanPairs == null ? null : TrainingFiles.read(humanPairs, humanLimit);
            try (CausalLM lm = CausalLM.load(o.model)) {
                PreferenceModelTrainer.Result r = new PreferenceModelTrainer(c).train(lm, data, o.out);
                try (PreferenceModel pm = r.model()) {
                    if (r.eval().rowCount() > 0) System.out.println(r.eval().print());
                    if (human != null) System.out.println(PreferenceModelTrainer.humanAgreement(pm, human).print());
                }
            }
            System.out.println("preference model saved to " + o.out);
            return 0;
        } catch (RlcdException e) {
            System.err.println("error: " + e.getMessage());
            return 1;
        }
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new TrainPmCommand()).execute(args));
    }
}
