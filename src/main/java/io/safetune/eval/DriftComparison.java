package io.safetune.eval;

import io.safetune.display.Charts;
import io.safetune.display.Displayable;

import org.knowm.xchart.XYChart;
import org.knowm.xchart.internal.chartpart.Chart;

import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Several drift measurements (shown in name order, whatever the map's order) side by side (e.g. the benign fine-tune p = 0 against the attack p = 0.1),
 * per layer: the Vaccine paper's observation is that harmful data makes the drift larger.
 */
public record DriftComparison(Map<String, DriftResult> results) implements Displayable {

    public DriftComparison {
        if (results == null || results.isEmpty()) {
            throw new IllegalArgumentException("results: at least one drift measurement is needed");
        }
        int layers = results.values().iterator().next().layers();
        results.forEach((name, r) -> {
            if (r.layers() != layers) {
                throw new IllegalArgumentException("results: '" + name + "' has " + r.layers() + " layers, not " + layers);
            }
        });
        // sorted by name: a HashMap or Map.of would otherwise order (and colour) the series differently per run
        results = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(new java.util.TreeMap<>(results)));
    }

    /** Name/result pairs in order: {@code of("p=0", d0, "p=0.1", d1)}. */
    public static DriftComparison of(Object... nameResultPairs) {
        if (nameResultPairs.length % 2 != 0) {
            throw new IllegalArgumentException("nameResultPairs: expected name, result, name, result, …");
        }
        Map<String, DriftResult> m = new LinkedHashMap<>();
        for (int i = 0; i < nameResultPairs.length; i += 2) {
            m.put(String.valueOf(nameResultPairs[i]), (DriftResult) nameResultPairs[i + 1]);
        }
        return new DriftComparison(m);
    }

    @Override
    public String title() {
        return "Harmful Embedding Drift per layer: " + String.join(" vs ", results.keySet()) + " (" + condition() + ")";
    }

    @Override
    public Table table() {
        Table t = Table.create(title(), StringColumn.create("layer"));
        results.keySet().forEach(n -> t.addColumns(DoubleColumn.create(n)));
        int layers = results.values().iterator().next().layers();
        for (int l = 0; l < layers; l++) {
            t.stringColumn("layer").append(Integer.toString(l));
            int col = 1;
            for (DriftResult r : results.values()) {
                t.doubleColumn(col++).append(r.perLayer().get(l));
            }
        }
        // the one HED aggregate the lab reports: per-layer mean L2 drift, averaged over layers
        t.stringColumn("layer").append("mean over layers");
        int col = 1;
        for (DriftResult r : results.values()) {
            t.doubleColumn(col++).append(r.value(DriftAggregate.MEAN_L2));
        }
        return t;
    }

    @Override
    public List<Chart<?, ?>> charts() {
        return List.of(perLayerChart());
    }

    XYChart perLayerChart() {
        Map<String, double[][]> series = new LinkedHashMap<>();
        results.forEach((name, r) -> {
            double[] x = new double[r.layers()];
            double[] y = new double[r.layers()];
            for (int l = 0; l < x.length; l++) {
                x[l] = l;
                y[l] = r.perLayer().get(l);
            }
            series.put(name, new double[][] {x, y});
        });
        return Charts.lines("HED per layer (" + condition() + ")", "layer", "mean L2 drift of attention outputs", series);
    }

    /** The samples the measurements were taken on: "n = 64 samples" (or per series when they differ). */
    public String condition() {
        java.util.Set<Integer> n = new java.util.TreeSet<>();
        results.values().forEach(r -> n.add(r.samples()));
        if (n.size() == 1) {
            return "n = " + n.iterator().next() + " samples";
        }
        List<String> each = new java.util.ArrayList<>();
        results.forEach((name, r) -> each.add(name + " n = " + r.samples()));
        return String.join(", ", each) + " samples";
    }
}
