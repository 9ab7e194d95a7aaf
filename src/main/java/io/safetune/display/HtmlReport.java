package io.safetune.display;

import io.safetune.checkpoint.AtomicFiles;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.internal.chartpart.Chart;

import tech.tablesaw.api.Table;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Base64;

/**
 * A self-contained HTML report: headings, paragraphs, Tablesaw tables and XChart charts embedded as
 * PNG, so a run's {@code report.html} opens anywhere without its folder.
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

    /** Pre-formatted text (a configuration, a command). */
    public HtmlReport code(String text) {
        body.append("<pre>").append(escape(text)).append("</pre>\n");
        return this;
    }

    public HtmlReport table(Table table) {
        body.append(tableHtml(table)).append('\n');
        return this;
    }

    public HtmlReport chart(Chart<?, ?> chart) {
        body.append(img(chart)).append('\n');
        return this;
    }

    /** A chart as an {@code <img>} with the PNG inline: the one place a chart's image is stored. */
    public static String img(Chart<?, ?> chart) {
        return "<img alt=\"" + escape(chart.getTitle()) + "\" src=\"data:image/png;base64,"
                + Base64.getEncoder().encodeToString(png(chart)) + "\"/>";
    }

    public String html() {
        return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + escape(title) + "</title>\n"
                + "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
                + "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
                + "text-align:right}th{background:#f3f3f3}img{max-width:100%;margin:0.5em 0}"
                + "pre{background:#f7f7f7;padding:0.5em;overflow:auto}</style></head>\n<body>\n<h1>"
                + escape(title) + "</h1>\n" + body + "</body></html>\n";
    }

    /** Writes the report atomically. */
    public void write(Path file) {
        AtomicFiles.writeString(file, html());
    }

    /**
     * A Tablesaw table as an HTML table (the same markup the notebook displays use), numbers rounded by
     * {@link Tables#rounded} so no shown cell carries a double's 16 digits.
     */
    public static String tableHtml(Table table) {
        return Tables.rounded(table).write().toString("html");
    }

    /** A chart rendered as PNG bytes (headless), its title shrunk to fit the chart's width. */
    public static byte[] png(Chart<?, ?> chart) {
        fitTitle(chart);
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Titles name their condition (model, p, seeds, n) and run long; XChart neither wraps nor clips them
     * visibly, so the title font shrinks (down to 8 pt) until the title fits the chart's width.
     */
    static void fitTitle(Chart<?, ?> chart) {
        String title = chart.getTitle();
        if (title == null || title.isEmpty()) {
            return;
        }
        java.awt.Font font = chart.getStyler().getChartTitleFont();
        java.awt.Graphics2D g = new java.awt.image.BufferedImage(1, 1, java.awt.image.BufferedImage.TYPE_INT_ARGB).createGraphics();
        try {
            float size = font.getSize2D();
            while (size > 8 && g.getFontMetrics(font.deriveFont(size)).stringWidth(title) > chart.getWidth() - 24) {
                size -= 0.5f;
            }
            chart.getStyler().setChartTitleFont(font.deriveFont(size));
        } finally {
            g.dispose();
        }
    }

    /** Escapes text for HTML element content and attribute values. */
    public static String escape(String s) {
        return s == null ? "" : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

}
