package io.safetune.safelora;

import io.safetune.display.Charts;
import io.safetune.display.Displayable;
import io.safetune.method.StageOutput;

import org.knowm.xchart.internal.chartpart.Chart;

import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;

/**
 * The sweep's report over seeds for one attack: harmful score and task accuracy against k for Safe LoRA
 * and both controls (mean ± sd over seeds), safety against utility, the per-weight cosines (one bar per
 * seed) and the energy diagnostic, and every point in a table.
 */
final class SweepReport {

    private SweepReport() {
    }

    /**
     * @param stages    the sweep stages of one p, one per seed
     * @param condition "p = 0.1, seeds [0, 1]" (the report's words); the prompt counts are added here
     */
    static Displayable of(List<StageOutput> stages, String condition) {
        List<StageOutput> sorted = stages.stream().sorted(Comparator.comparingLong(StageOutput::seed)).toList();
        List<SafeLoraSweepDefence.Record> rows = sorted.stream().map(s -> SafeLoraSweepDefence.Record.read(s.dir())).toList();
        int n = rows.get(0).harmfulPrompts();
        String cond = condition + ", " + (n > 0 ? "n = " + n + " harmful prompts" : "all held-out harmful prompts") + " per variant";
        String spread = rows.size() > 1 ? ", mean ± sd" : "";
        List<Chart<?, ?>> charts = new ArrayList<>();
        Map<String, double[][]> tradeOff = new LinkedHashMap<>();
        for (String metric : List.of("harmful score", "task accuracy")) {
            Map<String, double[][]> series = new LinkedHashMap<>();
            for (SafeLoraSweep.Method m : List.of(SafeLoraSweep.Method.SAFE_LORA, SafeLoraSweep.Method.RANDOM_PROJECTION,
                    SafeLoraSweep.Method.UNIFORM_SCALE)) {
                TreeMap<Integer, List<Double>> byK = new TreeMap<>();
                for (SafeLoraSweepDefence.Record row : rows) {
                    for (SafeLoraSweep.Point pt : row.points()) {
                        if (pt.method() == m || pt.method() == SafeLoraSweep.Method.NONE) {
                            byK.computeIfAbsent(pt.k(), k -> new ArrayList<>())
                                    .add(metric.startsWith("harmful") ? pt.harmfulScore() : pt.taskAccuracy());
                        }
                    }
                }
                series.put(SafeLoraSweep.Result.methodName(m), new double[][] {
                    byK.keySet().stream().mapToDouble(Integer::doubleValue).toArray(),
                    byK.values().stream().mapToDouble(v -> v.stream().mapToDouble(Double::doubleValue).average().orElse(0)).toArray(),
                    byK.values().stream().mapToDouble(SweepReport::sd).toArray()});
            }
            charts.add(Charts.lines(metric + " vs weights projected (" + cond + spread + ")", "k (weights projected)",
                    metric.startsWith("harmful") ? Charts.HARM_AXIS : "task " + Charts.UTILITY_AXIS, series));
            series.forEach((name, xy) -> tradeOff.merge(name, new double[][] {xy[1]},
                    (harm, acc) -> new double[][] {harm[0], acc[0]}));
        }
        charts.add(Charts.tradeOff("Safety vs utility per variant, Safe LoRA by k (" + cond + (rows.size() > 1 ? ", means" : "")
                + ")", tradeOff));
        SafeLoraSweepDefence.Record first = rows.get(0);
        Map<String, List<Double>> cos = new LinkedHashMap<>();
        for (int i = 0; i < rows.size(); i++) {
            cos.put("seed " + sorted.get(i).seed(), rows.get(i).cosines().stream().map(c -> c.cosine() == null ? 0.0 : c.cosine()).toList());
        }
        charts.add(Charts.bars("cos(C·B·A, B·A) per weight, one bar per seed; at k the k lowest are projected (" + cond + ")",
                "layer.module", "cosine with the alignment direction",
                first.cosines().stream().map(c -> c.layer() + "." + c.module()).toList(), cos));
        if (!first.energy().isEmpty()) {
            Map<String, List<Double>> energy = new LinkedHashMap<>();
            energy.put("update (mean over seeds)", meanEnergy(rows, UpdateEnergy.Row::updateShare));
            energy.put("V itself", meanEnergy(rows, UpdateEnergy.Row::alignmentShare));
            energy.put("random subspace", meanEnergy(rows, UpdateEnergy.Row::randomShare));
            charts.add(Charts.bars(String.format(Locale.ROOT, "Share of energy in V's top-%d directions (%s)", first.energyTopK(), cond),
                    "layer.module", "share of ‖·‖_F²", first.energy().stream().map(e -> e.layer() + "." + e.module()).toList(),
                    energy));
        }
        return Displayable.of("Safe LoRA sweep (" + cond + ")", table(sorted, rows), charts);
    }

    private static Table table(List<StageOutput> stages, List<SafeLoraSweepDefence.Record> rows) {
        Table t = Table.create("Safe LoRA sweep", StringColumn.create("seed"), DoubleColumn.create("p"),
                StringColumn.create("method"), StringColumn.create("k / τ"), DoubleColumn.create("projected"),
                DoubleColumn.create("norm ratio"), DoubleColumn.create("harmful score"), DoubleColumn.create("complies"),
                DoubleColumn.create("task accuracy"));
        for (int i = 0; i < rows.size(); i++) {
            for (SafeLoraSweep.Point pt : rows.get(i).points()) {
                t.stringColumn("seed").append(Long.toString(stages.get(i).seed()));
                t.doubleColumn("p").append(stages.get(i).p());
                t.stringColumn("method").append(SafeLoraSweep.Result.methodName(pt.method()));
                t.stringColumn("k / τ").append(SafeLoraSweep.Result.selection(pt));
                t.doubleColumn("projected").append(pt.numProjected());
                t.doubleColumn("norm ratio").append(pt.normRatio());
                t.doubleColumn("harmful score").append(pt.harmfulScore());
                t.doubleColumn("complies").append(pt.complianceRate());
                t.doubleColumn("task accuracy").append(pt.taskAccuracy());
            }
        }
        return t;
    }

    private static List<Double> meanEnergy(List<SafeLoraSweepDefence.Record> rows, ToDoubleFunction<UpdateEnergy.Row> f) {
        int n = rows.get(0).energy().size();
        List<Double> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int idx = i;
            out.add(rows.stream().mapToDouble(x -> f.applyAsDouble(x.energy().get(idx))).average().orElse(Double.NaN));
        }
        return out;
    }

    static double sd(List<Double> v) {
        double m = v.stream().mapToDouble(Double::doubleValue).average().orElse(0);
        return v.size() < 2 ? 0 : Math.sqrt(v.stream().mapToDouble(d -> (d - m) * (d - m)).sum() / (v.size() - 1));
    }
}
