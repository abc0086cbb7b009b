package rlcd4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import rlcd4j.engine.CausalLM;
import rlcd4j.eval.Judge;
import rlcd4j.eval.JudgePrompt;
import rlcd4j.eval.LocalJudge;
import rlcd4j.eval.OpenAiJudge;
import rlcd4j.eval.OutputStats;
import rlcd4j.eval.Outputs;
import rlcd4j.eval.PairwiseEvaluation;
import rlcd4j.plot.Plots;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.Table;

/**
 * {@code rlcd eval --a OUTPUTS_A.jsonl --b OUTPUTS_B.jsonl --judge openai --task helpful --out DIR}: judges every
 * pair in both orders (or the paper's single random order) and writes {@code pairs.csv}, {@code summary.csv},
 * {@code output_stats.csv}, {@code win_rate.png} and the answer cache {@code judge-cache.jsonl} to DIR.
 * {@code --judge local --judge-model M} judges offline with a local causal LM ({@link LocalJudge}).
 * The API key is read from {@code OPENAI_API_KEY} only (never from the command line, where it would end up in the
 * shell history and the process list).
 */
@Command(
        name = "eval",
        mixinStandardHelpOptions = true,
        description = "Pairwise evaluation of two outputs tables with a judge (win rate with 95%% CI, "
                + "length-controlled win rate, position-bias statistics).")
public final class EvalCommand implements Callable<Integer> {
    /** Judges this command can build: an OpenAI-compatible server, or a local causal LM ({@link LocalJudge}). */
    public enum JudgeKind {
        openai,
        local
    }

    @Option(names = "--a", required = true, description = "Outputs of model A (JSONL: id, prompt, model, output).")
    Path a;

    @Option(names = "--b", required = true, description = "Outputs of model B (JSONL: id, prompt, model, output).")
    Path b;

    @Option(
            names = "--judge",
            defaultValue = "openai",
            description = "Judge: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}).")
    JudgeKind judge;

    @Option(
            names = "--task",
            description = "harmless, harmless_helpful, helpful or outline (default ${DEFAULT-VALUE}).")
    String task = LocalJudge.Config.defaults().task().key();

    @Option(names = "--model", description = "OpenAI judge: model name (default: the paper's gpt-4-0314, now retired).")
    String model;

    @Option(
            names = "--judge-model",
            description = "Local judge: model folder or Hugging Face repo id (required with --judge local).")
    String judgeModel;

    @Option(
            names = "--judge-batch",
            description = "Local judge: comparisons per forward pass (default ${DEFAULT-VALUE}).")
    int judgeBatch = LocalJudge.Config.defaults().batchSize();

    @Option(
            names = "--base-url",
            description = "OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1 (default: $OPENAI_BASE_URL, "
                    + "else https://api.openai.com/v1).")
    String baseUrl;

    @Option(
            names = "--order",
            description = "both: judge each pair in both orders, flips count as ties; random: the "
                    + "paper's one random order (default ${DEFAULT-VALUE}).")
    String order = PairwiseEvaluation.Config.defaults().order().name().toLowerCase(Locale.ROOT);

    @Option(names = "--seed", description = "Seed of the random order and the bootstrap (default ${DEFAULT-VALUE}).")
    int seed = PairwiseEvaluation.Config.defaults().seed();

    @Option(names = "--limit", description = "Judge only the first N pairs.")
    int limit = PairwiseEvaluation.Config.defaults().limit();

    @Option(names = "--resamples", description = "Bootstrap resamples (default ${DEFAULT-VALUE}).")
    int resamples = PairwiseEvaluation.Config.defaults().resamples();

    @Option(names = "--timeout", description = "Seconds to wait for one judge answer (default ${DEFAULT-VALUE}).")
    int timeoutSeconds = (int) OpenAiJudge.Config.defaults().timeout().toSeconds();

    @Option(
            names = "--cache",
            description = "Judge answer cache (default OUT/judge-cache.jsonl); reruns and resumed runs reuse it.")
    Path cache;

    @Option(
            names = "--out",
            required = true,
            description = "Directory for pairs.csv, summary.csv, output_stats.csv, win_rate.png.")
    Path out;

    @Override
    public Integer call() throws Exception {
        Table ta = Outputs.readJsonl(a), tb = Outputs.readJsonl(b);
        Files.createDirectories(out);
        Path cacheFile = cache != null ? cache : out.resolve("judge-cache.jsonl");
        JudgePrompt.Task t = JudgePrompt.Task.parse(task);
        PairwiseEvaluation.Order o = switch (order.toLowerCase()) {
            case "both" -> PairwiseEvaluation.Order.BOTH;
            case "random" -> PairwiseEvaluation.Order.RANDOM;
            default -> throw new RlcdException("--order " + order + ": expected both or random");
        };
        if (judge == JudgeKind.local) {
            if (judgeModel == null)
                throw new RlcdException("--judge local needs --judge-model (a model folder or Hugging Face repo id)");
            try (CausalLM lm = CausalLM.load(judgeModel)) {
                return evaluate(
                        ta,
                        tb,
                        o,
                        new LocalJudge(
                                lm,
                                LocalJudge.Config.defaults()
                                        .withTask(t)
                                        .withCache(cacheFile)
                                        .withBatchSize(judgeBatch)));
            }
        }
        if (judgeModel != null)
            throw new RlcdException("--judge-model is for --judge local; the OpenAI judge takes --model");
        return evaluate(
                ta,
                tb,
                o,
                OpenAiJudge.create(OpenAiJudge.Config.defaults()
                        .withTask(t)
                        .withModel(model)
                        .withBaseUrl(baseUrl)
                        .withCache(cacheFile)
                        .withTimeout(Duration.ofSeconds(timeoutSeconds))));
    }

    private int evaluate(Table ta, Table tb, PairwiseEvaluation.Order o, Judge j) throws Exception {
        PairwiseEvaluation.Config config = PairwiseEvaluation.Config.defaults()
                .withOrder(o)
                .withSeed(seed)
                .withLimit(limit)
                .withResamples(resamples);
        PairwiseEvaluation.Result r = PairwiseEvaluation.of(ta, tb, j, config).run();
        r.pairs().write().csv(out.resolve("pairs.csv").toFile());
        r.summary().write().csv(out.resolve("summary.csv").toFile());
        Table stats = OutputStats.of(ta.copy().append(tb));
        stats.write().csv(out.resolve("output_stats.csv").toFile());
        Plots.save(Plots.winRates(r.summary()), out.resolve("win_rate.png"));
        System.out.println(r.summary().print());
        System.out.println(stats.print());
        System.out.println("wrote " + out.toAbsolutePath());
        return 0;
    }
}
