package rlcd4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import rlcd4j.eval.HumanSheet;
import rlcd4j.eval.Outputs;

/** {@code rlcd human-sheet export ...} / {@code rlcd human-sheet import ...}: the paper's 1–8 human evaluation. */
@Command(
        name = "human-sheet",
        mixinStandardHelpOptions = true,
        description = "Human evaluation sheets on the paper's 1-8 scale.",
        subcommands = {HumanSheetCommand.Export.class, HumanSheetCommand.Import.class})
public final class HumanSheetCommand implements Runnable {
    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    @Command(
            name = "export",
            mixinStandardHelpOptions = true,
            description = "Write a self-contained HTML sheet and its key (keep the key away from raters).")
    static final class Export implements Callable<Integer> {
        @Option(names = "--a", required = true)
        Path a;

        @Option(names = "--b", required = true)
        Path b;

        @Option(names = "--html", required = true)
        Path html;

        @Option(names = "--key", required = true)
        Path key;

        @Option(names = "--question")
        String question = HumanSheet.Config.defaults().question();

        @Option(names = "--title", defaultValue = "Pairwise comparison")
        String title;

        @Option(names = "--sample", description = "Rate a random subset of N pairs (the paper: 200).")
        int sample = HumanSheet.Config.defaults().sample();

        @Option(names = "--seed")
        long seed = HumanSheet.Config.defaults().seed();

        @Override
        public Integer call() {
            HumanSheet.Config config = HumanSheet.Config.defaults()
                    .withTitle(title)
                    .withQuestion(question)
                    .withSample(sample)
                    .withSeed(seed);
            String id = HumanSheet.of(Outputs.readJsonl(a), Outputs.readJsonl(b), config)
                    .write(html, key);
            System.out.println("sheet " + id + ": " + html + " (for raters), key " + key + " (keep apart)");
            return 0;
        }
    }

    @Command(
            name = "import",
            mixinStandardHelpOptions = true,
            description = "Score a rater's downloaded answers with the key.")
    static final class Import implements Callable<Integer> {
        @Option(names = "--answers", required = true)
        Path answers;

        @Option(names = "--key", required = true)
        Path key;

        @Option(names = "--out", description = "CSV file for the summary row.")
        Path out;

        @Override
        public Integer call() {
            HumanSheet.Result r = HumanSheet.importScores(answers, key);
            System.out.println(r.summary().print());
            if (out != null) r.summary().write().csv(out.toFile());
            return 0;
        }
    }
}
