package io.safetune.eval;

import java.util.List;

/**
 * Which single number summarises a Harmful Embedding Drift measurement. Both are computed from the
 * same per-sample, per-layer differences Δ_{s,l} = e_l(other) − e_l(reference) over the sample's real
 * tokens (tokens × d); {@link DriftResult} always carries both per-layer series.
 */
public enum DriftAggregate {

    /**
     * The mean over layers of the per-layer drift, where the per-layer drift is the mean over samples
     * of ‖Δ_{s,l}‖_F (an L2 norm, not squared). Our headline figure: its unit is that of the
     * attention outputs, whatever the number of samples.
     */
    MEAN_L2,

    /**
     * Σ_l Σ_s ‖Δ_{s,l}‖_F²: the figure Vaccine's reference code prints ("Hidden layer drift", summed
     * over its first 10 evaluation batches and every attention module). It grows with the number of
     * samples and tokens. The reference runs the model without an attention mask, so its figure also
     * counts padding positions; here only real tokens count.
     */
    REFERENCE_SUM_SQUARED;

    /** The aggregate in words, as tables and charts show it. */
    public String word() {
        return this == MEAN_L2 ? "mean L2" : "reference sum of squares";
    }

    /** This aggregate of the per-layer series of a {@link DriftResult}. */
    double of(List<Double> perLayer, List<Double> perLayerSumSquared) {
        List<Double> values = this == MEAN_L2 ? perLayer : perLayerSumSquared;
        double sum = 0;
        for (double v : values) {
            sum += v;
        }
        return this == MEAN_L2 ? sum / values.size() : sum;
    }
}
