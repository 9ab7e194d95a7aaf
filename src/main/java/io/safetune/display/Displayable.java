package io.safetune.display;

import org.knowm.xchart.internal.chartpart.Chart;

import tech.tablesaw.api.Table;

import java.util.List;

/**
 * A result that shows itself as one table plus its charts: in a notebook (kernel-ext renders any
 * {@code Displayable} as {@code text/html} and {@code text/plain} without extra code in the cell) and in
 * reports. Results implement it so that a cell's last expression is the figure.
 *
 * <p>Each chart is stored once: as an inline PNG in {@link #toHtml()}. There is no separate
 * {@code image/png} copy, because a front end shows only the richest type of a bundle (HTML), so a
 * second copy would double the notebook's size and show nothing more.
 *
 * <p>Every chart title names its condition: what the result itself knows (n, τ, k) it says; what it
 * does not (model, stage, p, seed) the caller adds with {@link #withCaption}.
 */
public interface Displayable {

    /** A short heading. */
    String title();

    /** The result as a table (one row per layer, stage, sample …), in full precision; displays round it. */
    Table table();

    /** The result's charts, most telling first; may be empty. */
    default List<Chart<?, ?>> charts() {
        return List.of();
    }

    /**
     * The same result with {@code caption} (e.g. "attacked, p = 0.1, seed 0") added to its heading and to
     * every chart title, for results that do not know their model, stage, p or seed.
     */
    default Displayable withCaption(String caption) {
        return new Captioned(this, caption);
    }

    /** Heading, table (rounded) and every chart (each once, as an inline PNG) in one self-contained HTML fragment. */
    default String toHtml() {
        StringBuilder s = new StringBuilder("<div class=\"safetune\"><h4>").append(HtmlReport.escape(title()))
                .append("</h4>\n").append(HtmlReport.tableHtml(table())).append('\n');
        for (Chart<?, ?> c : charts()) {
            s.append(HtmlReport.img(c)).append('\n');
        }
        return s.append("</div>").toString();
    }

    /** The title and the rounded table as plain text (what a terminal or a text-only front end shows). */
    default String toText() {
        return title() + "\n" + Tables.rounded(table()).print();
    }

    /** A section of a report made of parts: a heading, its table and its charts. */
    static Displayable of(String title, Table table, List<Chart<?, ?>> charts) {
        return new Section(title, table, List.copyOf(charts));
    }

    /** What {@link #of} makes. */
    record Section(String title, Table table, List<Chart<?, ?>> charts) implements Displayable {
        @Override
        public List<Chart<?, ?>> charts() {
            return new java.util.ArrayList<>(charts); // a caller may retitle them
        }
    }

    /** A result with a caption on its heading and chart titles; the table is the result's own. */
    record Captioned(Displayable result, String caption) implements Displayable {

        public Captioned {
            if (result == null || caption == null || caption.isBlank()) {
                throw new IllegalArgumentException("result and caption: must be given");
            }
        }

        @Override
        public String title() {
            return result.title() + " (" + caption + ")";
        }

        @Override
        public Table table() {
            return result.table();
        }

        @Override
        public List<Chart<?, ?>> charts() {
            List<Chart<?, ?>> charts = result.charts();
            charts.forEach(c -> c.setTitle(c.getTitle() + " (" + caption + ")"));
            return charts;
        }

        @Override
        public Displayable withCaption(String more) {
            return new Captioned(result, caption + ", " + more);
        }
    }
}
