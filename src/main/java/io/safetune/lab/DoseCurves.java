package io.safetune.lab;

import io.safetune.display.Charts;
import io.safetune.display.Displayable;

import org.knowm.xchart.internal.chartpart.Chart;

import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Dose curves of several models side by side (e.g. the base model aligned by SFT, by Vaccine and by
 * its random-perturbation control, each attacked at every p): harm, new-task accuracy and HED against
 * p, each on its own chart, one series per model.
 *
 * @param condition what the curves share (world, seed, n)
 * @param curves    per label (the experiment's combination label), in the order given
 */
public record DoseCurves(String condition, Map<String, DoseCurve> curves) implements Displayable {

    public DoseCurves {
        curves = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(curves));
    }

    @Override
    public String title() {
        return "Dose curves side by side (" + condition + ")";
    }

    @Override
    public Table table() {
        StringColumn label = StringColumn.create("aligned by");
        DoubleColumn p = DoubleColumn.create("p");
        DoubleColumn harm = DoubleColumn.create("harmful score");
        DoubleColumn complies = DoubleColumn.create("complies");
        DoubleColumn task = DoubleColumn.create("new-task accuracy");
        DoubleColumn hed = DoubleColumn.create("HED (mean over layers)");
        curves.forEach((name, curve) -> curve.points().forEach(x -> {
            label.append(name);
            p.append(x.p());
            harm.append(x.harmfulScore());
            complies.append(x.complianceRate());
            task.append(x.newTaskAccuracy());
            hed.append(x.hed());
        }));
        return Table.create(title(), label, p, harm, complies, task, hed);
    }

    @Override
    public List<Chart<?, ?>> charts() {
        return List.of(
                Charts.lines("Harmful score against p (" + condition + ")", "p (harmful fraction)", Charts.HARM_AXIS,
                        series(DoseCurve.Point::harmfulScore)),
                Charts.lines("New-task accuracy against p (" + condition + ")", "p (harmful fraction)", Charts.UTILITY_AXIS,
                        series(DoseCurve.Point::newTaskAccuracy)),
                Charts.lines("HED against p (" + condition + ")", "p (harmful fraction)", "HED: mean L2 drift, mean over layers",
                        series(DoseCurve.Point::hed)));
    }

    private Map<String, double[][]> series(ToDoubleFunction<DoseCurve.Point> y) {
        Map<String, double[][]> out = new LinkedHashMap<>();
        curves.forEach((name, c) -> out.put(name, new double[][] {c.points().stream().mapToDouble(DoseCurve.Point::p).toArray(),
                c.points().stream().mapToDouble(y).toArray()}));
        return out;
    }
}
