package rlcd4j.pipeline;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Locale;
import java.util.Set;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.internal.chartpart.Chart;
import rlcd4j.util.Html;
import rlcd4j.util.HtmlTable;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.ColumnType;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.columns.Column;

/**
 * A self-contained HTML report (tables, charts as inline PNG, notes), built section by section and written as one file
 * that needs nothing else to open. Tables are shown rounded for reading ({@link #readable}); the run folder's CSV files
 * keep the full values.
 */
public final class HtmlReport {
    private final StringBuilder body = new StringBuilder();
    private final String title;

    public HtmlReport(String title) {
        this.title = title;
    }

    public HtmlReport heading(String text) {
        body.append("<h2>").append(Html.escape(text)).append("</h2>\n");
        return this;
    }

    /** A smaller heading inside a section. */
    public HtmlReport subheading(String text) {
        body.append("<h3>").append(Html.escape(text)).append("</h3>\n");
        return this;
    }

    public HtmlReport paragraph(String text) {
        body.append("<p>").append(Html.escape(text)).append("</p>\n");
        return this;
    }

    /** Pre-formatted text (e.g. a sample dialogue), shown as written. */
    public HtmlReport pre(String text) {
        body.append("<pre>").append(Html.escape(text)).append("</pre>\n");
        return this;
    }

    /**
     * The table rounded for reading ({@link #readable}), with its first {@code maxRows} rows and cells cut at
     * {@code maxChars} characters.
     */
    public HtmlReport table(Table t, int maxRows, int maxChars) {
        body.append(HtmlTable.html(readable(t), HtmlTable.Limits.first(maxRows, maxChars)))
                .append('\n');
        return this;
    }

    /**
     * Columns that hold a fraction read as a percentage: win rates and their interval ends, accuracies and the rates
     * of the judge's summary. A {@code ties} column of doubles is a fraction too (the preference models' tables);
     * one of integers is a count (the win-rate tables).
     */
    static final Set<String> PERCENT_COLUMNS = Set.of(
            "win_rate",
            "ci_low",
            "ci_high",
            "lc_win_rate",
            "lc_ci_low",
            "lc_ci_high",
            "accuracy",
            "ties",
            "flip_rate",
            "first_position_rate",
            "undecided_rate",
            "plus_win_rate");

    /**
     * A copy of {@code t} for reading: fractions in {@link #PERCENT_COLUMNS} as percentages with one decimal
     * ({@code 67.0%}), every other decimal number as a score with three decimals ({@code 0.483}), missing values and
     * NaN empty; text and integer columns as they are.
     */
    public static Table readable(Table t) {
        Table out = Table.create(t.name());
        for (Column<?> c : t.columns()) {
            if (c.type() != ColumnType.DOUBLE && c.type() != ColumnType.FLOAT) {
                out.addColumns(c.copy());
                continue;
            }
            boolean pct = PERCENT_COLUMNS.contains(c.name());
            StringColumn s = StringColumn.create(c.name());
            for (int i = 0; i < c.size(); i++) {
                double v = c.isMissing(i) ? Double.NaN : ((Number) c.get(i)).doubleValue();
                s.append(pct ? percent(v) : score(v));
            }
            out.addColumns(s);
        }
        return out;
    }

    /** A fraction as a percentage with one decimal: 0.6725 -> {@code 67.3%}; NaN -> empty. */
    public static String percent(double fraction) {
        return Double.isNaN(fraction) ? "" : String.format(Locale.ROOT, "%.1f%%", 100 * fraction);
    }

    /** A score with three decimals: 0.48250000000000004 -> {@code 0.483}; NaN -> empty. */
    public static String score(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.3f", v);
    }

    public HtmlReport chart(Chart<?, ?> chart) {
        try {
            byte[] png = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
            body.append("<img alt=\"chart\" src=\"data:image/png;base64,")
                    .append(Base64.getEncoder().encodeToString(png))
                    .append("\">\n");
        } catch (IOException e) {
            throw new RlcdException("cannot render chart: " + e.getMessage(), e);
        }
        return this;
    }

    public Path write(Path file) {
        String html =
                "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>" + Html.escape(title) + "</title><style>"
                        + "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
                        + "table{border-collapse:collapse;margin:1em 0;font-size:13px}td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top;white-space:pre-wrap}"
                        + "th{background:#f3f3f3}caption{text-align:left;font-weight:bold;padding:4px 0}pre{background:#f7f7f7;padding:8px;white-space:pre-wrap}"
                        + "img{max-width:100%}</style></head><body>\n<h1>" + Html.escape(title) + "</h1>\n" + body
                        + "</body></html>\n";
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, html, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new RlcdException(file + ": cannot write the report: " + e.getMessage(), e);
        }
        return file;
    }
}
