package rlcd4j.util;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import tech.tablesaw.api.ColumnType;
import tech.tablesaw.api.Table;
import tech.tablesaw.columns.Column;

/**
 * A Tablesaw {@link Table} as an HTML table, for notebooks and reports. Long tables show their head and tail with a
 * gap row, and the caption gives the full size; long cells end in an ellipsis, so a table of generated texts stays
 * readable.
 */
public final class HtmlTable {
    private HtmlTable() {}

    private static final String ELLIPSIS = "\u2026";

    /**
     * How much of a table to show: all rows up to {@code maxFull}, else the first {@code head} and last {@code tail}
     * rows; cells of at most {@code maxCell} characters.
     */
    public record Limits(int maxFull, int head, int tail, int maxCell) {
        /** A notebook's view: 20 rows whole, else 10 + 5; cells of 80 characters. */
        public static final Limits NOTEBOOK = new Limits(20, 10, 5, 80);

        /** The first {@code rows} rows, cells of {@code maxCell} characters. */
        public static Limits first(int rows, int maxCell) {
            return new Limits(rows, rows, 0, maxCell);
        }
    }

    /** Row indices to show: all, or head and tail with -1 marking the gap. */
    public static List<Integer> shownRows(int rowCount, Limits limits) {
        List<Integer> rows = new ArrayList<>();
        if (rowCount <= limits.maxFull()) {
            for (int r = 0; r < rowCount; r++) rows.add(r);
        } else {
            for (int r = 0; r < limits.head(); r++) rows.add(r);
            rows.add(-1);
            for (int r = rowCount - limits.tail(); r < rowCount; r++) rows.add(r);
        }
        return rows;
    }

    /** "name · 1,234 rows × 5 columns". */
    public static String caption(Table t) {
        String name = t.name() == null || t.name().isBlank() ? "table" : t.name();
        return String.format(
                Locale.ROOT,
                "%s \u00b7 %,d row%s \u00d7 %d column%s",
                name,
                t.rowCount(),
                t.rowCount() == 1 ? "" : "s",
                t.columnCount(),
                t.columnCount() == 1 ? "" : "s");
    }

    /** One cell as one short line: doubles to 6 significant digits, missing values empty, long text cut. */
    public static String cell(Column<?> col, int row, int maxCell) {
        if (col.isMissing(row)) return "";
        String s;
        if (col.type() == ColumnType.DOUBLE || col.type() == ColumnType.FLOAT) {
            s = formatDouble(((Number) col.get(row)).doubleValue());
        } else {
            s = col.getString(row);
        }
        s = s.replace('\n', ' ').replace('\r', ' ');
        return s.length() > maxCell ? s.substring(0, maxCell - 1) + ELLIPSIS : s;
    }

    static String formatDouble(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) return Double.toString(v);
        if (v == Math.rint(v) && Math.abs(v) < 1e15) return String.format(Locale.ROOT, "%.1f", v);
        double a = Math.abs(v);
        if (a >= 1e-4 && a < 1e7) {
            return new BigDecimal(v)
                    .round(new MathContext(6))
                    .stripTrailingZeros()
                    .toPlainString();
        }
        return String.format(Locale.ROOT, "%.5e", v);
    }

    private static boolean numeric(Column<?> col) {
        ColumnType t = col.type();
        return t == ColumnType.DOUBLE
                || t == ColumnType.FLOAT
                || t == ColumnType.INTEGER
                || t == ColumnType.LONG
                || t == ColumnType.SHORT;
    }

    public static String html(Table t, Limits limits) {
        int shown = Math.min(t.rowCount(), limits.maxFull());
        StringBuilder sb = new StringBuilder(256 + 64 * shown * Math.max(1, t.columnCount()));
        sb.append("<div class=\"rlcd-table\"><table class=\"dataframe\" border=\"1\">");
        sb.append("<caption style=\"caption-side:top;text-align:left;font-weight:bold\">")
                .append(Html.escape(caption(t)))
                .append("</caption>");
        sb.append("<thead><tr style=\"text-align:right\"><th></th>");
        for (Column<?> c : t.columns())
            sb.append("<th>").append(Html.escape(c.name())).append("</th>");
        sb.append("</tr></thead><tbody>");
        for (int r : shownRows(t.rowCount(), limits)) {
            sb.append("<tr>");
            if (r < 0) {
                sb.append("<th>").append(ELLIPSIS).append("</th>");
                for (int c = 0; c < t.columnCount(); c++)
                    sb.append("<td>").append(ELLIPSIS).append("</td>");
            } else {
                sb.append("<th>").append(r).append("</th>");
                for (Column<?> c : t.columns()) {
                    sb.append(numeric(c) ? "<td style=\"text-align:right\">" : "<td style=\"text-align:left\">")
                            .append(Html.escape(cell(c, r, limits.maxCell())))
                            .append("</td>");
                }
            }
            sb.append("</tr>");
        }
        sb.append("</tbody></table></div>");
        return sb.toString();
    }
}
