package io.safetune.kernel;

import io.safetune.display.Displayable;
import io.safetune.display.HtmlReport;

import org.knowm.xchart.internal.chartpart.Chart;

import tech.tablesaw.api.Table;

import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a notebook shows for the lab's types, as Jupyter mime bundles (mime type → data). Both kernel
 * adapters (IJava's {@code Renderer}, rapaio's {@code DisplayProvider}) render through this class, so a
 * table, chart or result looks the same in either kernel.
 */
public final class MimeBundles {

    public static final String TEXT_HTML = "text/html";
    public static final String TEXT_PLAIN = "text/plain";
    public static final String IMAGE_PNG = "image/png";

    /**
     * Rows shown in a table's HTML; longer tables are cut with a note, because a bare expression over
     * a data set would otherwise send every row to the browser.
     */
    public static final int MAX_HTML_ROWS = 200;

    private MimeBundles() {
    }

    /** A Tablesaw table: {@code text/html} (at most {@link #MAX_HTML_ROWS} rows) and {@code text/plain}. */
    public static Map<String, String> table(Table table) {
        Map<String, String> out = new LinkedHashMap<>();
        out.put(TEXT_HTML, tableHtml(table));
        out.put(TEXT_PLAIN, table.print());
        return out;
    }

    /** A chart: {@code image/png} (base64, as Jupyter stores it) and its title as {@code text/plain}. */
    public static Map<String, String> chart(Chart<?, ?> chart) {
        Map<String, String> out = new LinkedHashMap<>();
        out.put(IMAGE_PNG, pngBase64(chart));
        out.put(TEXT_PLAIN, chartText(chart));
        return out;
    }

    /**
     * A lab result: its {@link Displayable#toHtml()} (table plus every chart, each stored there once as an
     * inline PNG) and {@link Displayable#toText()}. No separate {@code image/png}: a front end shows only
     * the richest type of a bundle, so a PNG beside the HTML was never seen, yet stored each chart twice.
     */
    public static Map<String, String> displayable(Displayable result) {
        Map<String, String> out = new LinkedHashMap<>();
        out.put(TEXT_HTML, result.toHtml());
        out.put(TEXT_PLAIN, result.toText());
        return out;
    }

    /**
     * The data of one named type, as {@code display("image/png", x)} asks: for a result's
     * {@code image/png}, its first chart (the one type then stored, so still once); null when {@code value}
     * has no such type.
     */
    public static String only(Object value, String mime) {
        if (value instanceof Displayable d && IMAGE_PNG.equals(mime)) {
            List<Chart<?, ?>> charts = d.charts();
            return charts.isEmpty() ? null : pngBase64(charts.get(0));
        }
        Map<String, String> bundle = of(value);
        return bundle == null ? null : bundle.get(mime);
    }

    /** The bundle for any of the lab's displayable types, or null for other objects. */
    public static Map<String, String> of(Object value) {
        if (value instanceof Displayable d) {
            return displayable(d);
        }
        if (value instanceof Table t) {
            return table(t);
        }
        if (value instanceof Chart<?, ?> c) {
            return chart(c);
        }
        return null;
    }

    static String tableHtml(Table table) {
        if (table.rowCount() <= MAX_HTML_ROWS) {
            return HtmlReport.tableHtml(table);
        }
        return HtmlReport.tableHtml(table.first(MAX_HTML_ROWS)) + "\n<p><i>first " + MAX_HTML_ROWS + " of "
                + table.rowCount() + " rows</i></p>";
    }

    static String pngBase64(Chart<?, ?> chart) {
        return Base64.getEncoder().encodeToString(HtmlReport.png(chart));
    }

    static String chartText(Chart<?, ?> chart) {
        String title = chart.getTitle() == null || chart.getTitle().isBlank() ? "untitled" : chart.getTitle();
        return "chart: " + title + " (" + chart.getWidth() + "x" + chart.getHeight() + ")";
    }
}
