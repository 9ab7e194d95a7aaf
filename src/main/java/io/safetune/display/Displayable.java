package io.safetune.display;

import org.knowm.xchart.internal.chartpart.Chart;

import tech.tablesaw.api.Table;

import java.util.Base64;
import java.util.List;

/**
 * A result that shows itself as one table plus its charts: in a notebook (kernel-ext renders any
 * {@code Displayable} as {@code text/html}, {@code image/png} and {@code text/plain} without extra code
 * in the cell) and in reports. Results implement it so that a cell's last expression is the figure.
 */
public interface Displayable {

    /** A short heading. */
    String title();

    /** The result as a table (one row per layer, stage, sample …). */
    Table table();

    /** The result's charts, most telling first; may be empty. */
    default List<Chart<?, ?>> charts() {
        return List.of();
    }

    /** Heading, table and every chart (as embedded PNG) in one self-contained HTML fragment. */
    default String toHtml() {
        StringBuilder s = new StringBuilder("<div class=\"safetune\"><h4>").append(HtmlReport.escape(title()))
                .append("</h4>\n").append(HtmlReport.tableHtml(table())).append('\n');
        for (Chart<?, ?> c : charts()) {
            s.append("<img alt=\"").append(HtmlReport.escape(c.getTitle())).append("\" src=\"data:image/png;base64,")
                    .append(Base64.getEncoder().encodeToString(HtmlReport.png(c))).append("\"/>\n");
        }
        return s.append("</div>").toString();
    }

    /** The title and the table as plain text (what a terminal or a text-only front end shows). */
    default String toText() {
        return title() + "\n" + table().print();
    }
}
