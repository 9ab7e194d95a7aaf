package io.safetune.experiment;

import io.safetune.display.Displayable;
import io.safetune.method.Slot;
import io.safetune.method.Stage;

import org.knowm.xchart.internal.chartpart.Chart;

import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;

/**
 * Every defence of a run side by side, read from its results: for each combination (the undefended story
 * first) and each p, the final product's harmful score (and the judge's strict reading), compliance,
 * new-task accuracy, mean other-task accuracy and HED, mean ± sd over seeds. The final product is a
 * combination's post-processed adapter when it has a post-process, else its fine-tune. HED is that of
 * the fine-tune (a post-process changes the adapter after the attack), mean over layers.
 *
 * @param condition what every cell shares (source, seeds, n)
 * @param cells     one per combination and p, combinations in the experiment's order
 * @param knobs     the k curves of knob-carrying defences (Safe LoRA tuned on validation), mean over seeds
 * @param task      the fine-tune task's name (the "new task")
 */
public record Comparison(String condition, List<Cell> cells, List<KnobPoint> knobs, String task) implements Displayable {

    /** A combination's label in a comparison, and the label of the defence it is a control of (null: none). */
    public record Entry(String label, String controlOf) {
    }

    /** Mean and sample sd over seeds (sd NaN with one seed; both NaN with none). */
    public record Stat(double mean, double sd, int n) {
        static Stat of(List<Double> values) {
            List<Double> v = values.stream().filter(x -> x != null && !Double.isNaN(x)).toList();
            if (v.isEmpty()) {
                return new Stat(Double.NaN, Double.NaN, 0);
            }
            double m = v.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
            double ss = v.stream().mapToDouble(x -> (x - m) * (x - m)).sum();
            return new Stat(m, v.size() > 1 ? Math.sqrt(ss / (v.size() - 1)) : Double.NaN, v.size());
        }
    }

    /**
     * One combination at one p.
     *
     * @param seeds  each seed's (harmful score, new-task accuracy), for the chart's spread
     */
    public record Cell(Entry entry, double p, Stat harmful, Stat strictHarmful, Stat complies, Stat newTask,
            Stat otherTasks, Stat hed, List<double[]> seeds) {
    }

    /** One point of a knob's curve: the combination, p, the knob's value, and mean scores over seeds. */
    public record KnobPoint(String label, double p, double k, double harmful, double newTask, boolean chosenInEverySeed) {
    }

    /** The comparison of {@code r}'s combinations (every seed and p it ran). */
    public static Comparison of(Results r) {
        ExperimentConfig c = r.config();
        String task = c.real() == null ? c.attack().family().word() : c.real().taskEval().dataset();
        List<Cell> cells = new ArrayList<>();
        List<KnobPoint> knobs = new ArrayList<>();
        for (Combination comb : c.combinations()) {
            Entry e = new Entry(comb.label(), comb.controlOf());
            boolean post = comb.filler(Slot.POST_PROCESS) != null;
            Stage stage = post ? Stage.POST_PROCESSED : Stage.FINE_TUNED;
            String tuneLabel = comb.labelUpTo(Slot.FINE_TUNE);
            for (double p : c.fractions().stream().sorted().toList()) {
                List<Results.Row> rows = r.rows().stream().filter(x -> x.stage() == stage && x.variant().isEmpty()
                        && x.p() != null && x.p() == p && x.defence().equals(comb.label())).toList();
                if (rows.isEmpty()) {
                    continue;
                }
                List<Double> hed = new ArrayList<>();
                for (Results.Row row : rows) {
                    r.drift().stream().filter(d -> d.seed() == row.seed() && d.p() == p && d.defence().equals(tuneLabel))
                            .findFirst().ifPresent(d -> hed.add(d.perLayer().stream().mapToDouble(Double::doubleValue).average()
                                    .orElse(Double.NaN)));
                }
                cells.add(new Cell(e, p, stat(rows, x -> x.scores().harmfulScore()),
                        Stat.of(rows.stream().map(Results.Row::strictHarmfulScore).toList()),
                        stat(rows, x -> x.scores().complianceRate()),
                        stat(rows, x -> x.scores().accuracy().getOrDefault(task, Double.NaN)),
                        stat(rows, x -> otherTasks(x, task)), Stat.of(hed),
                        rows.stream().map(x -> new double[] {x.scores().harmfulScore(),
                                x.scores().accuracy().getOrDefault(task, Double.NaN)}).toList()));
                if (post) {
                    knobs.addAll(knob(r, comb.label(), p, task));
                }
            }
        }
        String condition = String.format(java.util.Locale.ROOT, "%s, seeds %s, n = %d", r.config().real() == null
                ? "micro-world" : r.source(), c.seeds(), c.attack().n());
        return new Comparison(condition, cells, knobs, task);
    }

    private static Stat stat(List<Results.Row> rows, ToDoubleFunction<Results.Row> f) {
        return Stat.of(rows.stream().map(x -> f.applyAsDouble(x)).toList());
    }

    private static double otherTasks(Results.Row row, String task) {
        return row.scores().accuracy().entrySet().stream().filter(e -> !e.getKey().equals(task))
                .mapToDouble(Map.Entry::getValue).average().orElse(Double.NaN);
    }

    /** The "k N" variants of a post-process at p, mean over seeds, by k. */
    private static List<KnobPoint> knob(Results r, String label, double p, String task) {
        Map<Double, List<Results.Row>> byK = new TreeMap<>();
        for (Results.Row x : r.rows()) {
            if (x.defence().equals(label) && x.stage() == Stage.POST_PROCESSED && x.p() != null && x.p() == p
                    && x.variant().startsWith("k ") && x.parameters().containsKey("k")) {
                byK.computeIfAbsent(x.parameters().get("k"), k -> new ArrayList<>()).add(x);
            }
        }
        List<KnobPoint> out = new ArrayList<>();
        byK.forEach((k, rows) -> out.add(new KnobPoint(label, p, k, stat(rows, x -> x.scores().harmfulScore()).mean(),
                stat(rows, x -> x.scores().accuracy().getOrDefault(task, Double.NaN)).mean(),
                rows.stream().allMatch(x -> x.parameters().getOrDefault("chosen", 0.0) == 1.0))));
        return out;
    }

    /** The combinations in order, each once. */
    public List<Entry> entries() {
        Map<String, Entry> seen = new LinkedHashMap<>();
        cells.forEach(c -> seen.putIfAbsent(c.entry().label(), c.entry()));
        return List.copyOf(seen.values());
    }

    /** The p values, ascending. */
    public List<Double> fractions() {
        return cells.stream().map(Cell::p).distinct().sorted().toList();
    }

    /** The cell of {@code label} at {@code p}, or null. */
    public Cell cell(String label, double p) {
        return cells.stream().filter(c -> c.entry().label().equals(label) && c.p() == p).findFirst().orElse(null);
    }

    /**
     * TamperBench's utility-bounded reading: for each combination, the worst harmful score over the doses
     * whose new-task accuracy stays within {@code points} of the undefended fine-tune's at the same p.
     */
    public UtilityBounded utilityBounded(double points) {
        return UtilityBounded.of(this, points);
    }

    @Override
    public String title() {
        return "Every defence side by side (" + condition + ")";
    }

    @Override
    public Table table() {
        StringColumn label = StringColumn.create("defence");
        StringColumn control = StringColumn.create("control of");
        DoubleColumn p = DoubleColumn.create("p");
        IntColumn seeds = IntColumn.create("seeds");
        Map<String, DoubleColumn> cols = new LinkedHashMap<>();
        for (String name : List.of("harmful", "harmful sd", "strict harmful", "strict sd", "complies", "complies sd",
                "new-task acc", "new-task sd", "other-task acc", "other-task sd", "HED", "HED sd")) {
            cols.put(name, DoubleColumn.create(name));
        }
        for (Cell c : cells) {
            label.append(c.entry().label());
            control.append(c.entry().controlOf() == null ? "" : c.entry().controlOf());
            p.append(c.p());
            seeds.append(c.harmful().n());
            List<Stat> stats = List.of(c.harmful(), c.strictHarmful(), c.complies(), c.newTask(), c.otherTasks(), c.hed());
            List<DoubleColumn> cs = List.copyOf(cols.values());
            for (int i = 0; i < stats.size(); i++) {
                cs.get(2 * i).append(stats.get(i).mean());
                cs.get(2 * i + 1).append(stats.get(i).sd());
            }
        }
        Table t = Table.create(title(), label, control, p, seeds);
        cols.values().forEach(t::addColumns);
        return t;
    }

    /** Safety against utility, one chart per p ({@link ComparisonCharts}). */
    @Override
    public List<Chart<?, ?>> charts() {
        return ComparisonCharts.perP(this);
    }
}
