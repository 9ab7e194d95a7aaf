package io.safetune.bench;

import ai.djl.Device;
import ai.djl.pytorch.jni.JniUtils;

import io.safetune.bench.VaccineBenchReport.ShapeResult;
import io.safetune.bench.VaccineBenchReport.VariantResult;
import io.safetune.checkpoint.ModelConfig;
import io.safetune.data.TrainingExample;
import io.safetune.data.microworld.MicroWorld;
import io.safetune.experiment.ExperimentConfig;
import io.safetune.model.CausalLM;
import io.safetune.train.ScheduleType;
import io.safetune.train.StepEvent;
import io.safetune.train.StepFunction;
import io.safetune.train.TrainConfig;
import io.safetune.train.TrainListener;
import io.safetune.train.Trainer;
import io.safetune.vaccine.VaccineSettings;
import io.safetune.vaccine.VaccineStep;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;

/**
 * The speed of Vaccine's step against a plain alignment step (issue #12): on each model shape, the same
 * randomly initialised Llama is aligned with every weight trained (Vaccine's FULL flow, as SFT: AdamW,
 * cosine with 5% warm-up, clipping at 1.0) on the same seeded synthetic batches through the real
 * {@link Trainer}, once per variant: plain ({@link StepFunction#STANDARD}), Vaccine (K = 1, two passes every
 * step), the cheaper variant at each K of {@code refresh} (two passes on steps 0, K, 2K, …), optionally the
 * random control (one pass), and plain again.
 *
 * <p>Timings on these machines drift up to 2× by the hour, so all variants of a shape run in one JVM,
 * interleaved in turns of {@code chunk} steps ({@link Turns}; chunk 0 runs them back to back, one model
 * alive at a time). Plain runs first and last in every round: the two must agree, which shows what
 * resolution the ratios have.
 *
 * <p>Timed window: the last m·L steps, L = lcm(K's) (1 without K's), m = ⌊(steps − warmup)/L⌋, so that it
 * holds whole refresh cycles and every K variant's mean has exactly 1/K two-pass steps: the mean, not the
 * median (which hides the refreshes), is what the targets judge. With 500 steps, warm-up 20 and K = 10, 100:
 * steps 101–500.
 *
 * @param shapes   model shapes, each a separate set of variants
 * @param steps    optimiser steps per variant (500 by default: the "memory flat over 500 steps")
 * @param warmup   steps never timed (≥ 10: RSS is read from step 10 on)
 * @param chunk    steps per turn when interleaving; 0 = each variant to its end in turn
 * @param threads  libtorch intra-op threads (set in every variant's thread)
 * @param refresh  K's of the cheaper variant (each ≥ 2; K = 1 is Vaccine and always runs)
 * @param rho      ρ of every Vaccine variant
 * @param control  also run the random control (ε = ρ·z/‖z‖, one pass)
 * @param seed     of the model's initialisation, the synthetic data and the trainer
 * @param device   where tensors live
 */
public record VaccineBenchmark(List<ModelShape> shapes, int steps, int warmup, int chunk, int threads, List<Integer> refresh,
        double rho, boolean control, long seed, Device device) {

    /** MicroWorldSource.MAX_LENGTH (package-private there): the world's longest sample is 38 tokens. */
    static final int MICRO_WORLD_MAX_LENGTH = 40;

    /** RSS is read at this step and compared with the last. */
    public static final int RSS_FROM_STEP = 10;

    /**
     * One model shape and its batches (synthetic: every example has seqLen tokens, half prompt, half
     * response, so nothing is padded).
     */
    public record ModelShape(String name, int vocab, int hidden, int layers, int heads, int ffn, int seqLen, int batch) {

        public ModelShape {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("name: must not be blank");
            }
            positive("vocab", vocab);
            positive("hidden", hidden);
            positive("layers", layers);
            positive("heads", heads);
            positive("ffn", ffn);
            positive("batch", batch);
            if (hidden % heads != 0) {
                throw new IllegalArgumentException("heads: must divide hidden = " + hidden + ", got " + heads);
            }
            if (seqLen < 2) {
                throw new IllegalArgumentException("seqLen: at least 2 (a prompt and a response token), got " + seqLen);
            }
        }

        public ModelConfig config() {
            return ModelConfig.llama(vocab, hidden, ffn, layers, heads, heads);
        }

        public ModelShape withBatch(int b) {
            return new ModelShape(name, vocab, hidden, layers, heads, ffn, seqLen, b);
        }

        @Override
        public String toString() {
            return String.format("%s: d=%d, %d layers, %d heads, FFN %d, vocab %d, seq %d, batch %d", name, hidden, layers, heads,
                    ffn, vocab, seqLen, batch);
        }
    }

    /** The shapes the issue names. */
    public enum Preset {
        /** The micro-world's model (ExperimentConfig's default) with its alignment stage's batch and sequence length. */
        MICRO_WORLD("micro-world"),
        /** A larger shape: d = 512, 8 layers of 8 heads (head dim 64), FFN 1376 (≈ 8d/3, Llama's rule), vocab 8192, seq 128. */
        D512("d512");

        private final String cliName;

        Preset(String cliName) {
            this.cliName = cliName;
        }

        public String cliName() {
            return cliName;
        }

        public ModelShape shape() {
            return switch (this) {
                case MICRO_WORLD -> {
                    ExperimentConfig.ModelSpec m = ExperimentConfig.ModelSpec.DEFAULT;
                    yield new ModelShape(cliName, MicroWorld.vocabulary().size(), m.hidden(), m.layers(), m.heads(), m.ffn(),
                            MICRO_WORLD_MAX_LENGTH, ExperimentConfig.TrainingSpec.ALIGNED.batchSize());
                }
                case D512 -> new ModelShape(cliName, 8192, 512, 8, 8, 1376, 128, 8);
            };
        }

        /** By its command-line name (micro-world, d512). */
        public static Preset parse(String s) {
            for (Preset p : values()) {
                if (p.cliName.equalsIgnoreCase(s.trim()) || p.name().equalsIgnoreCase(s.trim())) {
                    return p;
                }
            }
            throw new IllegalArgumentException("shapes: unknown shape '" + s + "' (micro-world or d512)");
        }
    }

    /** What a variant's step function is. */
    public enum Kind {
        PLAIN,
        /** Vaccine's adversarial step with K = refreshEvery (1: Vaccine itself). */
        VACCINE,
        /** The random control. */
        RANDOM
    }

    /**
     * One variant of a shape.
     *
     * @param refreshEvery K (VACCINE only; 0 otherwise)
     * @param run          0 for plain's first run, 1 for its second; 0 for the others
     */
    public record Variant(Kind kind, int refreshEvery, int run) {

        public String label() {
            return switch (kind) {
                case PLAIN -> run == 0 ? "plain" : "plain (again)";
                case VACCINE -> refreshEvery == 1 ? "Vaccine (K=1)" : "cheaper, K=" + refreshEvery;
                case RANDOM -> "random control";
            };
        }

        StepFunction stepFunction(double rho, long seed) {
            VaccineSettings s = VaccineSettings.defaults().withRho(rho);
            return switch (kind) {
                case PLAIN -> StepFunction.STANDARD;
                case VACCINE -> new VaccineStep(s.withRefreshEvery(refreshEvery), seed);
                case RANDOM -> new VaccineStep(s.withPerturbation(VaccineSettings.Perturbation.RANDOM), seed);
            };
        }
    }

    public VaccineBenchmark {
        if (shapes == null || shapes.isEmpty()) {
            throw new IllegalArgumentException("shapes: at least one");
        }
        shapes = List.copyOf(shapes);
        refresh = refresh == null ? List.of() : List.copyOf(refresh);
        for (int k : refresh) {
            if (k < 2) {
                throw new IllegalArgumentException("refresh: each K must be >= 2 (K = 1 is Vaccine and always runs), got " + k);
            }
        }
        if (new HashSet<>(refresh).size() != refresh.size()) {
            throw new IllegalArgumentException("refresh: K's must differ, got " + refresh);
        }
        if (warmup < RSS_FROM_STEP) {
            throw new IllegalArgumentException("warmup: at least " + RSS_FROM_STEP + " (RSS is read from step " + RSS_FROM_STEP
                    + " on), got " + warmup);
        }
        long cycle = cycle(refresh);
        if (steps < warmup + cycle) {
            throw new IllegalArgumentException("steps: at least warmup + lcm(K's) = " + warmup + " + " + cycle
                    + " so that the timed window holds a whole refresh cycle, got " + steps);
        }
        if (chunk < 0) {
            throw new IllegalArgumentException("chunk: must be >= 0 (0 = variants back to back), got " + chunk);
        }
        if (threads < 1) {
            throw new IllegalArgumentException("threads: must be >= 1, got " + threads);
        }
        if (!(rho > 0) || !Double.isFinite(rho)) {
            throw new IllegalArgumentException("rho: must be > 0, got " + rho);
        }
        if (device == null) {
            throw new IllegalArgumentException("device: must not be null");
        }
    }

    /** lcm of the K's (1 when there are none): the timed window is a whole number of these. */
    static long cycle(List<Integer> ks) {
        long l = 1;
        for (int k : ks) {
            l = l / gcd(l, k) * k;
        }
        return l;
    }

    private static long gcd(long a, long b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    /** First step (1-based) of the timed window; it ends at the last step. */
    public int windowFirst() {
        long l = cycle(refresh);
        return (int) (steps - (steps - warmup) / l * l + 1);
    }

    /** Per round, in order: plain, Vaccine (K = 1), each K, the control if asked, plain again. */
    public List<Variant> variants() {
        List<Variant> v = new ArrayList<>();
        v.add(new Variant(Kind.PLAIN, 0, 0));
        v.add(new Variant(Kind.VACCINE, 1, 0));
        refresh.forEach(k -> v.add(new Variant(Kind.VACCINE, k, 0)));
        if (control) {
            v.add(new Variant(Kind.RANDOM, 0, 0));
        }
        v.add(new Variant(Kind.PLAIN, 0, 1));
        return v;
    }

    /** Every shape in turn; progress lines go to {@code log}. */
    public VaccineBenchReport run(PrintStream log) {
        long t0 = System.nanoTime();
        List<ShapeResult> out = new ArrayList<>();
        for (ModelShape shape : shapes) {
            out.add(run(shape, log));
        }
        return new VaccineBenchReport(this, out, (System.nanoTime() - t0) / 1e9);
    }

    /** The seeded synthetic set: batch·8 examples of seqLen uniform tokens (the data plan reshuffles them per epoch). */
    static List<TrainingExample> data(ModelShape shape, long seed) {
        Random rng = new Random(seed);
        List<TrainingExample> data = new ArrayList<>();
        for (int i = 0; i < shape.batch() * 8; i++) {
            int[] prompt = new int[shape.seqLen() / 2];
            int[] response = new int[shape.seqLen() - shape.seqLen() / 2];
            Arrays.setAll(prompt, k -> rng.nextInt(shape.vocab()));
            Arrays.setAll(response, k -> rng.nextInt(shape.vocab()));
            data.add(new TrainingExample(prompt, response));
        }
        return data;
    }

    /** The alignment's optimiser (the micro-world's alignment stage: AdamW 5e-4, cosine, 5% warm-up, clip 1.0). */
    TrainConfig training(ModelShape shape) {
        ExperimentConfig.TrainingSpec a = ExperimentConfig.TrainingSpec.ALIGNED;
        return TrainConfig.builder().learningRate(a.learningRate()).weightDecay(a.weightDecay()).warmupRatio(a.warmupRatio())
                .schedule(ScheduleType.COSINE).maxGradNorm(1.0).batchSize(shape.batch()).maxSteps(steps).seed(seed)
                .maxLength(shape.seqLen()).logEvery(steps).build();
    }

    ShapeResult run(ModelShape shape, PrintStream log) {
        List<Variant> variants = variants();
        List<TrainingExample> data = data(shape, seed);
        TrainConfig tc = training(shape);
        Trace[] traces = new Trace[variants.size()];
        long[] parameters = {0};
        List<Turns.Task> tasks = new ArrayList<>();
        for (int i = 0; i < traces.length; i++) {
            Variant v = variants.get(i);
            Trace tr = traces[i] = new Trace(steps);
            tasks.add(turn -> {
                ai.djl.engine.Engine.getInstance(); // libtorch loaded before its thread count is set
                JniUtils.setNumThreads(threads);
                // autograd's grad mode is per thread: DJL turns it off only on the thread that loads the engine, and
                // AdamW's in-place updates of leaf weights are refused where it is on
                JniUtils.setGradMode(false);
                try (CausalLM model = CausalLM.initialize(shape.config(), seed, device)) {
                    model.unfreezeAll(); // FULL flow: every weight trained
                    parameters[0] = model.trainableParameters().values().stream().mapToLong(p -> p.getShape().size()).sum();
                    try (Trainer trainer = new Trainer(model, tc).withStepFunction(v.stepFunction(rho, seed))) {
                        trainer.fit(data, tr.listener(turn, chunk, log, shape.name() + " " + v.label()));
                    }
                }
            });
        }
        log.printf("[bench vaccine] %s; %s variants %s%n", shape, chunk == 0 ? "back to back:" : "in turns of " + chunk + " steps:",
                variants.stream().map(Variant::label).toList());
        Turns.run(tasks, variants.stream().map(v -> shape.name() + "-" + v.label().replaceAll("\\W+", "")).toList());
        int first = windowFirst();
        List<VariantResult> results = new ArrayList<>();
        for (int i = 0; i < traces.length; i++) {
            results.add(traces[i].result(variants.get(i), first));
        }
        return new ShapeResult(shape, parameters[0], first, steps, results);
    }

    /** What one variant's steps took, filled on its own thread and read after {@link Turns#run}. */
    static final class Trace {
        /** Index s = 1-based step: wall ns of step s, RSS after it, RSS just before it, whether it ran two passes, its loss. */
        final long[] ns;
        final long[] rss;
        final long[] rssBefore;
        final boolean[] twoPass;
        final double[] loss;

        Trace(int steps) {
            ns = new long[steps + 1];
            rss = new long[steps + 1];
            rssBefore = new long[steps + 1];
            twoPass = new boolean[steps + 1];
            loss = new double[steps + 1];
        }

        /**
         * Times each step from the end of the previous one (or from this variant's turn starting again) to the
         * trainer's onStep, so that other variants' turns are never counted; passes the turn every chunk steps.
         */
        TrainListener listener(Turns.Turn turn, int chunk, PrintStream log, String label) {
            int total = ns.length - 1;
            return new TrainListener() {
                private long last;
                private long before;

                @Override
                public void onStart(StartEvent e) {
                    before = TrainBenchmark.residentSetBytes();
                    last = System.nanoTime();
                }

                @Override
                public void onStep(StepEvent e) {
                    long now = System.nanoTime();
                    int s = (int) e.step();
                    ns[s] = now - last;
                    rss[s] = TrainBenchmark.residentSetBytes();
                    rssBefore[s] = before;
                    before = rss[s];
                    twoPass[s] = e.metrics().getOrDefault(VaccineStep.TWO_PASS, 0.0) > 0;
                    loss[s] = e.loss();
                    boolean endOfTurn = chunk > 0 && s % chunk == 0 && s < total;
                    if (endOfTurn || s == total || (chunk == 0 && s % 50 == 0)) {
                        log.printf("[bench vaccine] %s: step %d/%d, %.1f ms (last step), loss %.4f, RSS %.0f MB%n", label, s, total,
                                ns[s] / 1e6, loss[s], rss[s] / 1e6);
                    }
                    if (endOfTurn) {
                        turn.pass();
                        before = TrainBenchmark.residentSetBytes();
                    }
                    last = System.nanoTime();
                }
            };
        }

        VariantResult result(Variant v, int first) {
            int last = ns.length - 1;
            double[] window = new double[last - first + 1];
            int twoPassSteps = 0;
            int twoPassInWindow = 0;
            for (int s = 1; s <= last; s++) {
                if (twoPass[s]) {
                    twoPassSteps++;
                    twoPassInWindow += s >= first ? 1 : 0;
                }
                if (s >= first) {
                    window[s - first] = ns[s] / 1e6;
                }
            }
            double mean = Arrays.stream(window).average().orElseThrow();
            Arrays.sort(window);
            int n = window.length;
            double median = n % 2 == 1 ? window[n / 2] : (window[n / 2 - 1] + window[n / 2]) / 2;
            // RSS growth over this variant's own steps after step 10 (the other variants' turns excluded)
            long growth = 0;
            for (int s = RSS_FROM_STEP + 1; s <= last; s++) {
                growth += rss[s] - rssBefore[s];
            }
            return new VariantResult(v, median, mean, twoPassSteps, twoPassInWindow, rss[RSS_FROM_STEP], rss[last], growth,
                    loss[last]);
        }
    }

    private static void positive(String field, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(field + ": must be > 0, got " + v);
        }
    }
}
