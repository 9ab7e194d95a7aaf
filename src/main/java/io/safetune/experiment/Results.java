package io.safetune.experiment;

import io.safetune.method.Stage;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Everything results.json holds: one row per evaluated product (seed, defence, stage, p, variant and
 * every metric), HED of each fine-tune, the defences' own stages, the losses, the stages and the targets.
 *
 * @param source        "Micro-world pipeline" or "Real checkpoint …"
 * @param rows          one per product, and one per variant of a sweep
 * @param defenceStages the post-process stages, for the defences' own reports
 */
public record Results(ExperimentConfig config, String source, Map<String, String> versions, List<Row> rows,
        List<DriftRow> drift, List<DefenceStage> defenceStages, Map<String, List<Double>> losses,
        List<Stages.StageRun> stages, double wallSeconds, List<Targets.Check> targets) {

    /** These results without the loss curves and the stage list: what a committed copy keeps (rows, drift, config). */
    public Results scoresOnly() {
        return new Results(config, source, versions, rows, drift, defenceStages, Map.of(), List.of(), wallSeconds, targets);
    }

    /** Writes these results as results.json is written (atomically). */
    public void write(java.nio.file.Path file) {
        try {
            Stages.writeJson(file, this);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot write " + file, e);
        }
    }

    /** A run's results.json (e.g. a committed copy a notebook reads), with an error naming the file when it is not one. */
    public static Results read(java.nio.file.Path file) {
        return Stages.read(file, Results.class);
    }

    /**
     * One evaluated product.
     *
     * @param defence    the combination's label up to this stage ("none": nothing defended it)
     * @param p          the attack's harmful fraction; null for base and aligned models
     * @param variant    the variant of a post-process sweep, or "" for the product itself
     * @param parameters what distinguishes a variant (k, τ, weights projected …); empty otherwise
     */
    public record Row(long seed, String defence, Stage stage, Double p, String variant, Map<String, Double> parameters,
            Evaluation.Scores scores,
            @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
            Double strictHarmfulScore) {

        public Row {
            variant = variant == null ? "" : variant;
            parameters = parameters == null ? Map.of() : Map.copyOf(parameters);
        }

        /** "aligned", "attacked p=0.10", "&lt;defence&gt; post-processed p=0.10", "… &lt;variant&gt;": the same across seeds. */
        public String name() {
            String s = (defence.equals("none") ? "" : defence + " ") + stage.word();
            if (p != null) {
                s += String.format(Locale.ROOT, " p=%.2f", p);
            }
            return variant.isEmpty() ? s : s + " " + variant;
        }
    }

    /** Harmful Embedding Drift of a fine-tuned model against its aligned start, per layer and over steps. */
    public record DriftRow(long seed, String defence, double p, List<Double> perLayer, List<Long> steps, List<Double> overSteps) {
    }

    /** A post-process stage: which combination and method, on which seed and p, in which folder (relative to the run). */
    public record DefenceStage(String combination, String method, long seed, double p, String dir) {
    }

    /** The rows of products (not of a sweep's variants). */
    public List<Row> products() {
        return rows.stream().filter(r -> r.variant().isEmpty()).toList();
    }
}
