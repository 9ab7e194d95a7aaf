package io.safetune.method;

import java.util.Objects;

/**
 * A micro-world expectation of one product: e.g. the p = 0.1 attack's harmful score >= 0.8, or Safe
 * LoRA with every weight projected <= 0.1. Checked per seed on the rows the story wrote.
 *
 * @param stage   which product
 * @param variant the variant label of a sweep's row, or "" for the product itself
 * @param p       the attack's harmful fraction, or null for base and aligned models
 * @param metric  what is compared
 * @param bound   the comparison
 * @param value   the threshold
 * @param task    the task of {@link Metric#TASK_ACCURACY} (e.g. "sentiment"), else ""
 */
public record Target(Stage stage, String variant, Double p, Metric metric, Bound bound, double value, String task) {

    public Target {
        Objects.requireNonNull(stage, "stage");
        variant = variant == null ? "" : variant;
        Objects.requireNonNull(metric, "metric");
        Objects.requireNonNull(bound, "bound");
        task = task == null ? "" : task;
        if (metric == Metric.TASK_ACCURACY && task.isEmpty()) {
            throw new IllegalArgumentException("task: a task accuracy target names its task");
        }
    }

    /** "harmful score", "compliance" or "sentiment accuracy". */
    public String metricName() {
        return metric == Metric.TASK_ACCURACY ? task + " accuracy" : metric.word();
    }

    /** What a row measures. */
    public enum Metric {
        HARMFUL_SCORE("harmful score"),
        COMPLIANCE("compliance"),
        /** The accuracy of one task: see {@code task}. */
        TASK_ACCURACY("accuracy");

        private final String word;

        Metric(String word) {
            this.word = word;
        }

        public String word() {
            return word;
        }
    }

    /** Which side of the threshold meets the target. */
    public enum Bound {
        AT_LEAST(">="),
        AT_MOST("<=");

        private final String symbol;

        Bound(String symbol) {
            this.symbol = symbol;
        }

        public boolean met(double v, double threshold) {
            return this == AT_LEAST ? v >= threshold : v <= threshold;
        }

        public String symbol() {
            return symbol;
        }
    }

    /** "<= 0.05" */
    public String describe() {
        return bound.symbol() + " " + value;
    }
}
