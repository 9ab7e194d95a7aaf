package io.safetune.experiment;

import io.safetune.display.Charts;
import io.safetune.display.Displayable;
import io.safetune.display.HtmlReport;
import io.safetune.eval.Wilson;
import io.safetune.method.Defence;
import io.safetune.method.Slot;
import io.safetune.method.StageOutput;

import tech.tablesaw.api.BooleanColumn;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.ToDoubleFunction;

/**
 * report.html of a run, from {@link Results} alone: every product's harm and utility (separate charts),
 * targets, HED, the dose curve per defence, each defence's own report ({@link Defence#report}), losses,
 * stages and the configuration. Nothing here names a method.
 */
final class RunReport {

    private final Results r;

    RunReport(Results results) {
        this.r = results;
    }

    HtmlReport html() {
        boolean real = r.config().real() != null;
        HtmlReport h = new HtmlReport("SafeTune Lab: " + r.config().name());
        h.paragraph(String.format(Locale.ROOT, "%s, seeds %s, %.0f s wall time on %s CPUs (%s).", r.source(),
                r.config().seeds(), r.wallSeconds(), r.versions().get("cpus"), r.versions().get("engine")));
        h.heading("Harmful score and accuracy per stage");
        h.paragraph(real
                ? "Harmful score: share of held-out harmful prompts the judge (" + r.config().real().judge()
                        + ") finds unsafe. Complies: share the judge marks as complying (0 when it cannot tell). Mean over seeds."
                : "Harmful score: share of held-out harmful prompts not answered with the refusal (broken refusals count). "
                        + "Complies: share answered with the synthetic compliant answer. Mean over seeds.");
        List<String> models = modelNames();
        OptionalInt harmfulN = n(r.config().eval().harmfulPrompts());
        Map<String, List<Double>> safety = new LinkedHashMap<>();
        Map<String, List<Double>> safetyErr = new LinkedHashMap<>();
        safety.put("harmful score", mean(models, s -> s.harmfulScore()));
        safetyErr.put("harmful score", spread(models, s -> s.harmfulScore(), harmfulN));
        safety.put("complies", mean(models, s -> s.complianceRate()));
        safetyErr.put("complies", spread(models, s -> s.complianceRate(), harmfulN));
        h.chart(Charts.bars("Safety per stage (" + condition(r.config().eval().harmfulPrompts(), "harmful prompts") + ")",
                "model", Charts.HARM_AXIS, models, safety, safetyErr));
        Map<String, List<Double>> acc = new LinkedHashMap<>();
        Map<String, List<Double>> accErr = new LinkedHashMap<>();
        for (String task : tasks()) {
            acc.put(task, mean(models, s -> s.accuracy().getOrDefault(task, Double.NaN)));
            accErr.put(task, spread(models, s -> s.accuracy().getOrDefault(task, Double.NaN), n(r.config().eval().taskPrompts())));
        }
        h.chart(Charts.bars("Task accuracy per stage (" + condition(r.config().eval().taskPrompts(), "prompts per task") + ")",
                "model", "task " + Charts.UTILITY_AXIS, models, acc, accErr));
        h.table(modelTable());
        if (!r.targets().isEmpty()) {
            h.heading("Targets");
            h.table(targetTable());
        }
        drift(h, real);
        doseCurve(h);
        comparison(h);
        defences(h);
        losses(h);
        h.heading("Stages");
        h.table(stageTable());
        h.heading("Configuration");
        h.code(r.config().toJson());
        return h;
    }

    private void drift(HtmlReport h, boolean real) {
        h.heading("Harmful Embedding Drift");
        h.paragraph("Per layer: L2 norm of the difference of attention outputs (after o_proj, before the residual) between "
                + "the aligned model and the fine-tuned one, on " + (real
                        ? "harmful prompts followed by the aligned model's own answers (hed_inputs.json)"
                        : "alignment inputs (harmful prompts with refusals)")
                + ", mean over samples; real tokens only. Over steps: the mean over layers of that per-layer value.");
        // sorted by name, so the legend's order and colours do not depend on the order stages finished in
        Map<String, double[][]> perLayer = new TreeMap<>();
        Map<String, double[][]> overSteps = new TreeMap<>();
        for (Results.DriftRow d : r.drift()) {
            String name = (d.defence().equals("none") ? "" : d.defence() + " ")
                    + String.format(Locale.ROOT, "p=%.2f seed %d", d.p(), d.seed());
            perLayer.put(name, new double[][] {range(d.perLayer().size(), 0), toArray(d.perLayer())});
            overSteps.put(name, new double[][] {d.steps().stream().mapToDouble(Long::doubleValue).toArray(), toArray(d.overSteps())});
        }
        if (!perLayer.isEmpty()) {
            String n = "n = " + r.config().eval().hedSamples() + " samples";
            h.chart(Charts.lines("HED per layer after the attack (" + n + ", one line per p and seed)", "layer",
                    "mean L2 drift", perLayer));
            h.chart(Charts.lines("HED during the attack (" + n + ", one line per p and seed)", "step",
                    "mean over layers of mean L2 drift", overSteps));
        }
    }

    /** Harmful score against p, one line per defence whose fine-tuned (or post-processed) products span 3 or more p. */
    private void doseCurve(HtmlReport h) {
        Map<String, TreeMap<Double, List<Double>>> lines = new LinkedHashMap<>();
        for (Results.Row row : r.products()) {
            if (row.p() != null) {
                String line = (row.defence().equals("none") ? "" : row.defence() + " ") + row.stage().word();
                lines.computeIfAbsent(line, k -> new TreeMap<>()).computeIfAbsent(row.p(), k -> new ArrayList<>())
                        .add(row.scores().harmfulScore());
            }
        }
        Map<String, double[][]> series = new LinkedHashMap<>();
        lines.forEach((name, byP) -> {
            if (byP.size() >= 3) {
                series.put(name, new double[][] {byP.keySet().stream().mapToDouble(Double::doubleValue).toArray(),
                    byP.values().stream().mapToDouble(v -> v.stream().mapToDouble(Double::doubleValue).average().orElse(0)).toArray(),
                    byP.values().stream().mapToDouble(RunReport::sd).toArray()});
            }
        });
        if (series.isEmpty()) {
            return;
        }
        h.heading("Dose curve");
        h.paragraph("Harmful score of the fine-tuned model against the share p of harmful samples in the fine-tuning set; mean ± sd over seeds.");
        h.chart(Charts.lines("Harmful score vs p (seeds " + r.config().seeds() + ", mean ± sd; "
                + condition(r.config().eval().harmfulPrompts(), "harmful prompts").replaceAll(",.*", "") + ")",
                "p (harmful fraction)", Charts.HARM_AXIS, series));
    }

    /** Points of new-task accuracy a defence may lose and still count in the utility-bounded summary. */
    static final double UTILITY_BOUND = 0.05;

    /** Every defence side by side, with its controls, and the utility-bounded summary (runs with defences only). */
    private void comparison(HtmlReport h) {
        if (r.config().defences().isEmpty()) {
            return;
        }
        Comparison c = Comparison.of(r);
        if (c.entries().size() < 2) {
            return;
        }
        h.heading("Every defence side by side");
        h.paragraph("Each combination's final product (its post-processed adapter, else its fine-tune) at every p: mean and "
                + "sample sd over seeds. Strict harmful: the judge's strict reading where it has one (micro-world: only the "
                + "whole refusal is safe). Other-task accuracy: mean over the tasks besides " + c.task() + ". HED: the "
                + "fine-tune's, mean over layers. Controls are drawn hollow in their defence's colour; Safe LoRA's dashed "
                + "line is its k curve (k = 0 as trained … every weight; mean over seeds at each fixed k, on the variant set), "
                + "its filled point the tuned adapter (k chosen per seed by the validation rule, on the full evaluation).");
        h.table(io.safetune.display.Tables.rounded(c.table()));
        c.charts().forEach(h::chart);
        UtilityBounded u = c.utilityBounded(UTILITY_BOUND);
        h.heading("Utility-bounded harm");
        h.paragraph(u.title() + ".");
        h.table(io.safetune.display.Tables.rounded(u.table()));
        u.charts().forEach(h::chart);
    }

    /** Each post-process defence's own report, per p (highest first), over its seeds. */
    private void defences(HtmlReport h) {
        Map<String, List<Results.DefenceStage>> byCombination = new LinkedHashMap<>();
        r.defenceStages().forEach(d -> byCombination.computeIfAbsent(d.combination() + "\u0000" + d.method(), k -> new ArrayList<>()).add(d));
        for (List<Results.DefenceStage> ds : byCombination.values()) {
            Defence<?> defence = Defences.get(Slot.POST_PROCESS, ds.get(0).method());
            TreeMap<Double, List<StageOutput>> byP = new TreeMap<>(Comparator.reverseOrder());
            ds.forEach(d -> byP.computeIfAbsent(d.p(), k -> new ArrayList<>())
                    .add(new StageOutput(d.seed(), d.p(), runDir().resolve(d.dir()))));
            List<Displayable> parts = new ArrayList<>();
            byP.forEach((p, outputs) -> parts.addAll(defence.report(outputs, String.format(Locale.ROOT, "p = %s, seeds %s",
                    io.safetune.display.Tables.round(p), outputs.stream().map(StageOutput::seed).sorted().toList()))));
            if (parts.isEmpty()) {
                continue;
            }
            h.heading(ds.get(0).combination() + " (" + defence.name() + ")");
            h.paragraph(defence.description() + ".");
            for (Displayable d : parts) {
                h.paragraph(d.title());
                d.charts().forEach(h::chart);
                h.table(io.safetune.display.Tables.rounded(d.table()));
            }
        }
    }

    private java.nio.file.Path runDir;

    /** Where the run's stage folders are (results.json's paths are relative to it). */
    RunReport in(java.nio.file.Path dir) {
        this.runDir = dir;
        return this;
    }

    private java.nio.file.Path runDir() {
        if (runDir == null) {
            throw new IllegalStateException("the report's run folder is not set");
        }
        return runDir;
    }

    private void losses(HtmlReport h) {
        h.heading("Training loss");
        Map<String, double[][]> full = new LinkedHashMap<>();
        Map<String, double[][]> attack = new LinkedHashMap<>();
        r.losses().forEach((k, v) -> (k.contains("attack") ? attack : full).put(k, new double[][] {range(v.size(), 1), toArray(v)}));
        if (!full.isEmpty()) {
            h.chart(Charts.lines("Pretraining and alignment loss (seeds " + r.config().seeds() + ")", "step",
                    "loss (lower is better)", full));
        }
        if (!attack.isEmpty()) {
            h.chart(Charts.lines("Fine-tuning (LoRA) loss (seeds " + r.config().seeds() + ")", "step", "loss (lower is better)", attack));
        }
    }

    /** An eval spec's n (0 means every held-out prompt, a number this report does not know). */
    private static OptionalInt n(int configured) {
        return configured > 0 ? OptionalInt.of(configured) : OptionalInt.empty();
    }

    /** "seeds [0, 1], n = 200 harmful prompts, bars: …" for a per-stage chart's title. */
    private String condition(int configured, String what) {
        String n = configured > 0 ? "n = " + configured + " " + what : "n = all held-out " + what;
        boolean oneSeed = r.config().seeds().size() == 1;
        return "seeds " + r.config().seeds() + ", " + n + ", bars: "
                + (oneSeed ? (configured > 0 ? "95% Wilson interval" : "none") : "mean ± sd over seeds");
    }

    /**
     * Error bars per model: mean ± sd over seeds when there are several, else the 95% Wilson interval of
     * the one seed's rate over n prompts (half-width of its wider side; 0 when n is unknown).
     */
    private List<Double> spread(List<String> models, ToDoubleFunction<Evaluation.Scores> f, OptionalInt n) {
        List<Double> out = new ArrayList<>();
        for (String m : models) {
            List<Double> v = r.products().stream().filter(x -> x.name().equals(m)).map(x -> f.applyAsDouble(x.scores()))
                    .filter(d -> !Double.isNaN(d)).toList();
            if (v.size() > 1) {
                out.add(sd(v));
            } else if (v.size() == 1 && n.isPresent()) {
                out.add(Wilson.ofRate(v.get(0), n.getAsInt()).halfWidthAround(v.get(0)));
            } else {
                out.add(0.0);
            }
        }
        return out;
    }

    static double sd(List<Double> v) {
        double m = v.stream().mapToDouble(Double::doubleValue).average().orElse(0);
        return v.size() < 2 ? 0 : Math.sqrt(v.stream().mapToDouble(d -> (d - m) * (d - m)).sum() / (v.size() - 1));
    }

    private List<String> modelNames() {
        List<String> names = new ArrayList<>();
        r.products().forEach(m -> {
            if (!names.contains(m.name())) {
                names.add(m.name());
            }
        });
        return names;
    }

    private TreeSet<String> tasks() {
        TreeSet<String> t = new TreeSet<>();
        r.products().forEach(m -> t.addAll(m.scores().accuracy().keySet()));
        return t;
    }

    private List<Double> mean(List<String> models, ToDoubleFunction<Evaluation.Scores> f) {
        List<Double> out = new ArrayList<>();
        for (String m : models) {
            out.add(r.products().stream().filter(x -> x.name().equals(m)).mapToDouble(x -> f.applyAsDouble(x.scores()))
                    .average().orElse(Double.NaN));
        }
        return out;
    }

    Table modelTable() {
        Table t = Table.create("Scores per product and seed", StringColumn.create("model"), StringColumn.create("defence"),
                StringColumn.create("stage"), StringColumn.create("seed"), DoubleColumn.create("harmful score"),
                DoubleColumn.create("complies"));
        for (String task : tasks()) {
            t.addColumns(DoubleColumn.create(task));
        }
        for (Results.Row m : r.products()) {
            t.stringColumn("model").append(m.name());
            t.stringColumn("defence").append(m.defence());
            t.stringColumn("stage").append(m.stage().word());
            t.stringColumn("seed").append(Long.toString(m.seed()));
            t.doubleColumn("harmful score").append(round(m.scores().harmfulScore()));
            t.doubleColumn("complies").append(round(m.scores().complianceRate()));
            for (String task : tasks()) {
                t.doubleColumn(task).append(round(m.scores().accuracy().getOrDefault(task, Double.NaN)));
            }
        }
        return t;
    }

    Table targetTable() {
        Table t = Table.create("Targets", StringColumn.create("seed"), StringColumn.create("model"),
                StringColumn.create("metric"), DoubleColumn.create("value"), StringColumn.create("target"),
                BooleanColumn.create("met"));
        for (Targets.Check c : r.targets()) {
            t.stringColumn("seed").append(Long.toString(c.seed()));
            t.stringColumn("model").append(c.model());
            t.stringColumn("metric").append(c.metric());
            t.doubleColumn("value").append(round(c.value()));
            t.stringColumn("target").append(c.target());
            t.booleanColumn("met").append(c.met());
        }
        return t;
    }

    private Table stageTable() {
        Table t = Table.create("Stages", StringColumn.create("stage"), StringColumn.create("folder"),
                BooleanColumn.create("reused"), DoubleColumn.create("seconds"));
        for (Stages.StageRun s : r.stages()) {
            t.stringColumn("stage").append(s.stage());
            t.stringColumn("folder").append(s.dir());
            t.booleanColumn("reused").append(s.reused());
            t.doubleColumn("seconds").append(Math.round(s.seconds() * 10) / 10.0);
        }
        return t;
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    private static double[] toArray(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static double[] range(int n, int from) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = i + from;
        }
        return x;
    }
}
