package io.safetune.method;

import java.util.Map;
import java.util.Objects;

/**
 * One scored variant of a post-process sweep: e.g. Safe LoRA at k = 3, or its random-projection control.
 *
 * @param label      its name in results and charts, e.g. "safe-lora k 3"
 * @param series     the line it belongs to in a sweep chart, e.g. "safe-lora"
 * @param parameters what distinguishes it (k, τ, weights projected, norm ratio), for tables
 * @param score      the story's scores of its adapter
 */
public record Variant(String label, String series, Map<String, Double> parameters, Score score) {
    public Variant {
        Objects.requireNonNull(label, "label");
        Objects.requireNonNull(series, "series");
        parameters = Map.copyOf(parameters);
        Objects.requireNonNull(score, "score");
    }
}
