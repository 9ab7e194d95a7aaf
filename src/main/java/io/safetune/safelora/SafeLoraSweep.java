package io.safetune.safelora;

import io.safetune.display.Charts;
import io.safetune.display.Displayable;

import org.knowm.xchart.internal.chartpart.Chart;

import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Safe LoRA as an experiment, not a single call: project the k least similar weights for k = 1 … all
 * (and every weight under each τ of a sweep), and beside each projection the two controls of
 * {@link SafeLoraControls} on the same weights and at the same total update norm. Each variant is
 * written as a PEFT adapter and handed to a {@link Scorer} (harmful score, compliance, task accuracy);
 * variants that select the same weights are scored once.
 */
public final class SafeLoraSweep {

    private SafeLoraSweep() {
    }

    /** The methods a sweep compares. */
    public enum Method {
        /** The attacked adapter as trained. */
        NONE,
        /** Safe LoRA, number mode: the k least similar weights projected. */
        SAFE_LORA,
        /** Safe LoRA, threshold mode: every weight with cos ≤ τ projected. */
        SAFE_LORA_TAU,
        /** B ← Q Qᵀ B with a random orthonormal Q, on Safe LoRA's weights at that k. */
        RANDOM_PROJECTION,
        /** Every B scaled so the total update norm equals Safe LoRA's at that k. */
        UNIFORM_SCALE
    }

    /**
     * @param ks         the k of number mode (empty: 1 … number of adapted weights)
     * @param taus       the τ of threshold mode (empty: none)
     * @param randomRank rank of the random projector (default 8)
     * @param seed       the random projector's seed
     * @param projector  Safe LoRA's C (the reference's PLAIN by default)
     */
    public record Config(List<Integer> ks, List<Double> taus, int randomRank, long seed, SafeLoraConfig.Projector projector) {
        public Config {
            ks = ks == null ? List.of() : List.copyOf(ks);
            taus = taus == null ? List.of() : List.copyOf(taus);
            projector = projector == null ? SafeLoraConfig.Projector.PLAIN : projector;
            if (randomRank < 1) {
                throw new IllegalArgumentException("randomRank: must be >= 1, got " + randomRank);
            }
            for (int k : ks) {
                if (k < 1) {
                    throw new IllegalArgumentException("ks: every k must be >= 1, got " + k);
                }
            }
        }

        /** k = 1 … all, no τ sweep, random rank 8. */
        public static Config defaults() {
            return new Config(List.of(), List.of(), 8, 0, SafeLoraConfig.Projector.PLAIN);
        }

        public Config withTaus(List<Double> newTaus) {
            return new Config(ks, newTaus, randomRank, seed, projector);
        }
    }

    /** What a scorer measures of one adapter. */
    public record Score(double harmfulScore, double complianceRate, double taskAccuracy) {
    }

    /** Scores one adapter folder (e.g. loads it on the aligned model and evaluates). */
    @FunctionalInterface
    public interface Scorer {
        Score score(Path adapterDir);
    }

    /**
     * One scored variant.
     *
     * @param k            number mode's k (0 for NONE and τ rows)
     * @param tau          threshold mode's τ (NaN otherwise)
     * @param numProjected weights changed
     * @param normRatio    total update norm after / before (√Σ‖ΔW‖² ratio)
     */
    public record Point(Method method, int k, double tau, int numProjected, double normRatio, double harmfulScore,
            double complianceRate, double taskAccuracy, List<String> projected) {
    }

    /**
     * Safe LoRA's analysis (every cosine) and every scored variant.
     *
     * @param condition      what the sweep ran on, for chart titles (e.g. "p = 0.1, seed 0, n = 200 harmful
     *                       prompts"): the sweep itself does not know its attack's p or seed; may be empty
     * @param harmfulPrompts how many harmful prompts scored each variant (0: not known, no error bars)
     * @param taskPrompts    how many task prompts scored each variant (0: not known)
     */
    public record Result(SafeLoraResult analysis, List<Point> points, String condition, int harmfulPrompts,
            int taskPrompts) implements Displayable {

        public Result {
            points = List.copyOf(points);
            condition = condition == null ? "" : condition.strip();
            if (harmfulPrompts < 0 || taskPrompts < 0) {
                throw new IllegalArgumentException("harmfulPrompts, taskPrompts: must be >= 0, got " + harmfulPrompts
                        + ", " + taskPrompts);
            }
        }

        /** A sweep whose prompt counts are not known (its charts carry no error bars). */
        public Result(SafeLoraResult analysis, List<Point> points, String condition) {
            this(analysis, points, condition, 0, 0);
        }

        /** A sweep without a stated condition (add one with {@link #withCondition}). */
        public Result(SafeLoraResult analysis, List<Point> points) {
            this(analysis, points, "");
        }

        /** The same sweep, its charts titled with {@code newCondition}. */
        public Result withCondition(String newCondition) {
            return new Result(analysis, points, newCondition, harmfulPrompts, taskPrompts);
        }

        public List<Point> of(Method m) {
            return points.stream().filter(p -> p.method() == m).toList();
        }

        @Override
        public String title() {
            return "Safe LoRA sweep: harmful score and task accuracy against the number of projected weights" + suffix();
        }

        /** " (condition)" or nothing. */
        private String suffix() {
            return condition.isEmpty() ? "" : " (" + condition + ")";
        }

        /** One row per variant; "k / τ" says k for number mode and τ for threshold mode (never "k = 0" for a τ). */
        @Override
        public Table table() {
            Table t = Table.create(title(), StringColumn.create("method"), StringColumn.create("k / τ"),
                    IntColumn.create("projected"), DoubleColumn.create("norm ratio"), DoubleColumn.create("harmful score"),
                    DoubleColumn.create("complies"), DoubleColumn.create("task accuracy"));
            for (Point p : points) {
                t.stringColumn("method").append(methodName(p.method()));
                t.stringColumn("k / τ").append(selection(p));
                t.intColumn("projected").append(p.numProjected());
                t.doubleColumn("norm ratio").append(p.normRatio());
                t.doubleColumn("harmful score").append(p.harmfulScore());
                t.doubleColumn("complies").append(p.complianceRate());
                t.doubleColumn("task accuracy").append(p.taskAccuracy());
            }
            return t;
        }

        /**
         * Harmful score vs k and task accuracy vs k (separate charts: lower is better for one, higher for
         * the other), safety against utility (one point per variant), and the per-weight cosines.
         */
        @Override
        public List<Chart<?, ?>> charts() {
            Chart<?, ?> cosines = analysis.toChart();
            cosines.setTitle(cosines.getTitle() + suffix());
            return List.of(versusK("harmful score", Point::harmfulScore),
                    versusK("task accuracy", Point::taskAccuracy), tradeOff(), cosines);
        }

        /** {@code metric} against k; the axis says which way is better ("harmful …" lower, else higher). */
        public Chart<?, ?> versusK(String metric, java.util.function.ToDoubleFunction<Point> f) {
            return versusK(metric, metric.startsWith("harmful") || metric.startsWith("compl") ? metric + " (lower is better)"
                    : metric + " (higher is better)", f);
        }

        /**
         * One metric against k for Safe LoRA and the controls (k = 0: the adapter as trained), with a 95%
         * Wilson interval on each point where the number of prompts behind the metric is known.
         */
        public Chart<?, ?> versusK(String metric, String axis, java.util.function.ToDoubleFunction<Point> f) {
            int n = metric.startsWith("harmful") || metric.startsWith("compl") ? harmfulPrompts
                    : metric.startsWith("task") ? taskPrompts : 0;
            Map<String, double[][]> series = new LinkedHashMap<>();
            for (Map.Entry<String, List<Point>> e : byMethod().entrySet()) {
                List<Point> ps = e.getValue();
                double[] y = ps.stream().mapToDouble(f).toArray();
                double[] err = n == 0 ? null : java.util.Arrays.stream(y)
                        .map(v -> io.safetune.eval.Wilson.ofRate(v, n).halfWidthAround(v)).toArray();
                series.put(e.getKey(), new double[][] {ps.stream().mapToDouble(Point::k).toArray(), y, err});
            }
            String bars = n == 0 ? "" : ", bars: 95% Wilson interval";
            return Charts.lines(metric + " vs number of projected weights" + suffix() + bars, "k (weights projected)", axis,
                    series);
        }

        /** Harmful score on x, task accuracy on y: Safe LoRA's k as a line, each control as its own series. */
        public Chart<?, ?> tradeOff() {
            Map<String, double[][]> series = new LinkedHashMap<>();
            for (Map.Entry<String, List<Point>> e : byMethod().entrySet()) {
                series.put(e.getKey(), new double[][] {e.getValue().stream().mapToDouble(Point::harmfulScore).toArray(),
                    e.getValue().stream().mapToDouble(Point::taskAccuracy).toArray()});
            }
            List<Point> taus = of(Method.SAFE_LORA_TAU);
            if (!taus.isEmpty()) {
                series.put("safe-lora (τ)", new double[][] {taus.stream().mapToDouble(Point::harmfulScore).toArray(),
                    taus.stream().mapToDouble(Point::taskAccuracy).toArray()});
            }
            return Charts.tradeOff("Safety vs utility per variant" + suffix(), series);
        }

        /** Safe LoRA and both controls, each starting at the adapter as trained (k = 0), by k. */
        private Map<String, List<Point>> byMethod() {
            Map<String, List<Point>> out = new LinkedHashMap<>();
            List<Point> none = of(Method.NONE);
            for (Method m : List.of(Method.SAFE_LORA, Method.RANDOM_PROJECTION, Method.UNIFORM_SCALE)) {
                List<Point> ps = new ArrayList<>(of(m));
                if (ps.isEmpty()) {
                    continue;
                }
                ps.sort(java.util.Comparator.comparingInt(Point::k));
                ps.addAll(0, none);
                out.put(methodName(m), ps);
            }
            return out;
        }

        /** "k 3", "τ 0.20" or "as trained". */
        public static String selection(Point p) {
            return switch (p.method()) {
                case NONE -> "as trained";
                case SAFE_LORA_TAU -> "τ " + io.safetune.display.Tables.round(p.tau());
                default -> "k " + p.k();
            };
        }

        /** The method as a word: safe-lora, random-projection … */
        public static String methodName(Method m) {
            return m.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
    }

    /**
     * Runs the sweep. Variant adapters are written under {@code workDir} (one folder each) and kept, so a
     * notebook can load any of them.
     */
    public static Result run(Path base, Path aligned, Path adapter, Config cfg, Scorer scorer, Path workDir) {
        SafeLoraResult all = SafeLora.analyze(base, aligned, adapter,
                SafeLoraConfig.number(Integer.MAX_VALUE).withProjector(cfg.projector()));
        long defined = all.weights().stream().filter(w -> w.cosine().isPresent()).count();
        List<Integer> ks = new ArrayList<>(cfg.ks());
        if (ks.isEmpty()) {
            for (int k = 1; k <= defined; k++) {
                ks.add(k);
            }
        }
        Map<String, Score> bySelection = new HashMap<>(); // method + selected weights → score
        List<Point> points = new ArrayList<>();
        Score asTrained = scorer.score(adapter);
        points.add(new Point(Method.NONE, 0, Double.NaN, 0, 1, asTrained.harmfulScore(), asTrained.complianceRate(),
                asTrained.taskAccuracy(), List.of()));
        for (int k : new TreeSet<>(ks)) {
            SafeLoraConfig c = SafeLoraConfig.number(k).withProjector(cfg.projector());
            Path dir = workDir.resolve("safe-lora-k" + k);
            SafeLoraResult r = SafeLora.apply(base, aligned, adapter, c, dir);
            double ratio = SafeLoraControls.matchingScale(r);
            points.add(point(Method.SAFE_LORA, k, Double.NaN, r, ratio, bySelection, scorer, dir));
            Path rand = workDir.resolve("random-projection-k" + k);
            Map<String, Double> shrink = SafeLoraControls.randomProjection(adapter, r.projectedWeights(), cfg.randomRank(),
                    cfg.seed(), rand);
            points.add(point(Method.RANDOM_PROJECTION, k, Double.NaN, r, totalRatio(all, shrink), bySelection, scorer, rand));
            Path scaled = workDir.resolve("uniform-scale-k" + k);
            SafeLoraControls.uniformScale(adapter, ratio, scaled);
            points.add(point(Method.UNIFORM_SCALE, k, Double.NaN, r, ratio, bySelection, scorer, scaled));
        }
        for (double tau : cfg.taus()) {
            SafeLoraConfig c = SafeLoraConfig.threshold(tau).withProjector(cfg.projector());
            Path dir = workDir.resolve(String.format(java.util.Locale.ROOT, "safe-lora-tau%.3f", tau));
            SafeLoraResult r = SafeLora.analyze(base, aligned, adapter, c);
            if (!bySelection.containsKey(Method.SAFE_LORA + ":" + r.projectedWeights())) {
                r = SafeLora.apply(base, aligned, adapter, c, dir); // a new selection: write it to score it
            }
            points.add(point(Method.SAFE_LORA_TAU, 0, tau, r, SafeLoraControls.matchingScale(r), bySelection, scorer, dir));
        }
        return new Result(all, points);
    }

    /** Scores a variant unless the same method already scored the same selection (then reuses it). */
    private static Point point(Method m, int k, double tau, SafeLoraResult r, double ratio, Map<String, Score> cache,
            Scorer scorer, Path dir) {
        Method family = m == Method.SAFE_LORA_TAU ? Method.SAFE_LORA : m;
        Score s = cache.computeIfAbsent(family + ":" + r.projectedWeights(), x -> scorer.score(dir));
        return new Point(m, k, tau, r.numProjected(), ratio, s.harmfulScore(), s.complianceRate(), s.taskAccuracy(),
                r.projectedWeights());
    }

    /** √Σ‖ΔW_after‖² / √Σ‖ΔW‖² when the weights in {@code ratios} shrink by those factors and the rest stay. */
    static double totalRatio(SafeLoraResult all, Map<String, Double> ratios) {
        double before = 0;
        double after = 0;
        for (SafeLoraResult.WeightResult w : all.weights()) {
            double b2 = w.deltaNormBefore() * w.deltaNormBefore();
            double f = ratios.getOrDefault(w.weight(), 1.0);
            before += b2;
            after += b2 * (Double.isNaN(f) ? 1 : f * f);
        }
        return before > 0 ? Math.sqrt(after / before) : 1;
    }
}
