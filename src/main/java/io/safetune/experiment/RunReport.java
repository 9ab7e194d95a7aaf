package io.safetune.experiment;

import io.safetune.display.Charts;
import io.safetune.display.HtmlReport;
import io.safetune.display.Tables;
import io.safetune.eval.Wilson;
import io.safetune.safelora.SafeLoraSweep;
import io.safetune.safelora.UpdateEnergy;

import tech.tablesaw.api.BooleanColumn;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/** report.html of a reproduce run: tables (Tablesaw) and charts (XChart) from {@link Pipeline.Results}. */
final class RunReport {

    private final Pipeline.Results r;

    RunReport(Pipeline.Results results) {
        this.r = results;
    }

    HtmlReport html() {
        boolean real = r.config().real() != null;
        HtmlReport h = new HtmlReport("SafeTune Lab: " + r.config().name());
        h.paragraph(String.format("%s, seeds %s, %.0f s wall time on %s CPUs (%s).",
                real ? "Real checkpoint " + r.config().real().checkpoint() : "Micro-world pipeline",
                r.config().seeds(), r.wallSeconds(), r.versions().get("cpus"), r.versions().get("engine")));
        h.heading("Harmful score and accuracy per stage");
        h.paragraph(real
                ? "Harmful score: share of held-out harmful prompts the judge (" + r.config().real().judge()
                        + ") finds unsafe. Complies: share the judge marks as complying (0 when it cannot tell). Mean over seeds."
                : "Harmful score: share of held-out harmful prompts not answered with the refusal (broken refusals count). "
                        + "Complies: share answered with the synthetic compliant answer. Mean over seeds.");
        List<String> models = modelNames();
        Map<String, List<Double>> safety = new LinkedHashMap<>();
        Map<String, List<Double>> safetyErr = new LinkedHashMap<>();
        safety.put("harmful score", mean(models, s -> s.harmfulScore()));
        safetyErr.put("harmful score", spread(models, s -> s.harmfulScore(), n(r.config().eval().harmfulPrompts())));
        safety.put("complies", mean(models, s -> s.complianceRate()));
        safetyErr.put("complies", spread(models, s -> s.complianceRate(), n(r.config().eval().harmfulPrompts())));
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
        h.heading("Harmful Embedding Drift");
        h.paragraph("Per layer: L2 norm of the difference of attention outputs (after o_proj, before the residual) between "
                + "the aligned model and the attacked one, on " + (real
                        ? "harmful prompts followed by the aligned model's own answers (hed_inputs.json)"
                        : "alignment inputs (harmful prompts with refusals)")
                + ", mean over samples; real tokens only. Over steps: the mean over layers of that per-layer value.");
        // sorted by name, so the legend's order and colours do not depend on the order stages finished in
        Map<String, double[][]> perLayer = new TreeMap<>();
        Map<String, double[][]> overSteps = new TreeMap<>();
        for (Pipeline.DriftRow d : r.drift()) {
            String name = String.format(java.util.Locale.ROOT, "p=%.2f seed %d", d.p(), d.seed());
            perLayer.put(name, new double[][] {range(d.perLayer().size()), toArray(d.perLayer())});
            overSteps.put(name, new double[][] {d.steps().stream().mapToDouble(Long::doubleValue).toArray(), toArray(d.overSteps())});
        }
        if (!perLayer.isEmpty()) {
            String n = "n = " + r.config().eval().hedSamples() + " samples";
            h.chart(Charts.lines("HED per layer after the attack (" + n + ", one line per p and seed)", "layer",
                    "mean L2 drift", perLayer));
            h.chart(Charts.lines("HED during the attack (" + n + ", one line per p and seed)", "step",
                    "mean over layers of mean L2 drift", overSteps));
        }
        doseCurve(h);
        safeLora(h);
        h.heading("Training loss");
        Map<String, double[][]> curves = new LinkedHashMap<>();
        r.losses().forEach((k, v) -> curves.put(k, new double[][] {range(v.size(), 1), toArray(v)}));
        Map<String, double[][]> full = new LinkedHashMap<>();
        Map<String, double[][]> attack = new LinkedHashMap<>();
        curves.forEach((k, v) -> (k.startsWith("attack") ? attack : full).put(k, v));
        if (!full.isEmpty()) {
            h.chart(Charts.lines("Pretraining and alignment loss (seeds " + r.config().seeds() + ")", "step",
                    "loss (lower is better)", full));
        }
        h.chart(Charts.lines("Attack (LoRA) loss (seeds " + r.config().seeds() + ")", "step", "loss (lower is better)", attack));
        h.heading("Stages");
        h.table(stageTable());
        h.heading("Configuration");
        h.code(r.config().toJson());
        return h;
    }

    private void doseCurve(HtmlReport h) {
        TreeMap<Double, List<Double>> byP = new TreeMap<>();
        for (Pipeline.ModelRow row : r.models()) {
            if (row.p() != null) {
                byP.computeIfAbsent(row.p(), k -> new ArrayList<>()).add(row.scores().harmfulScore());
            }
        }
        if (byP.size() < 3) {
            return;
        }
        double[] x = byP.keySet().stream().mapToDouble(Double::doubleValue).toArray();
        double[] y = byP.values().stream().mapToDouble(v -> v.stream().mapToDouble(Double::doubleValue).average().orElse(0)).toArray();
        double[] sd = byP.values().stream().mapToDouble(RunReport::sd).toArray();
        h.heading("Dose curve");
        h.paragraph("Harmful score of the attacked model against the share p of harmful samples in the fine-tuning set; mean ± sd over seeds.");
        h.chart(Charts.lines("Harmful score vs p (seeds " + r.config().seeds() + ", mean ± sd; "
                + condition(r.config().eval().harmfulPrompts(), "harmful prompts").replaceAll(",.*", "") + ")",
                "p (harmful fraction)", Charts.HARM_AXIS, Charts.one("attacked", new double[][] {x, y, sd})));
    }

    /** Safe LoRA's sweep per attack: harmful score and task accuracy against k beside both controls. */
    private void safeLora(HtmlReport h) {
        if (r.safeLora().isEmpty()) {
            return;
        }
        h.heading("Safe LoRA on the attacked adapters");
        h.paragraph("Safe LoRA (number mode, the reference's plain C = V Vᵀ/‖V‖_F, V = W_aligned − W_base) projects the "
                + "k least similar adapted weights, k = 0 (the attack as trained) … all. Controls on the same axes: "
                + "random-projection applies a random orthogonal projector of rank " + r.config().safeLora().randomRank()
                + " to the same weights; uniform-scale multiplies every B by one factor so that the total update norm "
                + "equals Safe LoRA's at that k. Mean ± sd over seeds.");
        TreeSet<Double> ps = new TreeSet<>(java.util.Comparator.reverseOrder());
        r.safeLora().forEach(x -> ps.add(x.p()));
        int sweepN = r.config().safeLora().eval().harmfulPrompts();
        for (double p : ps) {
            List<Pipeline.SafeLoraRow> rows = r.safeLora().stream().filter(x -> x.p() == p).toList();
            // every title names its own p, its seeds and n: a p = 0 chart must never read as the p = 0.1 one
            String cond = String.format(java.util.Locale.ROOT, "p = %s, seeds %s, %s per variant", Tables.round(p),
                    rows.stream().map(Pipeline.SafeLoraRow::seed).toList(),
                    sweepN > 0 ? "n = " + sweepN + " harmful prompts" : "all held-out harmful prompts");
            String spread = rows.size() > 1 ? ", mean ± sd" : "";
            Map<String, double[][]> tradeOff = new LinkedHashMap<>();
            for (String metric : List.of("harmful score", "task accuracy")) {
                Map<String, double[][]> series = new LinkedHashMap<>();
                for (SafeLoraSweep.Method m : List.of(SafeLoraSweep.Method.SAFE_LORA, SafeLoraSweep.Method.RANDOM_PROJECTION,
                        SafeLoraSweep.Method.UNIFORM_SCALE)) {
                    TreeMap<Integer, List<Double>> byK = new TreeMap<>();
                    for (Pipeline.SafeLoraRow row : rows) {
                        for (SafeLoraSweep.Point pt : row.points()) {
                            if (pt.method() == m || pt.method() == SafeLoraSweep.Method.NONE) {
                                byK.computeIfAbsent(pt.k(), k -> new ArrayList<>())
                                        .add(metric.startsWith("harmful") ? pt.harmfulScore() : pt.taskAccuracy());
                            }
                        }
                    }
                    series.put(m.name().toLowerCase().replace('_', '-'), new double[][] {
                        byK.keySet().stream().mapToDouble(Integer::doubleValue).toArray(),
                        byK.values().stream().mapToDouble(v -> v.stream().mapToDouble(Double::doubleValue).average().orElse(0)).toArray(),
                        byK.values().stream().mapToDouble(RunReport::sd).toArray()});
                }
                h.chart(Charts.lines(metric + " vs weights projected (" + cond + spread + ")", "k (weights projected)",
                        metric.startsWith("harmful") ? Charts.HARM_AXIS : "task " + Charts.UTILITY_AXIS, series));
                series.forEach((name, xy) -> tradeOff.merge(name, new double[][] {xy[1]},
                        (harm, acc) -> new double[][] {harm[0], acc[0]}));
            }
            h.chart(Charts.tradeOff("Safety vs utility per variant, Safe LoRA by k (" + cond + (rows.size() > 1 ? ", means" : "")
                    + ")", tradeOff));
            Pipeline.SafeLoraRow first = rows.get(0);
            Map<String, List<Double>> cos = new LinkedHashMap<>();
            for (Pipeline.SafeLoraRow row : rows) {
                cos.put("seed " + row.seed(), row.cosines().stream().map(c -> c.cosine() == null ? 0.0 : c.cosine()).toList());
            }
            h.chart(Charts.bars("cos(C·B·A, B·A) per weight, one bar per seed; at k the k lowest are projected (" + cond + ")", "layer.module",
                    "cosine with the alignment direction",
                    first.cosines().stream().map(c -> c.layer() + "." + c.module()).toList(), cos));
            if (!first.energy().isEmpty()) {
                Map<String, List<Double>> energy = new LinkedHashMap<>();
                energy.put("update (mean over seeds)", meanEnergy(rows, UpdateEnergy.Row::updateShare));
                energy.put("V itself", meanEnergy(rows, UpdateEnergy.Row::alignmentShare));
                energy.put("random subspace", meanEnergy(rows, UpdateEnergy.Row::randomShare));
                h.chart(Charts.bars(String.format(java.util.Locale.ROOT, "Share of energy in V's top-%d directions (%s)",
                        r.config().safeLora().energyTopK(), cond), "layer.module", "share of ‖·‖_F²",
                        first.energy().stream().map(e -> e.layer() + "." + e.module()).toList(), energy));
            }
        }
        h.table(safeLoraTable());
    }

    private static List<Double> meanEnergy(List<Pipeline.SafeLoraRow> rows, java.util.function.ToDoubleFunction<UpdateEnergy.Row> f) {
        int n = rows.get(0).energy().size();
        List<Double> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int idx = i;
            out.add(rows.stream().mapToDouble(x -> f.applyAsDouble(x.energy().get(idx))).average().orElse(Double.NaN));
        }
        return out;
    }

    Table safeLoraTable() {
        Table t = Table.create("Safe LoRA sweep", StringColumn.create("seed"), DoubleColumn.create("p"),
                StringColumn.create("method"), StringColumn.create("k / τ"), DoubleColumn.create("projected"),
                DoubleColumn.create("norm ratio"), DoubleColumn.create("harmful score"), DoubleColumn.create("complies"),
                DoubleColumn.create("task accuracy"));
        for (Pipeline.SafeLoraRow row : r.safeLora()) {
            for (SafeLoraSweep.Point pt : row.points()) {
                t.stringColumn("seed").append(Long.toString(row.seed()));
                t.doubleColumn("p").append(row.p());
                t.stringColumn("method").append(pt.method().name().toLowerCase().replace('_', '-'));
                t.stringColumn("k / τ").append(SafeLoraSweep.Result.selection(pt));
                t.doubleColumn("projected").append(pt.numProjected());
                t.doubleColumn("norm ratio").append(round(pt.normRatio()));
                t.doubleColumn("harmful score").append(round(pt.harmfulScore()));
                t.doubleColumn("complies").append(round(pt.complianceRate()));
                t.doubleColumn("task accuracy").append(round(pt.taskAccuracy()));
            }
        }
        return t;
    }

    /** An eval spec's n (0 means every held-out prompt, a number this report does not know). */
    private static java.util.OptionalInt n(int configured) {
        return configured > 0 ? java.util.OptionalInt.of(configured) : java.util.OptionalInt.empty();
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
    private List<Double> spread(List<String> models, java.util.function.ToDoubleFunction<Evaluation.Scores> f,
            java.util.OptionalInt n) {
        List<Double> out = new ArrayList<>();
        for (String m : models) {
            List<Double> v = r.models().stream().filter(x -> x.model().equals(m)).map(x -> f.applyAsDouble(x.scores()))
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
        r.models().forEach(m -> {
            if (!names.contains(m.model())) {
                names.add(m.model());
            }
        });
        return names;
    }

    private TreeSet<String> tasks() {
        TreeSet<String> t = new TreeSet<>();
        r.models().forEach(m -> t.addAll(m.scores().accuracy().keySet()));
        return t;
    }

    private List<Double> mean(List<String> models, java.util.function.ToDoubleFunction<Evaluation.Scores> f) {
        List<Double> out = new ArrayList<>();
        for (String m : models) {
            out.add(r.models().stream().filter(x -> x.model().equals(m)).mapToDouble(x -> f.applyAsDouble(x.scores()))
                    .average().orElse(Double.NaN));
        }
        return out;
    }

    Table modelTable() {
        Table t = Table.create("Scores per model and seed",
                StringColumn.create("model"), StringColumn.create("seed"), DoubleColumn.create("harmful score"),
                DoubleColumn.create("complies"));
        for (String task : tasks()) {
            t.addColumns(DoubleColumn.create(task));
        }
        for (Pipeline.ModelRow m : r.models()) {
            t.stringColumn("model").append(m.model());
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
        for (Pipeline.StageRun s : r.stages()) {
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

    private static double[] range(int n) {
        return range(n, 0);
    }

    private static double[] range(int n, int from) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = i + from;
        }
        return x;
    }
}
