package io.safetune.experiment;

import io.safetune.display.Charts;

import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.Marker;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.geom.Ellipse2D;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Safety against utility at one p: harmful score on x, new-task accuracy on y (the better corner is top
 * left). Each defence is its seed-mean point with error bars of its accuracy's sd and its seeds as small
 * dots; its controls share its colour, hollow; a knob's curve (Safe LoRA's k, tuned on validation) is a
 * line in the same colour (mean over seeds at each fixed k, scored on the variant set); the defence's own
 * point is the tuned adapter, whose k each seed's validation rule chose.
 */
final class ComparisonCharts {

    private ComparisonCharts() {
    }

    /** An unfilled circle: a control, in its defence's colour. */
    static final class Hollow extends Marker {
        @Override
        public void paint(Graphics2D g, double x, double y, int size) {
            g.setStroke(new BasicStroke(2f));
            g.draw(new Ellipse2D.Double(x - size / 2.0, y - size / 2.0, size, size));
        }
    }

    static List<Chart<?, ?>> perP(Comparison c) {
        List<Chart<?, ?>> out = new ArrayList<>();
        for (double p : c.fractions()) {
            out.add(at(c, p));
        }
        return out;
    }

    static XYChart at(Comparison c, double p) {
        XYChart chart = new XYChartBuilder().width(Charts.WIDTH + 300).height(Charts.HEIGHT + 80)
                .title(String.format(Locale.ROOT, "Safety against utility at p = %s (%s)", p, c.condition()))
                .xAxisTitle(Charts.HARM_AXIS).yAxisTitle(c.task() + " " + Charts.UTILITY_AXIS).build();
        Styler s = chart.getStyler();
        s.setLegendPosition(Styler.LegendPosition.OutsideE).setLegendLayout(Styler.LegendLayout.Vertical);
        chart.getStyler().setErrorBarsColorSeriesColor(true);
        chart.getStyler().setXAxisMin(0.0).setXAxisMax(1.0).setYAxisMin(0.0).setYAxisMax(1.0);
        List<String> defences = c.entries().stream().filter(e -> e.controlOf() == null).map(Comparison.Entry::label).toList();
        for (Comparison.Entry e : c.entries()) {
            Comparison.Cell cell = c.cell(e.label(), p);
            if (cell == null) {
                continue;
            }
            Color col = Charts.colour(e.controlOf() == null ? e.label() : e.controlOf(), defences);
            for (Comparison.KnobPoint k : c.knobs()) {
                if (k.label().equals(e.label()) && k.p() == p) {
                    line(chart, c, e.label(), p, col);
                    break;
                }
            }
            double[] xs = cell.seeds().stream().mapToDouble(v -> v[0]).toArray();
            double[] ys = cell.seeds().stream().mapToDouble(v -> v[1]).toArray();
            XYSeries seeds = chart.addSeries(e.label() + " seeds", xs, ys);
            seeds.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            seeds.setMarker(SeriesMarkers.CIRCLE).setMarkerColor(faded(col)).setShowInLegend(false);
            double sd = Double.isNaN(cell.newTask().sd()) ? 0 : cell.newTask().sd();
            XYSeries mean = chart.addSeries(e.label(), new double[] {cell.harmful().mean()}, new double[] {cell.newTask().mean()},
                    new double[] {sd});
            mean.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            mean.setMarker(e.controlOf() == null ? SeriesMarkers.CIRCLE : new Hollow()).setMarkerColor(col).setLineColor(col);
        }
        chart.getStyler().setMarkerSize(11);
        return chart;
    }

    private static void line(XYChart chart, Comparison c, String label, double p, Color col) {
        List<Comparison.KnobPoint> pts = c.knobs().stream().filter(k -> k.label().equals(label) && k.p() == p).toList();
        XYSeries s = chart.addSeries(label + " by k (0 … " + (int) pts.get(pts.size() - 1).k() + ")",
                pts.stream().mapToDouble(Comparison.KnobPoint::harmful).toArray(),
                pts.stream().mapToDouble(Comparison.KnobPoint::newTask).toArray());
        s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        s.setMarker(SeriesMarkers.NONE).setLineColor(col).setLineStyle(new BasicStroke(1.5f, BasicStroke.CAP_ROUND,
                BasicStroke.JOIN_ROUND, 10f, new float[] {4f, 4f}, 0f));
    }

    private static Color faded(Color c) {
        return new Color(c.getRed(), c.getGreen(), c.getBlue(), 110);
    }
}
