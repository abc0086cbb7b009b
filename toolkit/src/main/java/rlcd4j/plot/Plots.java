package rlcd4j.plot;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToIntFunction;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.BoxChart;
import org.knowm.xchart.BoxChartBuilder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.markers.SeriesMarkers;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.NumericColumn;
import tech.tablesaw.api.Table;

/**
 * XChart plots of evaluation and training results. Each method returns the chart, so a notebook shows it and
 * {@link #save} writes it as PNG or SVG.
 */
public final class Plots {
    private Plots() {}

    /**
     * Win rate of A per comparison with its 95% interval, from one or more summary tables (columns {@code model_a},
     * {@code model_b}, {@code win_rate}, {@code ci_low}, {@code ci_high}), as percentages. Bars are the
     * win rates; the whisker on each bar spans exactly [ci_low, ci_high] (drawn as the symmetric error bar of an
     * invisible point at the interval's midpoint, since XChart error bars are symmetric and bootstrap intervals need not be).
     */
    public static CategoryChart winRates(Table... summaries) {
        List<String> labels = new ArrayList<>();
        List<Double> rate = new ArrayList<>(), mid = new ArrayList<>(), half = new ArrayList<>();
        for (Table t : summaries) {
            requireColumns(t, "model_a", "model_b", "win_rate", "ci_low", "ci_high");
            for (int i = 0; i < t.rowCount(); i++) {
                String label = t.stringColumn("model_a").get(i) + " vs "
                        + t.stringColumn("model_b").get(i);
                if (t.containsColumn("judge"))
                    label += " (" + t.stringColumn("judge").get(i) + ")";
                labels.add(label);
                double lo = 100 * t.doubleColumn("ci_low").get(i),
                        hi = 100 * t.doubleColumn("ci_high").get(i);
                rate.add(100 * t.doubleColumn("win_rate").get(i));
                mid.add((lo + hi) / 2);
                half.add((hi - lo) / 2);
            }
        }
        if (labels.isEmpty()) throw new RlcdException("win-rate plot: the summary tables have no rows");
        CategoryChart c = new CategoryChartBuilder()
                .width(Math.max(500, 160 * labels.size()))
                .height(420)
                .title("Win rate of A over B (95% CI)")
                .xAxisTitle("comparison")
                .yAxisTitle("win rate of A (%)")
                .build();
        c.getStyler().setOverlapped(true);
        c.getStyler().setYAxisMin(0.0);
        c.getStyler().setYAxisMax(100.0);
        c.getStyler().setLegendVisible(false);
        c.getStyler().setErrorBarsColor(Color.BLACK);
        c.addSeries("win rate", labels, rate);
        CategorySeries ci = c.addSeries("95% CI", labels, mid, half);
        ci.setChartCategorySeriesRenderStyle(CategorySeries.CategorySeriesRenderStyle.Scatter);
        ci.setMarker(SeriesMarkers.NONE);
        return c;
    }

    /** Box plot of output length (whitespace words) per model from an outputs table (columns {@code model}, {@code output}). */
    public static BoxChart lengths(Table outputs) {
        return lengths(outputs, s -> s.isBlank() ? 0 : s.strip().split("\\s+").length);
    }

    /** Box plot of output length per model with the given token counter. */
    public static BoxChart lengths(Table outputs, ToIntFunction<String> tokens) {
        requireColumns(outputs, "model", "output");
        Map<String, List<Integer>> byModel = new LinkedHashMap<>();
        for (int i = 0; i < outputs.rowCount(); i++)
            byModel.computeIfAbsent(outputs.stringColumn("model").get(i), k -> new ArrayList<>())
                    .add(tokens.applyAsInt(outputs.stringColumn("output").get(i)));
        BoxChart c = new BoxChartBuilder()
                .width(Math.max(500, 140 * byModel.size()))
                .height(420)
                .title("Output length by model")
                .xAxisTitle("model")
                .yAxisTitle("tokens")
                .build();
        byModel.forEach(c::addSeries);
        return c;
    }

    /** Overlaid histograms of output length per model ({@code bins} equal-width bins over the common range). */
    public static CategoryChart lengthHistogram(Table outputs, ToIntFunction<String> tokens, int bins) {
        requireColumns(outputs, "model", "output");
        Map<String, List<Integer>> byModel = new LinkedHashMap<>();
        int max = 0;
        for (int i = 0; i < outputs.rowCount(); i++) {
            int n = tokens.applyAsInt(outputs.stringColumn("output").get(i));
            max = Math.max(max, n);
            byModel.computeIfAbsent(outputs.stringColumn("model").get(i), k -> new ArrayList<>())
                    .add(n);
        }
        double width = Math.max(1, Math.ceil((max + 1) / (double) bins));
        List<String> labels = new ArrayList<>();
        for (int b = 0; b < bins; b++) labels.add((int) (b * width) + "-" + (int) ((b + 1) * width - 1));
        CategoryChart c = new CategoryChartBuilder()
                .width(800)
                .height(420)
                .title("Output length distribution")
                .xAxisTitle("tokens")
                .yAxisTitle("outputs")
                .build();
        c.getStyler().setOverlapped(true);
        c.getStyler().setXAxisLabelRotation(45);
        byModel.forEach((model, lens) -> {
            List<Integer> counts = new ArrayList<>();
            for (int b = 0; b < bins; b++) counts.add(0);
            for (int n : lens) {
                int b = Math.min(bins - 1, (int) (n / width));
                counts.set(b, counts.get(b) + 1);
            }
            c.addSeries(model, labels, counts);
        });
        return c;
    }

    /**
     * Training curves from a trainer's log table: x = the {@code step} column, one line per named numeric column
     * (e.g. {@code "reward"}, {@code "kl"}, {@code "loss"}). Missing values are skipped. Columns on very different
     * scales read better as separate charts: call once per column.
     */
    public static XYChart trainingCurves(Table log, String... columns) {
        if (columns.length == 0)
            throw new RlcdException(
                    "training curves: name at least one column to plot; the log has " + log.columnNames());
        requireColumns(log, "step");
        XYChart c = new XYChartBuilder()
                .width(700)
                .height(420)
                .title(log.name() == null || log.name().isBlank() ? "Training" : log.name())
                .xAxisTitle("step")
                .yAxisTitle(columns.length == 1 ? columns[0] : "value")
                .build();
        c.getStyler().setLegendVisible(columns.length > 1);
        NumericColumn<?> step = numeric(log, "step");
        for (String col : columns) {
            NumericColumn<?> y = numeric(log, col);
            List<Double> xs = new ArrayList<>(), ys = new ArrayList<>();
            for (int i = 0; i < log.rowCount(); i++) {
                if (step.isMissing(i) || y.isMissing(i)) continue;
                xs.add(step.getDouble(i));
                ys.add(y.getDouble(i));
            }
            if (xs.isEmpty()) throw new RlcdException("training curves: column '" + col + "' has no values");
            XYSeries s = c.addSeries(col, xs, ys);
            s.setMarker(SeriesMarkers.NONE);
        }
        return c;
    }

    /** Writes a chart as PNG or SVG, chosen by the file's extension ({@code .png}, {@code .svg}); creates parent directories. */
    public static Path save(Chart<?, ?> chart, Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        try {
            if (file.toAbsolutePath().getParent() != null)
                Files.createDirectories(file.toAbsolutePath().getParent());
            try (OutputStream out = Files.newOutputStream(file)) {
                if (name.endsWith(".png")) BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
                else if (name.endsWith(".svg"))
                    VectorGraphicsEncoder.saveVectorGraphic(chart, out, VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
                else throw new RlcdException(file + ": unknown image type; expected a name ending in .png or .svg");
            }
        } catch (IOException e) {
            throw new RlcdException(file + ": cannot write the chart (" + e.getMessage() + ")", e);
        }
        return file;
    }

    /** The chart as an image, for display in a notebook. */
    public static BufferedImage image(Chart<?, ?> chart) {
        return BitmapEncoder.getBufferedImage(chart);
    }

    private static NumericColumn<?> numeric(Table t, String name) {
        if (!t.containsColumn(name))
            throw new RlcdException("table '" + t.name() + "': no column '" + name + "'; it has " + t.columnNames());
        if (!(t.column(name) instanceof NumericColumn<?> n))
            throw new RlcdException("table '" + t.name() + "': column '" + name + "' is "
                    + t.column(name).type() + "; expected numbers");
        return n;
    }

    private static void requireColumns(Table t, String... names) {
        for (String n : names)
            if (!t.containsColumn(n))
                throw new RlcdException("table '" + t.name() + "': no column '" + n + "'; expected " + List.of(names)
                        + ", it has " + t.columnNames());
    }
}
