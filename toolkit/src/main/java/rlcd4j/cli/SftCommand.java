package rlcd4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import rlcd4j.data.PreferencePairs;
import rlcd4j.engine.CausalLM;
import rlcd4j.train.SftTrainer;

/** {@code rlcd sft}: supervised fine-tuning (context distillation) on prompt/response pairs. */
@Command(
        name = "sft",
        mixinStandardHelpOptions = true,
        description = {
            "Supervised fine-tuning with the loss on response tokens only (RLCD's context distillation).",
            "Text: prompt + ' ' then response + '\\n\\nHuman:' + EOS; defaults (shown below) are the paper's."
        })
public final class SftCommand implements Callable<Integer> {
    private static final SftTrainer.Config DEFAULTS = SftTrainer.Config.defaults();

    @Mixin
    TrainOptions common = new TrainOptions(DEFAULTS.training(), DEFAULTS.maxLength());

    @Option(
            names = "--data",
            required = true,
            description =
                    ".jsonl(.gz) or .csv with prompt and response; "
                            + "a pairs file (prompt, chosen, rejected, or rlcd simulate's output: its ok rows) trains on chosen.")
    Path data;

    @Override
    public Integer call() {
        TrainOptions o = common;
        SftTrainer.Config c = DEFAULTS.withTraining(o.training()).withMaxLength(o.maxLength);
        c = c.withLora(o.lora());
        // The simulator's output trains on the chosen side of its ok rows (context distillation).
        PreferencePairs pairs = PreferencePairs.isPairsJsonl(data) ? PreferencePairs.read(data) : null;
        var table = pairs == null ? TrainingFiles.read(data, 0) : null;
        try (CausalLM lm = CausalLM.load(o.model)) {
            SftTrainer.Result r = pairs != null
                    ? new SftTrainer(c).train(lm, pairs, o.out)
                    : new SftTrainer(c).train(lm, table, o.out);
            System.out.println(r.log().last(1).print());
            if (r.adapter() != null) r.adapter().close();
        }
        System.out.println((c.lora() == null ? "model" : "LoRA adapter") + " saved to " + o.out);
        return 0;
    }
}
