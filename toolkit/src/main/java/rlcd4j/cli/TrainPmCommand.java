package rlcd4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import rlcd4j.data.PreferencePairs;
import rlcd4j.engine.CausalLM;
import rlcd4j.train.PreferenceModel;
import rlcd4j.train.PreferenceModelTrainer;
import tech.tablesaw.api.Table;

/** {@code rlcd train-pm}: trains a preference model on pairs and reports held-out accuracy and human agreement. */
@Command(
        name = "train-pm",
        mixinStandardHelpOptions = true,
        description = {
            "Train a preference model (backbone + scalar head at the last token) on preference pairs.",
            "Loss BCE(r(chosen) - r(rejected), p_chosen); defaults (shown below) are the RLCD paper's."
        })
public final class TrainPmCommand implements Callable<Integer> {
    private static final PreferenceModelTrainer.Config DEFAULTS = PreferenceModelTrainer.Config.defaults();

    @Mixin
    TrainOptions common = new TrainOptions(DEFAULTS.training(), DEFAULTS.maxLength());

    @Option(
            names = "--pairs",
            required = true,
            description = "Pairs: rlcd simulate's output (only its ok rows train), "
                    + ".jsonl(.gz) with prompt, chosen, rejected and optionally p_chosen (soft label), AlpacaFarm's .csv, "
                    + "or .csv with prompt, chosen, rejected[, p_chosen].")
    Path pairs;

    @Option(names = "--eval-size", description = "Pairs held out for evaluation (default: ${DEFAULT-VALUE}).")
    int evalSize = DEFAULTS.evalSize();

    @Option(
            names = "--eval-every",
            description = "Evaluate every this many steps, 0: at the end only (default: ${DEFAULT-VALUE}).")
    int evalEvery = DEFAULTS.evalEvery();

    @Option(
            names = "--human-pairs",
            description = "Human-labelled pairs (e.g. HH-RLHF test.jsonl.gz: chosen, rejected) to report agreement "
                    + "on, as the paper's Table 5.")
    Path humanPairs;

    @Option(
            names = "--human-limit",
            defaultValue = "2000",
            description = "Use the first N human pairs. Default: ${DEFAULT-VALUE} (as the paper's script).")
    int humanLimit;

    @Override
    public Integer call() {
        TrainOptions o = common;
        PreferenceModelTrainer.Config c = DEFAULTS.withTraining(o.training())
                .withMaxLength(o.maxLength)
                .withEvalSize(evalSize)
                .withEvalEvery(evalEvery);
        c = c.withLora(o.lora());
        PreferencePairs data = PreferencePairs.read(pairs);
        Table human = humanPairs == null ? null : TrainingFiles.read(humanPairs, humanLimit);
        try (CausalLM lm = CausalLM.load(o.model)) {
            PreferenceModelTrainer.Result r = new PreferenceModelTrainer(c).train(lm, data, o.out);
            try (PreferenceModel pm = r.model()) {
                if (r.eval().rowCount() > 0) System.out.println(r.eval().print());
                if (human != null)
                    System.out.println(
                            PreferenceModelTrainer.humanAgreement(pm, human).print());
            }
        }
        System.out.println("preference model saved to " + o.out);
        return 0;
    }
}
