package rlcd4j.kernel.display;

import java.util.ArrayList;
import java.util.List;
import org.dflib.jjava.jupyter.kernel.display.Renderer;
import org.dflib.jjava.jupyter.kernel.display.mime.MIMEType;
import rlcd4j.util.HtmlTable;
import tech.tablesaw.api.Table;

/**
 * A Tablesaw {@link Table} in a notebook: the toolkit's {@link HtmlTable} (with {@link HtmlTable.Limits#NOTEBOOK}),
 * and an aligned text table with the same rows and cells for consoles.
 */
public final class TableDisplay {
    private static final HtmlTable.Limits LIMITS = HtmlTable.Limits.NOTEBOOK;
    private static final String ELLIPSIS = "\u2026";

    private TableDisplay() {}

    public static void register(Renderer renderer) {
        renderer.createRegistration(Table.class)
                .preferring(MIMEType.TEXT_HTML)
                .supporting(MIMEType.TEXT_PLAIN)
                .register((table, ctx) -> {
                    ctx.renderIfRequested(MIMEType.TEXT_HTML, () -> html(table));
                    ctx.renderIfRequested(MIMEType.TEXT_PLAIN, () -> text(table));
                });
    }

    public static String html(Table t) {
        return HtmlTable.html(t, LIMITS);
    }

    public static String text(Table t) {
        List<Integer> rows = HtmlTable.shownRows(t.rowCount(), LIMITS);
        int n = t.columnCount();
        String[] header = new String[n + 1];
        header[0] = "";
        for (int c = 0; c < n; c++) header[c + 1] = t.column(c).name();
        List<String[]> body = new ArrayList<>();
        for (int r : rows) {
            String[] line = new String[n + 1];
            line[0] = r < 0 ? ELLIPSIS : Integer.toString(r);
            for (int c = 0; c < n; c++) {
                line[c + 1] = r < 0 ? ELLIPSIS : HtmlTable.cell(t.column(c), r, LIMITS.maxCell());
            }
            body.add(line);
        }
        int[] width = new int[n + 1];
        for (int c = 0; c <= n; c++) {
            width[c] = header[c].length();
            for (String[] line : body) width[c] = Math.max(width[c], line[c].length());
        }
        StringBuilder sb = new StringBuilder(HtmlTable.caption(t)).append('\n');
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
}
