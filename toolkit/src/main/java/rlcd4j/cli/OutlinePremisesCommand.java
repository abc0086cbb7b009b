package rlcd4j.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import rlcd4j.data.OutlinePremises;

/** {@code rlcd outline-premises}: regenerates the bundled story premises (datasets/outline/premises.jsonl). */
@Command(
        name = "outline-premises",
        mixinStandardHelpOptions = true,
        description = "Generate story premises for the outline task (the defaults rewrite the bundled file).")
public final class OutlinePremisesCommand implements Callable<Integer> {
    @Option(
            names = "--out",
            defaultValue = "datasets/outline/premises.jsonl",
            description = "JSONL file to write (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--n", description = "Number of premises (default: the bundled file's).")
    int n = OutlinePremises.BUNDLED_SIZE;

    @Option(names = "--seed", description = "Seed of the draws (default: the bundled file's).")
    long seed = OutlinePremises.BUNDLED_SEED;

    @Override
    public Integer call() {
        List<String> premises = OutlinePremises.generate(n, seed);
        OutlinePremises.write(out, premises);
        System.out.println(
                "wrote " + premises.size() + " premises to " + out + " (seed " + seed + "); words per premise: "
                        + premises.stream().collect(Collectors.summarizingInt(p -> p.split("\\s+").length)));
        return 0;
    }
}
