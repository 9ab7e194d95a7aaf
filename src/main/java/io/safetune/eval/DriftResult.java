package io.safetune.eval;

import io.safetune.display.Displayable;

import org.knowm.xchart.internal.chartpart.Chart;

import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.Table;

import java.util.List;

/**
 * Harmful Embedding Drift (Vaccine, Huang et al. 2024) between a reference model and another on the
 * same alignment inputs, per decoder layer, measured on the attention outputs e_l (after o_proj,
 * before the residual add). For sample s and layer l, Δ_{s,l} is the (real tokens × d) difference of
 * the two models' attention outputs; padding positions are excluded.
 *
 * @param aggregate          which aggregate {@code aggregateValue} is
 * @param aggregateValue     that aggregate (see {@link DriftAggregate})
 * @param perLayer           per layer: mean over samples of ‖Δ_{s,l}‖_F (the paper's per-layer L2
 *                           drift, averaged over samples)
 * @param perLayerSumSquared per layer: Σ_s ‖Δ_{s,l}‖_F² (the terms of the reference code's sum)
 * @param samples            number of input sequences
 * @param tokens             number of real tokens over all samples
 */
public record DriftResult(DriftAggregate aggregate, double aggregateValue, List<Double> perLayer,
        List<Double> perLayerSumSquared, int samples, long tokens) implements Displayable {

    public DriftResult {
        if (aggregate == null) {
            throw new IllegalArgumentException("aggregate: must not be null");
        }
        perLayer = List.copyOf(perLayer);
        perLayerSumSquared = List.copyOf(perLayerSumSquared);
        if (perLayer.isEmpty() || perLayer.size() != perLayerSumSquared.size()) {
            throw new IllegalArgumentException("perLayer and perLayerSumSquared: need one value per layer, got "
                    + perLayer.size() + " and " + perLayerSumSquared.size());
        }
        if (samples < 1) {
            throw new IllegalArgumentException("samples: must be >= 1, got " + samples);
        }
    }

    /** Builds the result, computing {@code aggregateValue} from the per-layer series. */
    static DriftResult of(DriftAggregate aggregate, List<Double> perLayer, List<Double> perLayerSumSquared,
            int samples, long tokens) {
        return new DriftResult(aggregate, aggregate.of(perLayer, perLayerSumSquared), perLayer, perLayerSumSquared,
                samples, tokens);
    }

    /** Another aggregate of the same measurement. */
    public double value(DriftAggregate other) {
        return other.of(perLayer, perLayerSumSquared);
    }

    public int layers() {
        return perLayer.size();
    }

    @Override
    public String title() {
        return String.format(java.util.Locale.ROOT, "Harmful Embedding Drift per layer (%s %.3g, n = %d samples)", aggregate.word(),
                aggregateValue, samples);
    }

    /** layer, mean L2 drift over samples, and the reference code's Σ‖Δ‖_F² per layer. */
    @Override
    public Table table() {
        Table t = Table.create(title(), IntColumn.create("layer"), DoubleColumn.create("mean L2 drift"),
                DoubleColumn.create("sum of squared Frobenius"));
        for (int l = 0; l < perLayer.size(); l++) {
            t.intColumn("layer").append(l);
            t.doubleColumn("mean L2 drift").append(perLayer.get(l));
            t.doubleColumn("sum of squared Frobenius").append(perLayerSumSquared.get(l));
        }
        return t;
    }

    @Override
    public List<Chart<?, ?>> charts() {
        return List.of(DriftComparison.of("drift", this).perLayerChart());
    }

    /** What the measurement was taken on, for titles: "n = 64 samples, 1234 tokens". */
    public String condition() {
        return "n = " + samples + " samples, " + tokens + " tokens";
    }

    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT, "DriftResult[%s %.6g, per layer %s, %d samples, %d tokens]",
                aggregate, aggregateValue, perLayer, samples, tokens);
    }
}
