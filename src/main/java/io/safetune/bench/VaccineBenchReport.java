package io.safetune.bench;

import io.safetune.bench.VaccineBenchmark.Kind;
import io.safetune.bench.VaccineBenchmark.ModelShape;
import io.safetune.bench.VaccineBenchmark.Variant;

import java.util.ArrayList;
import java.util.List;

/**
 * What {@code safetune bench vaccine} measured, and the targets judged on it.
 *
 * @param bench   the benchmark's settings
 * @param shapes  one result per shape
 * @param seconds wall time of the whole run
 */
public record VaccineBenchReport(VaccineBenchmark bench, List<ShapeResult> shapes, double seconds) {

    /** Vaccine's mean step against plain's (the reference measured 1.97× on an A100). */
    public static final double VACCINE_LIMIT = 1.9;
    /** The cheaper variant at K = 100 against plain. */
    public static final double K100_LIMIT = 1.05;
    /** The K the cheaper variant's target is set for. */
    public static final int TARGET_K = 100;
    /**
     * RSS growth over a variant's own steps 11..N, as a share of RSS at its step 10. The launcher's
     * -Xmn8m keeps the JVM heap from warming up over the run (docs/benchmarks.md); what is left is
     * glibc and libtorch's allocator settling, a few MB.
     */
    public static final double RSS_LIMIT = 0.05;

    public VaccineBenchReport {
        shapes = List.copyOf(shapes);
    }

    /**
     * One variant of one shape.
     *
     * @param medianMs        median step over the timed window
     * @param meanMs          mean step over the timed window (whole refresh cycles)
     * @param twoPassSteps    steps of the whole run that ran both passes
     * @param twoPassInWindow of those, in the timed window
     * @param rssStep10       process RSS after its step 10
     * @param rssLast         process RSS after its last step
     * @param rssGrowthBytes  RSS change summed over its own steps 11..N (others' turns excluded)
     * @param finalLoss       the last step's loss
     */
    public record VariantResult(Variant variant, double medianMs, double meanMs, int twoPassSteps, int twoPassInWindow,
            long rssStep10, long rssLast, long rssGrowthBytes, double finalLoss) {

        public double rssGrowth() {
            return (double) rssGrowthBytes / rssStep10;
        }
    }

    /**
     * Every variant of one shape.
     *
     * @param parameters  trainable parameters (all of the model's)
     * @param windowFirst first step of the timed window (1-based)
     * @param windowLast  its last step (the run's last)
     */
    public record ShapeResult(ModelShape shape, long parameters, int windowFirst, int windowLast, List<VariantResult> variants) {

        public ShapeResult {
            variants = List.copyOf(variants);
        }

        private List<VariantResult> plains() {
            return variants.stream().filter(v -> v.variant().kind() == Kind.PLAIN).toList();
        }

        /** Plain's mean step: the two plain runs' means averaged (same window length, so the pooled mean). */
        public double plainMeanMs() {
            return plains().stream().mapToDouble(VariantResult::meanMs).average().orElseThrow();
        }

        /** Plain's median step: the two plain runs' medians averaged. */
        public double plainMedianMs() {
            return plains().stream().mapToDouble(VariantResult::medianMs).average().orElseThrow();
        }

        /** Plain's second run against its first (1 when nothing drifted): the ratios' resolution. */
        public double plainDrift() {
            List<VariantResult> p = plains();
            return p.get(p.size() - 1).meanMs() / p.get(0).meanMs();
        }

        public VariantResult variant(Kind kind, int refreshEvery) {
            return variants.stream().filter(v -> v.variant().kind() == kind && v.variant().refreshEvery() == refreshEvery)
                    .findFirst().orElse(null);
        }

        List<Target> targets() {
            List<Target> t = new ArrayList<>();
            VariantResult vaccine = variant(Kind.VACCINE, 1);
            t.add(new Target(TargetKind.VACCINE_MEAN, shape.name(), vaccine.variant().label(), vaccine.meanMs() / plainMeanMs(),
                    VACCINE_LIMIT));
            VariantResult k100 = variant(Kind.VACCINE, TARGET_K);
            if (k100 != null) {
                t.add(new Target(TargetKind.K100_MEAN, shape.name(), k100.variant().label(), k100.meanMs() / plainMeanMs(),
                        K100_LIMIT));
            }
            for (VariantResult v : variants) {
                t.add(new Target(TargetKind.RSS_GROWTH, shape.name(), v.variant().label(), v.rssGrowth(), RSS_LIMIT));
            }
            return t;
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format("%s; %.2fM parameters, all trained (AdamW)%n", shape, parameters / 1e6));
            sb.append(String.format("timed window: steps %d-%d (%d steps, whole refresh cycles); plain = mean of its two runs%n",
                    windowFirst, windowLast, windowLast - windowFirst + 1));
            sb.append(String.format("%-16s %9s %10s %7s %10s %7s %9s %9s %14s %9s%n", "variant", "two-pass", "median ms",
                    "x plain", "mean ms", "x plain", "RSS @10", "RSS last", "growth (own)", "loss"));
            for (VariantResult v : variants) {
                sb.append(String.format("%-16s %4d (%3d) %10.1f %6.3fx %10.1f %6.3fx %6.0f MB %6.0f MB %+6.1f MB %+5.1f%% %9.4f%n",
                        v.variant().label(), v.twoPassSteps(), v.twoPassInWindow(), v.medianMs(), v.medianMs() / plainMedianMs(),
                        v.meanMs(), v.meanMs() / plainMeanMs(), v.rssStep10() / 1e6, v.rssLast() / 1e6, v.rssGrowthBytes() / 1e6,
                        100 * v.rssGrowth(), v.finalLoss()));
            }
            List<VariantResult> p = plains();
            sb.append(String.format("two-pass: steps of the run (in the window). plain again / plain: mean %.3fx; final losses %s%n",
                    plainDrift(), p.get(0).finalLoss() == p.get(p.size() - 1).finalLoss() ? "equal" : "differ"));
            sb.append(String.format("RSS: the process's, after the variant's step %d and its last; growth (own) sums the change "
                    + "over its own steps %d..%d only (interleaved, the other variants' models live in between)%n",
                    VaccineBenchmark.RSS_FROM_STEP, VaccineBenchmark.RSS_FROM_STEP + 1, windowLast));
            return sb.toString();
        }
    }

    /** The targets. */
    public enum TargetKind {
        VACCINE_MEAN("mean step <= %.2fx plain's"),
        K100_MEAN("mean step <= %.2fx plain's"),
        RSS_GROWTH("RSS growth, own steps 11..N, <= %.0f%%");

        private final String format;

        TargetKind(String format) {
            this.format = format;
        }
    }

    /** One target on one shape: {@code measured <= limit}. */
    public record Target(TargetKind kind, String shape, String subject, double measured, double limit) {

        public boolean passed() {
            return measured <= limit;
        }

        @Override
        public String toString() {
            boolean pct = kind == TargetKind.RSS_GROWTH;
            String what = String.format(kind.format, pct ? 100 * limit : limit);
            String got = pct ? String.format("%+.1f%%", 100 * measured) : String.format("%.3fx", measured);
            return String.format("%s  %s, %s: %s (measured %s)", passed() ? "PASS" : "FAIL", shape, subject, what, got);
        }
    }

    public List<Target> targets() {
        return shapes.stream().flatMap(s -> s.targets().stream()).toList();
    }

    public boolean passed() {
        return targets().stream().allMatch(Target::passed);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("steps %d (warm-up %d), %s, threads %d, device %s, rho %s, seed %d%n", bench.steps(), bench.warmup(),
                bench.chunk() == 0 ? "variants back to back" : "variants in turns of " + bench.chunk() + " steps", bench.threads(),
                bench.device(), bench.rho(), bench.seed()));
        for (ShapeResult s : shapes) {
            sb.append(System.lineSeparator()).append(s);
        }
        sb.append(System.lineSeparator());
        targets().forEach(t -> sb.append(t).append(System.lineSeparator()));
        sb.append(String.format("%s in %.0f s", passed() ? "all targets met" : "a target was missed", seconds));
        return sb.toString();
    }
}
