package rlcd4j.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.ToIntFunction;
import rlcd4j.progress.Progress;
import rlcd4j.util.PythonRandom;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.BooleanColumn;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Pairwise comparison of two models' outputs on the same prompts by a {@link Judge}.
 *
 * <pre>{@code
 * var result = PairwiseEvaluation.of(outputsA, outputsB, judge).run();
 * var paper = PairwiseEvaluation.of(outputsA, outputsB, judge, Config.defaults().withOrder(Order.RANDOM)).run();
 * result.summary();   // win rate of A with 95% CI, length-controlled win rate, flip rate, first-position rate
 * result.pairs();     // one row per prompt
 * }</pre>
 *
 * <p>Order protocols:
 * <ul>
 *   <li>{@link Order#BOTH} (default): every pair is judged with A shown first and with B shown first. Each order gives A
 *       a score (1, 0, or 0.5 when undecided) and the pair's score is their mean, so a verdict that flips with the order
 *       counts as a tie (0.5), as does a double tie; agreement gives 1 or 0; one decided order and one undecided give
 *       0.75 or 0.25. {@code flip_rate} is the share of pairs decided in both orders whose two verdicts disagree
 *       (the judge's inconsistency when it does decide; how often it does not is {@code undecided_rate}).</li>
 *   <li>{@link Order#RANDOM}: the paper's protocol, one judgement per pair in a random order: Python's
 *       {@code random.seed(seed)} then {@code random.random() < 0.5} per pair in the row order of table A puts A first,
 *       reproducing {@code gpt4_compare.py}'s orders exactly with seed 0.</li>
 * </ul>
 * {@code first_position_rate} is the share of decided judgements won by whichever response was shown first (0.5 for
 * an unbiased judge). {@code failed_judgements} counts judgements that got no usable answer ({@link Verdict#failed}:
 * e.g. cut off at the judge server's length limit); they score as undecided, and column {@code problem} of the pairs
 * table says what happened.
 */
public final class PairwiseEvaluation {
    /** How each pair is shown to the judge. */
    public enum Order {
        BOTH,
        RANDOM
    }

    /**
     * Settings of a {@link PairwiseEvaluation}; {@link #defaults()} are the paper's with both orders.
     *
     * @param order     how each pair is shown to the judge ({@link Order#BOTH})
     * @param seed      seed of the random order (paper: 0) and of the bootstrap (0)
     * @param limit     only the first n pairs, in the row order of A ({@link Integer#MAX_VALUE}: all)
     * @param resamples bootstrap resamples ({@link WinRate#RESAMPLES})
     * @param tokens    token counter for the lengths used by the length-controlled win rate (whitespace words)
     */
    public record Config(Order order, int seed, int limit, int resamples, ToIntFunction<String> tokens) {
        public Config {
            Objects.requireNonNull(order, "order");
            Objects.requireNonNull(tokens, "tokens");
            if (seed < 0) throw new RlcdException("seed: " + seed + "; expected 0 or more");
        }

        public static Config defaults() {
            return new Config(Order.BOTH, 0, Integer.MAX_VALUE, WinRate.RESAMPLES, OutputStats.WHITESPACE);
        }

        public Config withOrder(Order v) {
            return new Config(v, seed, limit, resamples, tokens);
        }

        public Config withSeed(int v) {
            return new Config(order, v, limit, resamples, tokens);
        }

        public Config withLimit(int v) {
            return new Config(order, seed, v, resamples, tokens);
        }

        public Config withResamples(int v) {
            return new Config(order, seed, limit, v, tokens);
        }

        public Config withTokens(ToIntFunction<String> v) {
            return new Config(order, seed, limit, resamples, v);
        }
    }

    private final Table a, b;
    private final Judge judge;
    private final Order order;
    private final int seed;
    private final int limit;
    private final int resamples;
    private final ToIntFunction<String> tokens;

    private PairwiseEvaluation(Table a, Table b, Judge judge, Config config) {
        Outputs.requireColumns(a, "outputs A");
        Outputs.requireColumns(b, "outputs B");
        if (judge == null) throw new RlcdException("pairwise evaluation: no judge given");
        this.a = a;
        this.b = b;
        this.judge = judge;
        this.order = config.order();
        this.seed = config.seed();
        this.limit = config.limit();
        this.resamples = config.resamples();
        this.tokens = config.tokens();
    }

    /**
     * Compares outputs table A with outputs table B (columns id, prompt, model, output; joined on id) by
     * {@code judge}, with the default settings.
     */
    public static PairwiseEvaluation of(Table outputsA, Table outputsB, Judge judge) {
        return of(outputsA, outputsB, judge, Config.defaults());
    }

    /** Compares outputs table A with outputs table B by {@code judge}, with {@code config}'s settings. */
    public static PairwiseEvaluation of(Table outputsA, Table outputsB, Judge judge, Config config) {
        return new PairwiseEvaluation(outputsA, outputsB, judge, Objects.requireNonNull(config, "config"));
    }

    /** The per-pair verdicts and the one-row summary. */
    public record Result(Table pairs, Table summary) {}

    public Result run() {
        String modelA = singleModel(a, "A"), modelB = singleModel(b, "B");
        Map<String, Integer> rowOfB = new HashMap<>();
        for (int i = 0; i < b.rowCount(); i++)
            if (rowOfB.put(b.stringColumn(Outputs.ID).get(i), i) != null)
                throw new RlcdException("outputs B '" + b.name() + "': id '"
                        + b.stringColumn(Outputs.ID).get(i) + "' appears twice");
        Set<String> idsA = new LinkedHashSet<>();
        List<String> missing = new ArrayList<>();
        for (int i = 0; i < a.rowCount(); i++) {
            String id = a.stringColumn(Outputs.ID).get(i);
            if (!idsA.add(id)) throw new RlcdException("outputs A '" + a.name() + "': id '" + id + "' appears twice");
            if (!rowOfB.containsKey(id)) missing.add(id);
        }
        if (!missing.isEmpty() || idsA.size() != rowOfB.size())
            throw new RlcdException(
                    "outputs A and B must cover the same ids; in A only: " + first(missing) + ", in B only: "
                            + first(rowOfB.keySet().stream()
                                    .filter(id -> !idsA.contains(id))
                                    .toList()));

        int n = Math.min(limit, a.rowCount());
        Table pairs = Table.create(
                "pairs " + modelA + " vs " + modelB,
                StringColumn.create("id"),
                StringColumn.create("prompt"),
                StringColumn.create("output_a"),
                StringColumn.create("output_b"),
                StringColumn.create("answer_a_first"),
                StringColumn.create("answer_b_first"),
                DoubleColumn.create("score_a_first"),
                DoubleColumn.create("score_b_first"),
                BooleanColumn.create("flipped"),
                DoubleColumn.create("score"),
                IntColumn.create("len_a"),
                IntColumn.create("len_b"),
                StringColumn.create("problem"));
        // Plan every row first (orders drawn in row order, as the paper's script does; prompts checked before any
        // judge call), then judge in batches of the judge's size.
        PythonRandom rng = new PythonRandom(seed);
        int[] rowB = new int[n];
        boolean[] aFirst = new boolean[n], bFirst = new boolean[n];
        for (int i = 0; i < n; i++) {
            String id = a.stringColumn(Outputs.ID).get(i);
            rowB[i] = rowOfB.get(id);
            if (!a.stringColumn(Outputs.PROMPT)
                    .get(i)
                    .equals(b.stringColumn(Outputs.PROMPT).get(rowB[i])))
                throw new RlcdException(
                        "id '" + id + "': the prompts of A and B differ; expected the same prompt for both models");
            aFirst[i] = order == Order.BOTH || rng.random() < 0.5;
            bFirst[i] = order == Order.BOTH || !aFirst[i];
        }
        int judgements = 0, firstWins = 0, decided = 0, undecided = 0, flips = 0, decidedBoth = 0, failed = 0;
        long calls = order == Order.BOTH ? 2L * n : n;
        int rowsPerBatch = Math.max(1, judge.batchSize() / (order == Order.BOTH ? 2 : 1));
        try (Progress p = Progress.start("judge " + judge.name(), calls)) {
            for (int from = 0; from < n; from += rowsPerBatch) {
                int to = Math.min(n, from + rowsPerBatch);
                List<Judge.Comparison> batch = new ArrayList<>();
                for (int i = from; i < to; i++) {
                    String prompt = a.stringColumn(Outputs.PROMPT).get(i);
                    String outA = a.stringColumn(Outputs.OUTPUT).get(i),
                            outB = b.stringColumn(Outputs.OUTPUT).get(rowB[i]);
                    if (aFirst[i]) batch.add(new Judge.Comparison(prompt, outA, outB));
                    if (bFirst[i]) batch.add(new Judge.Comparison(prompt, outB, outA));
                }
                List<Verdict> verdicts = judge.judgeAll(batch);
                if (verdicts.size() != batch.size())
                    throw new IllegalStateException(judge.name() + " returned " + verdicts.size() + " verdicts for "
                            + batch.size() + " comparisons");
                p.advance(batch.size());
                int next = 0;
                for (int i = from; i < to; i++) {
                    String id = a.stringColumn(Outputs.ID).get(i);
                    String outA = a.stringColumn(Outputs.OUTPUT).get(i),
                            outB = b.stringColumn(Outputs.OUTPUT).get(rowB[i]);
                    Verdict ab = aFirst[i] ? verdicts.get(next++) : null;
                    Verdict ba = bFirst[i] ? verdicts.get(next++) : null;
                    double sAB = ab == null ? Double.NaN : ab.scoreFirst(); // A's score when A is (A)
                    double sBA = ba == null ? Double.NaN : 1 - ba.scoreFirst(); // A's score when A is (B)
                    for (Verdict v : new Verdict[] {ab, ba}) {
                        if (v == null) continue;
                        judgements++;
                        if (v.failed()) failed++;
                        if (v.answer() == null) undecided++;
                        else {
                            decided++;
                            if (v.answer().equals("A")) firstWins++;
                        }
                    }
                    boolean bothDecided = ab != null && ba != null && ab.answer() != null && ba.answer() != null;
                    if (bothDecided) decidedBoth++;
                    boolean flipped = bothDecided && sAB != sBA;
                    if (flipped) flips++;
                    double score = order == Order.BOTH ? (sAB + sBA) / 2 : aFirst[i] ? sAB : sBA;
                    pairs.stringColumn("id").append(id);
                    pairs.stringColumn("prompt")
                            .append(a.stringColumn(Outputs.PROMPT).get(i));
                    pairs.stringColumn("output_a").append(outA);
                    pairs.stringColumn("output_b").append(outB);
                    pairs.stringColumn("answer_a_first").append(ab == null ? null : answerOrQuestion(ab));
                    pairs.stringColumn("answer_b_first").append(ba == null ? null : answerOrQuestion(ba));
                    pairs.doubleColumn("score_a_first").append(sAB);
                    pairs.doubleColumn("score_b_first").append(sBA);
                    pairs.booleanColumn("flipped").append(flipped);
                    pairs.doubleColumn("score").append(score);
                    pairs.intColumn("len_a").append(tokens.applyAsInt(outA));
                    pairs.intColumn("len_b").append(tokens.applyAsInt(outB));
                    pairs.stringColumn("problem").append(problem(ab, ba));
                }
                p.status(String.format("A %.3f", pairs.doubleColumn("score").mean())
                        + (failed > 0 ? ", " + failed + " failed" : ""));
            }
        }
        double[] scores = pairs.doubleColumn("score").asDoubleArray();
        Table summary = WinRate.summary(
                modelA,
                modelB,
                scores,
                toDouble(pairs.intColumn("len_a")),
                toDouble(pairs.intColumn("len_b")),
                resamples,
                seed);
        summary.addColumns(
                StringColumn.create("judge", judge.name()),
                StringColumn.create("order", order.name().toLowerCase()),
                DoubleColumn.create(
                        "flip_rate",
                        order == Order.BOTH && decidedBoth > 0 ? flips / (double) decidedBoth : Double.NaN),
                DoubleColumn.create("first_position_rate", decided == 0 ? Double.NaN : firstWins / (double) decided),
                DoubleColumn.create("undecided_rate", undecided / (double) judgements),
                IntColumn.create("failed_judgements", new int[] {failed}));
        summary.setName("win rate " + modelA + " vs " + modelB);
        return new Result(pairs, summary);
    }

    /** Why a pair's judgements got no usable answer, "" when both did. */
    private static String problem(Verdict aFirst, Verdict bFirst) {
        List<String> problems = new ArrayList<>();
        if (aFirst != null && aFirst.failed()) problems.add("A first: " + aFirst.problem());
        if (bFirst != null && bFirst.failed()) problems.add("B first: " + bFirst.problem());
        return String.join("; ", problems);
    }

    private static String answerOrQuestion(Verdict v) {
        return v.answer() == null ? "?" : v.answer();
    }

    private static double[] toDouble(IntColumn c) {
        return c.asDoubleArray();
    }

    private static String singleModel(Table t, String side) {
        Set<String> models = new LinkedHashSet<>(t.stringColumn(Outputs.MODEL).asList());
        if (models.size() != 1)
            throw new RlcdException("outputs " + side + " '" + t.name()
                    + "': expected exactly one model in column 'model', found " + models);
        return models.iterator().next();
    }

    private static String first(List<String> ids) {
        return ids.size() <= 5 ? ids.toString() : ids.subList(0, 5) + " and " + (ids.size() - 5) + " more";
    }
}
