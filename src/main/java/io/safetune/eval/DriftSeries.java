package io.safetune.eval;

import io.safetune.display.Charts;
import io.safetune.display.Displayable;

import org.knowm.xchart.internal.chartpart.Chart;

import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.Table;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Embedding drift over a fine-tuning run, as {@link DriftTracker} recorded it.
 *
 * @param aggregate which aggregate each point's {@code aggregateValue} is
 * @param every     the tracker's interval in optimiser steps
 * @param points    in step order
 */
public record DriftSeries(DriftAggregate aggregate, int every, List<DriftPoint> points) implements Displayable {

    public DriftSeries {
        if (aggregate == null) {
            throw new IllegalArgumentException("aggregate: must not be null");
        }
        points = List.copyOf(points);
    }

    /** The recorded steps. */
    public List<Long> steps() {
        return points.stream().map(DriftPoint::step).toList();
    }

    /** The aggregate at each recorded step. */
    public List<Double> aggregateValues() {
        return points.stream().map(p -> p.drift().aggregateValue()).toList();
    }

    @Override
    public String title() {
        return "Harmful Embedding Drift over fine-tuning steps (every " + every + " steps, " + condition() + ")";
    }

    /** "n = 64 samples" (the samples each point was measured on), or "no points". */
    public String condition() {
        return points.isEmpty() ? "no points" : "n = " + points.get(0).drift().samples() + " samples";
    }

    /** step, the aggregate, and each layer's mean L2 drift. */
    @Override
    public Table table() {
        Table t = Table.create(title(), LongColumn.create("step"), DoubleColumn.create(aggregate.word()));
        int layers = points.isEmpty() ? 0 : points.get(0).drift().layers();
        for (int l = 0; l < layers; l++) {
            t.addColumns(DoubleColumn.create("layer " + l));
        }
        for (DriftPoint p : points) {
            t.longColumn("step").append(p.step());
            t.doubleColumn(1).append(p.drift().aggregateValue());
            for (int l = 0; l < layers; l++) {
                t.doubleColumn(2 + l).append(p.drift().perLayer().get(l));
            }
        }
        return t;
    }

    /** The aggregate over steps, and each layer over steps. */
    @Override
    public List<Chart<?, ?>> charts() {
        double[] x = steps().stream().mapToDouble(Long::doubleValue).toArray();
        Map<String, double[][]> total = new LinkedHashMap<>();
        total.put(aggregate.word(), new double[][] {x, aggregateValues().stream().mapToDouble(Double::doubleValue).toArray()});
        Map<String, double[][]> perLayer = new LinkedHashMap<>();
        int layers = points.isEmpty() ? 0 : points.get(0).drift().layers();
        for (int l = 0; l < layers; l++) {
            perLayer.put("layer " + l, new double[][] {x, layer(l).stream().mapToDouble(Double::doubleValue).toArray()});
        }
        return List.of(Charts.lines("HED over steps (" + condition() + ")", "step", aggregate.word() + " drift", total),
                Charts.lines("HED per layer over steps (" + condition() + ")", "step", "mean L2 drift", perLayer));
    }

    /** {steps, aggregate values}: one series for {@link Charts#lines}. */
    public double[][] xy() {
        return new double[][] {steps().stream().mapToDouble(Long::doubleValue).toArray(),
            aggregateValues().stream().mapToDouble(Double::doubleValue).toArray()};
    }

    /** Layer {@code layer}'s drift (mean L2 over samples) at each recorded step. */
    public List<Double> layer(int layer) {
        return points.stream().map(p -> p.drift().perLayer().get(layer)).toList();
    }
}
