package rlcd4j.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import rlcd4j.data.PreferencePairs;
import rlcd4j.engine.CausalLM;
import rlcd4j.train.DpoTrainer;
import rlcd4j.util.RlcdException;

/** {@code rlcd dpo}: direct preference optimisation (or IPO) on preference pairs. */
@Command(
        name = "dpo",
        mixinStandardHelpOptions = true,
        description = {
            "Direct preference optimisation on pairs; the reference is the starting model (with LoRA: the base with the adapter off).",
            "Defaults (shown below) follow AlpacaFarm's dpo.sh."
        })
public final class DpoCommand implements Callable<Integer> {
    private static final DpoTrainer.Config DEFAULTS = DpoTrainer.Config.defaults();

    @Mixin
    TrainOptions common = new TrainOptions(DEFAULTS.training(), DEFAULTS.maxLength());

    @Option(
            names = "--pairs",
            required = true,
            description = "rlcd simulate's output (only its ok rows train), "
                    + ".jsonl(.gz) or .csv with prompt, chosen, rejected, or AlpacaFarm's .csv.")
    Path pairs;

    @Option(names = "--beta", description = "Strength of the implicit KL penalty (default: ${DEFAULT-VALUE}).")
    double beta = DEFAULTS.beta();

    @Option(names = "--loss", description = "dpo or ipo (default: ${DEFAULT-VALUE}).")
    String loss = DEFAULTS.loss().name().toLowerCase(Locale.ROOT);

    @Override
    public Integer call() {
        TrainOptions o = common;
        DpoTrainer.Config c =
                DEFAULTS.withTraining(o.training()).withMaxLength(o.maxLength).withBeta(beta);
        c = c.withLoss(
                switch (loss.toLowerCase()) {
                    case "dpo", "sigmoid" -> DpoTrainer.Loss.DPO;
                    case "ipo" -> DpoTrainer.Loss.IPO;
                    default -> throw new RlcdException("--loss " + loss + ": expected dpo or ipo");
                });
        c = c.withLora(o.lora());
        PreferencePairs data = PreferencePairs.read(pairs);
        try (CausalLM lm = CausalLM.load(o.model)) {
            DpoTrainer.Result r = new DpoTrainer(c).train(lm, data, o.out);
            System.out.println(r.log().last(1).print());
            if (r.adapter() != null) r.adapter().close();
        }
        System.out.println((c.lora() == null ? "model" : "LoRA adapter") + " saved to " + o.out);
        return 0;
    }
}
