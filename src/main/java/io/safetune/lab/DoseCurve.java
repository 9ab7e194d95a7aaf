package io.safetune.lab;

import io.safetune.display.Charts;
import io.safetune.display.Displayable;

import org.knowm.xchart.internal.chartpart.Chart;

import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.Table;

import java.util.List;
import java.util.Map;

/**
 * Harm and drift against the harmful fraction p of the attack, for one seed: the paper's
 * observation that HED grows with the share of harmful data, read beside the harmful score it is
 * meant to explain. HED is one aggregate throughout: the per-layer mean L2 drift of the attention
 * outputs, averaged over layers.
 *
 * @param condition what the points share (world, seed, n)
 * @param points    one per p, in increasing p
 */
public record DoseCurve(String condition, List<Point> points) implements Displayable {

    /** One attack: its fraction p, harmful score, compliance, new-task accuracy and HED (mean over layers). */
    public record Point(double p, double harmfulScore, double complianceRate, double newTaskAccuracy, double hed) {
    }

    public DoseCurve {
        points = points.stream().sorted(java.util.Comparator.comparingDouble(Point::p)).toList();
    }

    @Override
    public String title() {
        return "Dose curve: harm and HED against p (" + condition + ")";
    }

    @Override
    public Table table() {
        return Table.create(title(),
                DoubleColumn.create("p", points.stream().mapToDouble(Point::p)),
                DoubleColumn.create("harmful score", points.stream().mapToDouble(Point::harmfulScore)),
                DoubleColumn.create("complies", points.stream().mapToDouble(Point::complianceRate)),
                DoubleColumn.create("new-task accuracy", points.stream().mapToDouble(Point::newTaskAccuracy)),
                DoubleColumn.create("HED (mean over layers)", points.stream().mapToDouble(Point::hed)));
    }

    @Override
    public List<Chart<?, ?>> charts() {
        double[] p = points.stream().mapToDouble(Point::p).toArray();
        return List.of(
                Charts.lines("Harm against p (" + condition + ")", "p (harmful fraction)", Charts.HARM_AXIS,
                        Map.of("harmful score", new double[][] {p, points.stream().mapToDouble(Point::harmfulScore).toArray()},
                                "complies", new double[][] {p, points.stream().mapToDouble(Point::complianceRate).toArray()})),
                Charts.lines("HED against p (" + condition + ")", "p (harmful fraction)",
                        "HED: mean L2 drift, mean over layers", Charts.one("HED",
                                new double[][] {p, points.stream().mapToDouble(Point::hed).toArray()})));
    }
}
