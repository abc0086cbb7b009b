package rlcd4j.pipeline;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.CategoryChart;
import rlcd4j.hub.HfHub;
import rlcd4j.plot.Plots;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * {@code rlcd demo --seeds K}: the whole demo story K times, with seeds {@code seed, seed + 1, ..., seed + K - 1}
 * (every stage of run i takes seed + i: the prompts drawn, simulation, training, decoding), each in its own run folder
 * {@code <out>/seed-N}, so a stopped multi-seed run continues where it stopped. Then the mean and spread of every
 * headline figure ({@link Headline}) over the seeds: the sample standard deviation (divisor K - 1; empty for K = 1) and
 * the smallest and largest value. In the sandbox the prompts are drawn anew for each seed, so the spread holds the
 * prompt sample's variation as well as the training's; HH-RLHF prompts are the same rows for every seed.
 *
 * <p>Writes {@code seeds.csv} (every figure of every seed, with its own interval), {@code seeds-summary.csv} (the mean
 * and spread) and {@code report.html} (the spread first, then the paper's figures beside the means, then the per-seed
 * table) into {@code <out>}.
 */
public final class DemoSeeds {
    private DemoSeeds() {}

    /** The runs (in seed order), every figure of every seed, its mean and spread, and the report. */
    public record Result(List<Demo.Result> runs, Table perSeed, Table summary, Path report) {}

    public static Result run(Demo.Options o, int seeds) {
        return run(o, seeds, HfHub.fromEnvironment());
    }

    public static Result run(Demo.Options o, int seeds, HfHub hub) {
        if (seeds < 1) throw new RlcdException("--seeds " + seeds + ": expected at least 1");
        RunFolder.at(o.out());
        List<Demo.Result> runs = new ArrayList<>();
        List<Long> seedList = new ArrayList<>();
        for (int i = 0; i < seeds; i++) {
            long seed = o.seed() + i;
            seedList.add(seed);
            runs.add(Demo.run(o.withSeed(seed).withOut(o.out().resolve("seed-" + seed)), hub));
        }
        Table perSeed =
                perSeed(seedList, runs.stream().map(Demo.Result::headline).toList());
        Table summary = summary(perSeed);
        writeCsv(perSeed, o.out().resolve("seeds.csv"));
        writeCsv(summary, o.out().resolve("seeds-summary.csv"));
        String judge = Demo.mainJudge(o, runs.get(0).comparisons());
        Path report = report(o, seedList, judge, perSeed, summary);
        return new Result(runs, perSeed, summary, report);
    }

    /** Every headline figure of every seed: {@code seed} and the headline table's columns. */
    static Table perSeed(List<Long> seeds, List<Table> headlines) {
        Table out = null;
        for (int i = 0; i < seeds.size(); i++) {
            Table h = headlines.get(i).copy();
            h.insertColumn(0, LongColumn.create("seed", h.rowCount()).setMissingTo(seeds.get(i)));
            if (out == null) out = h;
            else out.append(h);
        }
        out.setName("headline figures of each seed (95% bootstrap intervals within the seed)");
        return out;
    }

    /**
     * The mean and spread of each figure over the seeds, in the order figures first appear: {@code figure},
     * {@code unit}, {@code seeds} (how many had a value), {@code mean}, {@code sd} (sample, divisor seeds - 1),
     * {@code min}, {@code max}.
     */
    static Table summary(Table perSeed) {
        Map<String, List<Double>> values = new LinkedHashMap<>();
        Map<String, String> units = new LinkedHashMap<>();
        for (int i = 0; i < perSeed.rowCount(); i++) {
            String f = perSeed.stringColumn("figure").get(i);
            units.putIfAbsent(f, perSeed.stringColumn("unit").get(i));
            List<Double> v = values.computeIfAbsent(f, k -> new ArrayList<>());
            double x = perSeed.doubleColumn("value").getDouble(i);
            if (!Double.isNaN(x)) v.add(x);
        }
        StringColumn figure = StringColumn.create("figure"), unit = StringColumn.create("unit");
        IntColumn count = IntColumn.create("seeds");
        DoubleColumn mean = DoubleColumn.create("mean"),
                sd = DoubleColumn.create("sd"),
                min = DoubleColumn.create("min"),
                max = DoubleColumn.create("max");
        values.forEach((f, v) -> {
            figure.append(f);
            unit.append(units.get(f));
            count.append(v.size());
            double m = v.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
            double ss = 0;
            for (double x : v) ss += (x - m) * (x - m);
            mean.append(m);
            sd.append(v.size() < 2 ? Double.NaN : Math.sqrt(ss / (v.size() - 1)));
            min.append(v.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN));
            max.append(v.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN));
        });
        return Table.create(
                "headline figures over seeds (mean, sample sd, min-max)", figure, unit, count, mean, sd, min, max);
    }

    /** The summary for reading, each number rounded as its unit says. */
    public static Table readable(Table summary) {
        StringColumn figure = StringColumn.create("figure"),
                mean = StringColumn.create("mean"),
                sd = StringColumn.create("sd"),
                range = StringColumn.create("min to max");
        for (int i = 0; i < summary.rowCount(); i++) {
            String u = summary.stringColumn("unit").get(i);
            figure.append(summary.stringColumn("figure").get(i));
            mean.append(Headline.format(u, summary.doubleColumn("mean").getDouble(i)));
            double s = summary.doubleColumn("sd").getDouble(i);
            // a spread is a size, not a signed figure: no "+", and percentage points for percentages
            sd.append(
                    Double.isNaN(s)
                            ? "n/a"
                            : u.equals(Headline.SCORE)
                                    ? HtmlReport.score(s)
                                    : HtmlReport.percent(s).replace("%", " pts"));
            range.append(Headline.format(u, summary.doubleColumn("min").getDouble(i)) + " to "
                    + Headline.format(u, summary.doubleColumn("max").getDouble(i)));
        }
        return Table.create(
                summary.name(),
                figure,
                mean,
                sd,
                range,
                summary.intColumn("seeds").copy());
    }

    private static String describe(Table summary, int i) {
        Table r = readable(summary.rows(i));
        return "mean " + r.stringColumn("mean").get(0) + " (sd "
                + r.stringColumn("sd").get(0) + ", "
                + r.stringColumn("min to max").get(0) + " over "
                + summary.intColumn("seeds").get(i) + " seeds)";
    }

    private static Path report(Demo.Options o, List<Long> seeds, String judge, Table perSeed, Table summary) {
        HtmlReport r = new HtmlReport("rlcd4j demo: " + o.task().id()
                + (o.sandbox() ? " in the sandbox" : " on HH-RLHF") + ", " + seeds.size() + " seeds");
        r.heading(Demo.HEADLINE);
        r.paragraph("The whole demo ran once per seed (" + seeds.get(0) + " to " + seeds.get(seeds.size() - 1)
                + "), every stage with that seed, each in its own folder (seed-N, with its own report). Below: the "
                + "mean of each headline figure over the seeds and its spread, as the sample standard deviation "
                + "(divisor seeds - 1) and the smallest and largest value. Each seed's own 95% intervals are in the "
                + "raw table.");
        r.table(readable(summary), 50, 80);
        Table rates = winRates(summary);
        if (rates.rowCount() > 0) {
            CategoryChart chart = Plots.winRates(rates);
            chart.setTitle(
                    "Mean win rate of A over B (" + judge + "), whiskers: min to max over " + seeds.size() + " seeds");
            r.chart(chart);
        }
        r.heading(Demo.BESIDE_THE_PAPER);
        r.paragraph("The paper's figures (from the project's reference notes, source column) beside this demo's means "
                + "over seeds. The scales differ: compare directions and rough sizes, not the numbers themselves.");
        r.table(
                PaperFigures.beside(o.task(), judge, f -> {
                    for (int i = 0; i < summary.rowCount(); i++) {
                        if (summary.stringColumn("figure").get(i).equals(f)) return describe(summary, i);
                    }
                    return null;
                }),
                20,
                300);
        r.heading(Demo.RAW_TABLES);
        StringColumn seed = StringColumn.create("seed");
        for (long s : perSeed.longColumn("seed")) seed.append(Long.toString(s));
        Table shown = Headline.readable(perSeed);
        shown.insertColumn(0, seed);
        shown.setName(perSeed.name());
        r.table(shown, 500, 80);
        return r.write(o.out().resolve("report.html"));
    }

    /** The win-rate figures as {@link Plots#winRates} reads them: mean as the bar, min and max as the whisker. */
    private static Table winRates(Table summary) {
        StringColumn a = StringColumn.create("model_a"), b = StringColumn.create("model_b");
        DoubleColumn rate = DoubleColumn.create("win_rate"),
                low = DoubleColumn.create("ci_low"),
                high = DoubleColumn.create("ci_high");
        for (int i = 0; i < summary.rowCount(); i++) {
            String f = summary.stringColumn("figure").get(i);
            int vs = f.indexOf(" vs ");
            if (vs < 0 || Double.isNaN(summary.doubleColumn("mean").getDouble(i))) continue;
            a.append(f.substring(0, vs));
            b.append(f.substring(vs + 4));
            rate.append(summary.doubleColumn("mean").getDouble(i));
            low.append(summary.doubleColumn("min").getDouble(i));
            high.append(summary.doubleColumn("max").getDouble(i));
        }
        return Table.create("win rates over seeds", a, b, rate, low, high);
    }

    private static void writeCsv(Table t, Path file) {
        try {
            t.write().csv(file.toFile());
        } catch (Exception e) {
            throw new RlcdException(file + ": cannot write: " + e.getMessage(), e);
        }
    }
}
