package rlcd4j.pipeline;

import java.util.function.Function;
import rlcd4j.eval.WinRate;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * The demo's headline figures, one row each, with a 95% interval: the premise gap (sandbox only), each preference
 * model's accuracy, and every win rate by the demo's main judge (the ground truth in the sandbox, the local model judge
 * with HH-RLHF prompts). Columns: {@code figure}, {@code unit} ({@code percent}: a fraction read as a percentage;
 * {@code score}: a ground-truth score difference), {@code n} (prompts or pairs it rests on), {@code value},
 * {@code ci_low}, {@code ci_high}.
 *
 * <p>Every interval is a percentile bootstrap over the prompts or pairs ({@link WinRate}: 10 000 resamples, seed 0):
 * of the per-prompt score differences for the premise gap, of the per-pair agreements for an accuracy, and the
 * comparison's own for a win rate.
 */
public final class Headline {
    private Headline() {}

    public static final String PREMISE_GAP = "premise gap";
    public static final String PERCENT = "percent", SCORE = "score";

    /** The figure name of a preference model's accuracy, e.g. {@code pm-rlcd accuracy}. */
    public static String accuracy(String preferenceModel) {
        return preferenceModel + " accuracy";
    }

    /** The figure name of a win rate, e.g. {@code ppo-rlcd vs ppo-rlaif}. */
    public static String winRate(String modelA, String modelB) {
        return modelA + " vs " + modelB;
    }

    /**
     * @param premise     the premise gap's per-prompt table ({@code score_plus}, {@code score_minus}), or null when
     *                    there is no ground truth to measure it
     * @param pmAgreement one row per preference model ({@code preference_model}, {@code pairs}, {@code accuracy})
     * @param comparisons win-rate summaries ({@code model_a}, {@code model_b}, {@code judge}, {@code n},
     *                    {@code win_rate}, {@code ci_low}, {@code ci_high})
     * @param judge       the judge whose win rates are headline figures
     */
    public static Table of(Table premise, Table pmAgreement, Table comparisons, String judge) {
        StringColumn figure = StringColumn.create("figure"), unit = StringColumn.create("unit");
        IntColumn n = IntColumn.create("n");
        DoubleColumn value = DoubleColumn.create("value"),
                low = DoubleColumn.create("ci_low"),
                high = DoubleColumn.create("ci_high");
        if (premise != null) {
            int rows = premise.rowCount();
            if (rows == 0) throw new RlcdException("premise gap: the per-prompt table has no rows");
            // The gap is a mean of differences in [-1, 1]; WinRate bootstraps means of values in [0, 1], and a
            // percentile interval maps through the affine (d + 1) / 2 exactly.
            double[] shifted = new double[rows];
            for (int i = 0; i < rows; i++) {
                double d = premise.doubleColumn("score_plus").getDouble(i)
                        - premise.doubleColumn("score_minus").getDouble(i);
                shifted[i] = (d + 1) / 2;
            }
            WinRate w = WinRate.of(shifted);
            figure.append(PREMISE_GAP);
            unit.append(SCORE);
            n.append(rows);
            value.append(2 * w.winRate() - 1);
            low.append(2 * w.ciLow() - 1);
            high.append(2 * w.ciHigh() - 1);
        }
        for (int i = 0; i < pmAgreement.rowCount(); i++) {
            int pairs = pmAgreement.intColumn("pairs").get(i);
            double acc = pmAgreement.doubleColumn("accuracy").getDouble(i);
            figure.append(accuracy(pmAgreement.stringColumn("preference_model").get(i)));
            unit.append(PERCENT);
            n.append(pairs);
            if (pairs == 0) {
                value.append(Double.NaN);
                low.append(Double.NaN);
                high.append(Double.NaN);
                continue;
            }
            // Agreement is 1 or 0 per pair, so the bootstrap of its mean depends on the counts alone.
            long agreed = Math.round(acc * pairs);
            double[] perPair = new double[pairs];
            for (int k = 0; k < agreed; k++) perPair[k] = 1;
            WinRate w = WinRate.of(perPair);
            value.append(acc);
            low.append(w.ciLow());
            high.append(w.ciHigh());
        }
        for (int i = 0; i < comparisons.rowCount(); i++) {
            if (!comparisons.stringColumn("judge").get(i).equals(judge)) continue;
            figure.append(winRate(
                    comparisons.stringColumn("model_a").get(i),
                    comparisons.stringColumn("model_b").get(i)));
            unit.append(PERCENT);
            n.append(comparisons.intColumn("n").get(i));
            value.append(comparisons.doubleColumn("win_rate").getDouble(i));
            low.append(comparisons.doubleColumn("ci_low").getDouble(i));
            high.append(comparisons.doubleColumn("ci_high").getDouble(i));
        }
        return Table.create("headline figures (95% bootstrap intervals)", figure, unit, n, value, low, high);
    }

    /** One figure for reading: {@code 67.0%} or {@code +0.042}, as its unit says. */
    public static String format(String unit, double v) {
        if (Double.isNaN(v)) return "n/a";
        return unit.equals(SCORE) ? (v >= 0 ? "+" : "") + HtmlReport.score(v) : HtmlReport.percent(v);
    }

    /** Row {@code i} of a headline table for reading: {@code 73.6% (95% CI 61.2–84.9%, n = 53)}. */
    public static String describe(Table headline, int i) {
        String u = headline.stringColumn("unit").get(i);
        double lo = headline.doubleColumn("ci_low").getDouble(i),
                hi = headline.doubleColumn("ci_high").getDouble(i);
        return format(u, headline.doubleColumn("value").getDouble(i)) + " (95% CI " + format(u, lo) + " to "
                + format(u, hi) + ", n = " + headline.intColumn("n").get(i) + ")";
    }

    /** The headline table for reading: figure, value, 95% interval, n. */
    public static Table readable(Table headline) {
        StringColumn figure = StringColumn.create("figure"),
                value = StringColumn.create("value"),
                ci = StringColumn.create("95% CI");
        for (int i = 0; i < headline.rowCount(); i++) {
            String u = headline.stringColumn("unit").get(i);
            figure.append(headline.stringColumn("figure").get(i));
            value.append(format(u, headline.doubleColumn("value").getDouble(i)));
            ci.append(format(u, headline.doubleColumn("ci_low").getDouble(i)) + " to "
                    + format(u, headline.doubleColumn("ci_high").getDouble(i)));
        }
        return Table.create(
                headline.name(), figure, value, ci, headline.intColumn("n").copy());
    }

    /** The row of {@code figure}, or -1. */
    static int row(Table headline, String figure) {
        for (int i = 0; i < headline.rowCount(); i++) {
            if (headline.stringColumn("figure").get(i).equals(figure)) return i;
        }
        return -1;
    }

    /** A lookup of figures for {@link PaperFigures#beside}: each figure of one run as {@link #describe} writes it. */
    public static Function<String, String> describer(Table headline) {
        return f -> {
            int i = row(headline, f);
            return i < 0 ? null : describe(headline, i);
        };
    }
}
