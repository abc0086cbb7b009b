package rlcd4j.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import rlcd4j.util.RlcdException;
import rlcd4j.engine.CausalLM;
import rlcd4j.train.SftTrainer;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code rlcd sft}: supervised fine-tuning (context distillation) on prompt/response pairs. */
@Command(name = "sft", mixinStandardHelpOptions = true,
        description = {"Supervised fine-tuning with the loss on response tokens only (RLCD's context distillation).",
                "Text: prompt + ' ' then response + '\\n\\nHuman:' + EOS; defaults (shown below) are the paper's."})
public final class SftCommand implements Callable<Integer> {
    private static final SftTrainer.Config DEFAULTS = SftTrainer.Config.defaults();

    @Mixin
    TrainOptions common = new TrainOptions(DEFAULTS.training(), DEFAULTS.maxLength());

    @Option(names = "--data", required = true, description = ".jsonl(.gz) or .csv with prompt and response; a pairs file (prompt, chosen, rejected) trains on chosen.")
    Path data;

    @Override
    public Integer call() {
        TrainOptions o = common;
        SftTrainer.Config c = DEFAULTS.withTraining(o.training()).withMaxLength(o.maxLength);
        c = c.withLora(o.lora());
        var table = TrainingFiles.read(data, 0);
        try (CausalLM lm = CausalLM.load(o.model)) {
            SftTrainer.Result r = new SftTrainer(c).train(lm, table, o.out);
            System.out.println(r.log().last(1).print());
            if (r.adapter() != null) r.adapter().close();
        }
        System.out.println((c.lora() == null ? "model" : "LoRA adapter") + " saved to " + o.out);
        return 0;
    }
}
