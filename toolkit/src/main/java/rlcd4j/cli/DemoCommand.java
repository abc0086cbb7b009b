package rlcd4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import rlcd4j.pipeline.Demo;
import rlcd4j.pipeline.DemoSeeds;
import rlcd4j.pipeline.Headline;
import rlcd4j.sandbox.SandboxBaseModel;
import rlcd4j.sandbox.SandboxTask;

@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description =
                "The whole RLCD story on the bundled sandbox model: premise gap, RLCD and RLAIF pairs, preference models, "
                        + "PPO, DPO, context distillation, held-out decoding, win rates judged by the ground truth and a local model, HTML report. "
                        + "Stages are saved; a rerun continues where it stopped.")
public final class DemoCommand implements Callable<Integer> {
    // the demo's sizes, task, prompts and seed; the folders are the command's own
    private static final Demo.Options DEFAULTS = Demo.Options.defaults(Path.of("base-model"), Path.of("out"));

    @Option(names = "--task", description = "harmless, helpful or outline (default: ${DEFAULT-VALUE}).")
    String task = DEFAULTS.task().id();

    @Option(names = "--out", description = "Run folder (default: runs/demo-TASK).")
    Path out;

    @Option(
            names = "--model",
            paramLabel = "FOLDER|REPO_ID",
            description = "Base model: a folder or a Hugging Face repo id, e.g. HuggingFaceTB/SmolLM2-135M-Instruct "
                    + "(default: the bundled sandbox model).")
    String model;

    @Option(
            names = "--prompts",
            description =
                    "sandbox (the sandbox world, judged by its ground truth) or hh (Anthropic HH-RLHF from the Hub or its cache, "
                            + "judged by the local model judge; PMs checked against HH's human labels) (default: ${DEFAULT-VALUE}).")
    String prompts = DEFAULTS.prompts();

    @Option(
            names = "--new-tokens",
            defaultValue = "0",
            description = "New tokens per sample (default: 64; 112 for outlines).")
    int newTokens;

    @Option(names = "--sim-prompts", description = "Prompts simulated per method (default: ${DEFAULT-VALUE}).")
    int simPrompts = DEFAULTS.simPrompts();

    @Option(names = "--eval-prompts", description = "Held-out prompts decoded and judged (default: ${DEFAULT-VALUE}).")
    int evalPrompts = DEFAULTS.evalPrompts();

    @Option(names = "--ppo-steps", description = "PPO steps per policy, 32 rollouts each (default: ${DEFAULT-VALUE}).")
    int ppoSteps = DEFAULTS.ppoSteps();

    @Option(
            names = "--seed",
            description = "Seed of every draw; a CPU run repeats exactly (default: ${DEFAULT-VALUE}).")
    long seed = DEFAULTS.seed();

    @Option(
            names = "--seeds",
            paramLabel = "K",
            description = "Repeat the whole story with seeds SEED, SEED+1, ..., SEED+K-1, each in OUT/seed-N (a rerun "
                    + "continues), and report the mean, sample sd and min-max of every headline figure "
                    + "(OUT/seeds-summary.csv, OUT/report.html; default OUT: runs/demo-TASK-seeds). "
                    + "Without it: one run in OUT.")
    Integer seeds;

    @Override
    public Integer call() {
        SandboxTask t = SandboxTask.of(task);
        String base = model != null ? model : SandboxBaseModel.folder().toString();
        Path dir = out != null
                ? out
                : Path.of(
                        "runs",
                        "demo-" + t.id() + (prompts.equals("hh") ? "-hh" : "") + (seeds != null ? "-seeds" : ""));
        Demo.Options o = Demo.Options.defaults(Path.of(base), dir)
                .withTask(t)
                .withSizes(simPrompts, evalPrompts, ppoSteps)
                .withModel(base, prompts)
                .withSeed(seed);
        if (newTokens > 0) o = o.withNewTokens(newTokens);
        if (seeds != null) {
            DemoSeeds.Result r = DemoSeeds.run(o, seeds);
            System.out.println();
            System.out.println(DemoSeeds.readable(r.summary()).print());
            System.out.println("per seed: " + dir.resolve("seeds.csv").toAbsolutePath());
            System.out.println("report: " + r.report().toAbsolutePath());
            return 0;
        }
        Demo.Result r = Demo.run(o);
        System.out.println();
        if (r.premise() != null) System.out.println(r.premise().print());
        System.out.println(Headline.readable(r.headline()).print());
        System.out.println(r.pmAgreement().print());
        System.out.println(r.comparisons()
                .selectColumns("model_a", "model_b", "judge", "n", "win_rate", "ci_low", "ci_high", "ties")
                .print());
        System.out.println(r.scores().print());
        System.out.println("report: " + r.report().toAbsolutePath());
        return 0;
    }
}
