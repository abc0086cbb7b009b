package rlcd4j.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ToIntFunction;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Per-model output statistics the paper reports: length in tokens (mean, sd, median) and Dist-n.
 *
 * <p>Length is counted with the given token counter (e.g. {@code s -> tok.encode(s, false).length}); without one,
 * whitespace-separated words. Dist-n (Li et al. 2016) is corpus-level: distinct n-grams divided by all n-grams over all
 * of a model's outputs, on whitespace words (case kept, punctuation attached), as a fraction (the paper
 * prints it ×100).
 */
public final class OutputStats {
    private OutputStats() {}

    /** Whitespace-separated words: the default token counter. */
    public static final ToIntFunction<String> WHITESPACE = s -> words(s).size();

    public static Table of(Table outputs) {
        return of(outputs, WHITESPACE);
    }

    /** One row per model (in order of first appearance): model, n, mean_tokens, sd_tokens, median_tokens, dist_1, dist_2, dist_3. */
    public static Table of(Table outputs, ToIntFunction<String> tokenCounter) {
        Outputs.requireColumns(outputs, "outputs table");
        Map<String, List<String>> byModel = new LinkedHashMap<>();
        for (int i = 0; i < outputs.rowCount(); i++)
            byModel.computeIfAbsent(outputs.stringColumn(Outputs.MODEL).get(i), k -> new ArrayList<>())
                    .add(outputs.stringColumn(Outputs.OUTPUT).get(i));
        Table t = Table.create(
                "output stats",
                StringColumn.create("model"),
                IntColumn.create("n"),
                DoubleColumn.create("mean_tokens"),
                DoubleColumn.create("sd_tokens"),
                DoubleColumn.create("median_tokens"),
                DoubleColumn.create("dist_1"),
                DoubleColumn.create("dist_2"),
                DoubleColumn.create("dist_3"));
        for (Map.Entry<String, List<String>> e : byModel.entrySet()) {
            List<String> texts = e.getValue();
            double[] len = texts.stream().mapToDouble(tokenCounter::applyAsInt).toArray();
            t.stringColumn("model").append(e.getKey());
            t.intColumn("n").append(texts.size());
            t.doubleColumn("mean_tokens").append(WinRate.mean(len));
            t.doubleColumn("sd_tokens").append(sampleSd(len));
            t.doubleColumn("median_tokens").append(median(len));
            for (int n = 1; n <= 3; n++) t.doubleColumn("dist_" + n).append(distinct(texts, n));
        }
        return t;
    }

    /** Distinct n-grams / total n-grams over all texts (whitespace words); NaN when there is no n-gram at all. */
    public static double distinct(List<String> texts, int n) {
        Set<List<String>> seen = new HashSet<>();
        long total = 0;
        for (String s : texts) {
            List<String> w = words(s);
            for (int i = 0; i + n <= w.size(); i++) {
                seen.add(List.copyOf(w.subList(i, i + n)));
                total++;
            }
        }
        return total == 0 ? Double.NaN : seen.size() / (double) total;
    }

    static List<String> words(String s) {
        String t = s.strip();
        return t.isEmpty() ? List.of() : Arrays.asList(t.split("\\s+"));
    }

    static double sampleSd(double[] x) {
        if (x.length < 2) return Double.NaN;
        double m = WinRate.mean(x), s = 0;
        for (double v : x) s += (v - m) * (v - m);
        return Math.sqrt(s / (x.length - 1));
    }

    static double median(double[] x) {
        double[] s = x.clone();
        Arrays.sort(s);
        int k = s.length / 2;
        return s.length % 2 == 1 ? s[k] : (s[k - 1] + s[k]) / 2;
    }
}
