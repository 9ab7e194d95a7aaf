package io.safetune.display;

import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;

import java.awt.Color;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The few chart shapes the lab draws, with one look. Series come in a map: an ordered one (LinkedHashMap,
 * TreeMap) gives the legend's order; any other (HashMap, {@code Map.of}) is drawn in name order, because
 * its own iteration order changes from one run to the next. Colours are fixed per series name (see
 * {@link #colour}).
 */
public final class Charts {

    public static final int WIDTH = 800;
    public static final int HEIGHT = 420;

    /** Axis titles that say which way is better, so harm and utility are never read the same way. */
    public static final String HARM_AXIS = "harmful score (lower is better)";
    public static final String UTILITY_AXIS = "accuracy (higher is better)";

    /** Colour-blind-safe (Okabe-Ito) palette; a name's colour is its index in the sorted names of a chart. */
    private static final Color[] PALETTE = {new Color(0, 114, 178), new Color(230, 159, 0), new Color(0, 158, 115),
        new Color(204, 121, 167), new Color(86, 180, 233), new Color(213, 94, 0), new Color(240, 228, 66),
        new Color(0, 0, 0)};

    /** Names whose colour means the same thing in every chart. */
    private static final Map<String, Color> FIXED = Map.of(
            "safe-lora", PALETTE[0], "random-projection", PALETTE[1], "uniform-scale", PALETTE[2],
            "safe-lora (τ)", PALETTE[4], "projected", PALETTE[5], "kept", PALETTE[0], "harmful score", PALETTE[5],
            "complies", PALETTE[3]);

    private Charts() {
    }

    /** Grouped bars, no error bars. */
    public static CategoryChart bars(String title, String xTitle, String yTitle, List<String> categories,
            Map<String, List<Double>> series) {
        return bars(title, xTitle, yTitle, categories, series, Map.of());
    }

    /**
     * Grouped bars: one group per category, one bar per series, each bar labelled with its value (so a
     * bar of height 0 is still seen), with a symmetric error bar where {@code errors} has the series
     * (a half-width per category; XChart draws only symmetric error bars). A null value draws no bar.
     */
    public static CategoryChart bars(String title, String xTitle, String yTitle, List<String> categories,
            Map<String, List<Double>> unordered, Map<String, List<Double>> errors) {
        Map<String, List<Double>> series = ordered(unordered);
        CategoryChart c = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title)
                .xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS).setLegendLayout(Styler.LegendLayout.Horizontal);
        c.getStyler().setXAxisLabelRotation(categories.size() > 6 ? 30 : 0);
        // labels in one dark colour: XChart's automatic colour writes white on dark fills, invisible on a bar of height 0
        c.getStyler().setLabelsVisible(true).setLabelsRotation(categories.size() * series.size() > 12 ? 90 : 0)
                .setLabelsFontColorAutomaticEnabled(false).setLabelsFontColor(Color.BLACK);
        c.getStyler().setYAxisDecimalPattern("0.00"); // the bar labels use it too: two decimals for shares
        c.getStyler().setErrorBarsColorSeriesColor(true);
        List<String> names = new ArrayList<>(series.keySet());
        series.forEach((name, values) -> {
            List<Double> err = errors.get(name);
            CategorySeries s = err == null ? c.addSeries(name, categories, values) : c.addSeries(name, categories, values, err);
            s.setFillColor(colour(name, names));
            s.setLineColor(colour(name, names)); // the error bars take the series' line colour
        });
        // shares and cosines of one sign: start the axis at 0, so a Wilson bar around 0 does not invent a negative axis
        if (series.values().stream().flatMap(List::stream).allMatch(v -> v == null || v >= 0)) {
            c.getStyler().setYAxisMin(0.0);
        }
        return c;
    }

    /** Lines over a numeric x (loss curves, dose curves, drift over steps); a third array, if any, is ± error. */
    public static XYChart lines(String title, String xTitle, String yTitle, Map<String, double[][]> unordered) {
        Map<String, double[][]> series = ordered(unordered);
        XYChart c = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xTitle)
                .yAxisTitle(yTitle).build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS).setLegendLayout(Styler.LegendLayout.Horizontal);
        c.getStyler().setMarkerSize(4);
        c.getStyler().setErrorBarsColorSeriesColor(true);
        List<String> names = new ArrayList<>(series.keySet());
        series.forEach((name, xyErr) -> {
            XYSeries s = xyErr.length > 2 && xyErr[2] != null ? c.addSeries(name, xyErr[0], xyErr[1], xyErr[2])
                    : c.addSeries(name, xyErr[0], xyErr[1]);
            Color col = colour(name, names);
            s.setLineColor(col);
            s.setMarkerColor(col);
        });
        return c;
    }

    /**
     * Safety against utility: one point per variant, harmful score on x, task accuracy on y, each series
     * joined in its own order (e.g. Safe LoRA by k). The better corner is top left.
     */
    public static XYChart tradeOff(String title, Map<String, double[][]> series) {
        XYChart c = lines(title, HARM_AXIS, "task " + UTILITY_AXIS, series);
        c.getStyler().setMarkerSize(7);
        return c;
    }

    /** The colour of series {@code name} among {@code names}: fixed for the lab's own names, else by sorted rank. */
    public static Color colour(String name, List<String> names) {
        Color fixed = FIXED.get(name);
        if (fixed != null) {
            return fixed;
        }
        int rank = new ArrayList<>(new TreeSet<>(names)).indexOf(name);
        return PALETTE[Math.max(rank, 0) % PALETTE.length];
    }

    /** {@code series} itself when its order is defined, else its entries sorted by name: the legend must not vary by run. */
    static <V> Map<String, V> ordered(Map<String, V> series) {
        if (series.size() < 2 || series instanceof LinkedHashMap || series instanceof SortedMap) {
            return series;
        }
        return new TreeMap<>(series);
    }

    /** {@code [value]} as a one-entry ordered map, for single-series charts. */
    public static <V> Map<String, V> one(String name, V value) {
        Map<String, V> m = new LinkedHashMap<>();
        m.put(name, value);
        return m;
    }
}
