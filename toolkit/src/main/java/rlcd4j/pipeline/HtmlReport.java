package rlcd4j.pipeline;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.internal.chartpart.Chart;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.Table;
import tech.tablesaw.columns.Column;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

/**
 * A self-contained HTML report (tables, charts as inline PNG, notes), built section by section and written as one file
 * that needs nothing else to open.
 */
public final class HtmlReport {
    private final StringBuilder body = new StringBuilder();
    private final String title;

    public HtmlReport(String title) {
        this.title = title;
    }

    public HtmlReport heading(String text) {
        body.append("<h2>").append(escape(text)).append("</h2>\n");
        return this;
    }

    public HtmlReport paragraph(String text) {
        body.append("<p>").append(escape(text)).append("</p>\n");
        return this;
    }

    /** Pre-formatted text (e.g. a sample dialogue), shown as written. */
    public HtmlReport pre(String text) {
        body.append("<pre>").append(escape(text)).append("</pre>\n");
        return this;
    }

    /** The table, with at most {@code maxRows} rows and cells cut at {@code maxChars} characters. */
    public HtmlReport table(Table t, int maxRows, int maxChars) {
        body.append("<table><caption>").append(escape(t.name())).append(" (").append(t.rowCount()).append(" rows)</caption><tr>");
        for (Column<?> c : t.columns()) body.append("<th>").append(escape(c.name())).append("</th>");
        body.append("</tr>\n");
        for (int r = 0; r < Math.min(maxRows, t.rowCount()); r++) {
            body.append("<tr>");
            for (Column<?> c : t.columns()) {
                String v = c.getString(r);
                if (v.length() > maxChars) v = v.substring(0, maxChars) + "\u2026";
                body.append("<td>").append(escape(v)).append("</td>");
            }
            body.append("</tr>\n");
        }
        body.append("</table>\n");
        return this;
    }

    public HtmlReport chart(Chart<?, ?> chart) {
        try {
            byte[] png = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
            body.append("<img alt=\"chart\" src=\"data:image/png;base64,").append(Base64.getEncoder().encodeToString(png)).append("\">\n");
        } catch (IOException e) {
            throw new RlcdException("cannot render chart: " + e.getMessage(), e);
        }
        return this;
    }

    public Path write(Path file) {
        String html = "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>" + escape(title) + "</title><style>"
                + "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
                + "table{border-collapse:collapse;margin:1em 0;font-size:13px}td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top;white-space:pre-wrap}"
                + "th{background:#f3f3f3}caption{text-align:left;font-weight:bold;padding:4px 0}pre{background:#f7f7f7;padding:8px;white-space:pre-wrap}"
                + "img{max-width:100%}</style></head><body>\n<h1>" + escape(title) + "</h1>\n" + body + "</body></html>\n";
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, html, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new RlcdException(file + ": cannot write the report: " + e.getMessage(), e);
        }
        return file;
    }

    /** {@code s} as HTML or XML text (also inside attribute values). */
    public static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
