package rlcd4j.kernel.display;

import org.dflib.jjava.jupyter.kernel.display.Renderer;
import org.dflib.jjava.jupyter.kernel.display.mime.MIMEType;
import tech.tablesaw.api.ColumnType;
import tech.tablesaw.api.Table;
import tech.tablesaw.columns.Column;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A Tablesaw {@link Table} as an HTML table (and an aligned text table for consoles). Long tables show their first
 * {@value #HEAD} and last {@value #TAIL} rows with the row count; cells longer than {@value #MAX_CELL} characters
 * end in an ellipsis, so a table of generated texts stays readable.
 */
public final class TableDisplay {
    public static final int HEAD = 10;
    public static final int TAIL = 5;
    /** Tables up to this many rows are shown whole. */
    public static final int MAX_FULL = 20;
    public static final int MAX_CELL = 80;
    private static final String ELLIPSIS = "\u2026";

    private TableDisplay() {
    }

    public static void register(Renderer renderer) {
        renderer.createRegistration(Table.class)
                .preferring(MIMEType.TEXT_HTML)
                .supporting(MIMEType.TEXT_PLAIN)
                .register((table, ctx) -> {
                    ctx.renderIfRequested(MIMEType.TEXT_HTML, () -> html(table));
                    ctx.renderIfRequested(MIMEType.TEXT_PLAIN, () -> text(table));
                });
    }

    /** Row indices to show: all, or head and tail with -1 marking the gap. */
    static List<Integer> shownRows(int rowCount) {
        List<Integer> rows = new ArrayList<>();
        if (rowCount <= MAX_FULL) {
            for (int r = 0; r < rowCount; r++) rows.add(r);
        } else {
            for (int r = 0; r < HEAD; r++) rows.add(r);
            rows.add(-1);
            for (int r = rowCount - TAIL; r < rowCount; r++) rows.add(r);
        }
        return rows;
    }

    /** "name · 1,234 rows × 5 columns". */
    static String caption(Table t) {
        String name = t.name() == null || t.name().isBlank() ? "table" : t.name();
        return String.format(Locale.ROOT, "%s \u00b7 %,d row%s \u00d7 %d column%s", name, t.rowCount(),
                t.rowCount() == 1 ? "" : "s", t.columnCount(), t.columnCount() == 1 ? "" : "s");
    }

    /** One cell as short text: doubles to 6 significant digits, missing values empty, long text cut. */
    static String cell(Column<?> col, int row) {
        if (col.isMissing(row)) return "";
        String s;
        if (col.type() == ColumnType.DOUBLE || col.type() == ColumnType.FLOAT) {
            double v = ((Number) col.get(row)).doubleValue();
            s = formatDouble(v);
        } else {
            s = col.getString(row);
        }
        s = s.replace('\n', ' ').replace('\r', ' ');
        return s.length() > MAX_CELL ? s.substring(0, MAX_CELL - 1) + ELLIPSIS : s;
    }

    static String formatDouble(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) return Double.toString(v);
        if (v == Math.rint(v) && Math.abs(v) < 1e15) return String.format(Locale.ROOT, "%.1f", v);
        double a = Math.abs(v);
        if (a >= 1e-4 && a < 1e7) {
            String s = new java.math.BigDecimal(v).round(new java.math.MathContext(6)).stripTrailingZeros().toPlainString();
            return s;
        }
        return String.format(Locale.ROOT, "%.5e", v);
    }

    private static boolean numeric(Column<?> col) {
        ColumnType t = col.type();
        return t == ColumnType.DOUBLE || t == ColumnType.FLOAT || t == ColumnType.INTEGER || t == ColumnType.LONG
                || t == ColumnType.SHORT;
    }

    public static String html(Table t) {
        StringBuilder sb = new StringBuilder(256 + 64 * Math.min(t.rowCount(), MAX_FULL) * Math.max(1, t.columnCount()));
        sb.append("<div class=\"rlcd-table\"><table class=\"dataframe\" border=\"1\">");
        sb.append("<caption style=\"caption-side:top;text-align:left;font-weight:bold\">")
                .append(escape(caption(t))).append("</caption>");
        sb.append("<thead><tr style=\"text-align:right\"><th></th>");
        for (Column<?> c : t.columns()) sb.append("<th>").append(escape(c.name())).append("</th>");
        sb.append("</tr></thead><tbody>");
        for (int r : shownRows(t.rowCount())) {
            sb.append("<tr>");
            if (r < 0) {
                sb.append("<th>").append(ELLIPSIS).append("</th>");
                for (int c = 0; c < t.columnCount(); c++) sb.append("<td>").append(ELLIPSIS).append("</td>");
            } else {
                sb.append("<th>").append(r).append("</th>");
                for (Column<?> c : t.columns()) {
                    sb.append(numeric(c) ? "<td style=\"text-align:right\">" : "<td style=\"text-align:left\">")
                            .append(escape(cell(c, r))).append("</td>");
                }
            }
            sb.append("</tr>");
        }
        sb.append("</tbody></table></div>");
        return sb.toString();
    }

    public static String text(Table t) {
        List<Integer> rows = shownRows(t.rowCount());
        int n = t.columnCount();
        String[] header = new String[n + 1];
        header[0] = "";
        for (int c = 0; c < n; c++) header[c + 1] = t.column(c).name();
        List<String[]> body = new ArrayList<>();
        for (int r : rows) {
            String[] line = new String[n + 1];
            line[0] = r < 0 ? ELLIPSIS : Integer.toString(r);
            for (int c = 0; c < n; c++) line[c + 1] = r < 0 ? ELLIPSIS : cell(t.column(c), r);
            body.add(line);
        }
        int[] width = new int[n + 1];
        for (int c = 0; c <= n; c++) {
            width[c] = header[c].length();
            for (String[] line : body) width[c] = Math.max(width[c], line[c].length());
        }
        StringBuilder sb = new StringBuilder(caption(t)).append('\n');
        appendLine(sb, header, width);
        for (int c = 0; c <= n; c++) sb.append(c == 0 ? "" : "  ").append("-".repeat(width[c]));
        sb.append('\n');
        for (String[] line : body) appendLine(sb, line, width);
        return sb.toString().stripTrailing();
    }

    private static void appendLine(StringBuilder sb, String[] cells, int[] width) {
        for (int c = 0; c < cells.length; c++) {
            if (c > 0) sb.append("  ");
            sb.append(cells[c]).append(" ".repeat(width[c] - cells[c].length()));
        }
        sb.setLength(sb.length() - (sb.length() - sb.toString().stripTrailing().length()));
        sb.append('\n');
    }

    static String escape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                default -> sb.append(ch);
            }
        }
        return sb.toString();
    }
}
