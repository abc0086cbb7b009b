package rlcd4j.pipeline;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.internal.chartpart.Chart;
import rlcd4j.util.RlcdException;
import rlcd4j.util.Html;
import rlcd4j.util.HtmlTable;
import tech.tablesaw.api.Table;

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
        body.append("<h2>").append(Html.escape(text)).append("</h2>\n");
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

    /** The table, with its first {@code maxRows} rows and cells cut at {@code maxChars} characters. */
    public HtmlReport table(Table t, int maxRows, int maxChars) {
        body.append(HtmlTable.html(t, HtmlTable.Limits.first(maxRows, maxChars))).append('\n');
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
        String html = "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>" + Html.escape(title) + "</title><style>"
                + "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
                + "table{border-collapse:collapse;margin:1em 0;font-size:13px}td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top;white-space:pre-wrap}"
                + "th{background:#f3f3f3}caption{text-align:left;font-weight:bold;padding:4px 0}pre{background:#f7f7f7;padding:8px;white-space:pre-wrap}"
                + "img{max-width:100%}</style></head><body>\n<h1>" + Html.escape(title) + "</h1>\n" + body + "</body></html>\n";
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, html, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new RlcdException(file + ": cannot write the report: " + e.getMessage(), e);
        }
        return file;
    }

}
