package io.safetune.experiment;

import io.safetune.data.TrainingExample;
import io.safetune.eval.DriftSeries;
import io.safetune.experiment.ExperimentConfig.AttackSpec;
import io.safetune.experiment.Source.Scope;
import io.safetune.lora.LoraConfig;
import io.safetune.method.AlignDefence;
import io.safetune.method.AlignInputs;
import io.safetune.method.DefenceConfig;
import io.safetune.method.FineTuneDefence;
import io.safetune.method.FineTuneInputs;
import io.safetune.method.PostProcessDefence;
import io.safetune.method.PostProcessInputs;
import io.safetune.method.PostProcessOutput;
import io.safetune.method.Score;
import io.safetune.method.Scorer;
import io.safetune.method.Slot;
import io.safetune.method.Stage;
import io.safetune.method.TrainLog;
import io.safetune.method.Variant;
import io.safetune.train.ScheduleType;
import io.safetune.train.TrainConfig;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The harmful-fine-tuning story, the same for every defence: align (base → aligned), fine-tune
 * (aligned + the user's data at harmful fraction p → adapter), post-process (base, aligned, adapter →
 * adapter), every product evaluated the same way. {@link #run} goes over defences × p × seeds; each
 * step is a {@link StageStore} stage keyed by (slot, defence, its settings, upstream stages, the
 * source's data and judge), so combinations share the stages they have in common and a second run
 * reuses everything. {@code safetune reproduce} and the lab's notebook steps both call it.
 */
public final class Story {

    /** The post-process stage's record of what it made ({@link PostProcessOutput}). */
    static final String POST_FILE = "post.json";
    /** A scored product's scores without per-sample records; eval.json beside it has them. */
    static final String SUMMARY_FILE = "summary.json";

    private final ExperimentConfig config;
    private final Stages stages;
    private final Source source;
    private final PrintStream out;
    private final Map<String, Stages.Product> made = new HashMap<>();

    /** The story of {@code config} with its stages under {@code runsRoot/<name>/stages}; {@code fresh} redoes them. */
    public Story(ExperimentConfig config, Path runsRoot, boolean fresh, PrintStream out) {
        this(config, runsRoot, fresh, out, true);
    }

    /** The same for a notebook: stages it makes are reported, stages it reuses are not. */
    public static Story forNotebook(ExperimentConfig config, Path runsRoot, PrintStream out) {
        return new Story(config, runsRoot, false, out, false);
    }

    /**
     * The story over stages that are all finished already (a grid's gather): {@link #run} reads them and
     * writes results.json and report.html, and a stage that is not there is an error naming it.
     */
    public static Story gathering(ExperimentConfig config, Path runsRoot, PrintStream out) {
        Path runDir = runsRoot.resolve(config.name());
        return new Story(config, new Stages(StageStore.readOnly(runDir.resolve("stages"), out), runDir, out, false), out);
    }

    private Story(ExperimentConfig config, Path runsRoot, boolean fresh, PrintStream out, boolean sayReused) {
        this(config, new Stages(new StageStore(runsRoot.resolve(config.name()).resolve("stages"), fresh, out),
                runsRoot.resolve(config.name()), out, sayReused), out);
    }

    private Story(ExperimentConfig config, Stages stages, PrintStream out) {
        this.config = config;
        this.stages = stages;
        // a real source checks the checkpoint, manifests and data files here, before any stage runs
        this.source = config.real() == null ? new MicroWorldSource(config, stages) : new RealSource(config, stages);
        this.out = out;
    }

    public ExperimentConfig config() {
        return config;
    }

    public Path runDir() {
        return stages.runDir();
    }

    /** Runs every product of every combination, p and seed, and writes results.json and report.html. */
    public Results run() {
        long t0 = System.nanoTime();
        Collected all = new Collected();
        for (long seed : config.seeds()) {
            out.println("== seed " + seed);
            if (source.scoresBase()) {
                all.base(seed);
            }
            for (Combination c : config.combinations()) {
                all.aligned(seed, c);
                for (double p : config.fractions()) {
                    if (c.runsOn(p)) {
                        all.cell(seed, p, c);
                    }
                }
            }
        }
        java.util.Set<Targets.Labelled> targets = new java.util.LinkedHashSet<>(); // a defence in two combinations counts once
        if (source.checksTargets()) {
            source.targets().forEach(t -> targets.add(new Targets.Labelled("none", t)));
            for (Combination c : config.combinations()) {
                for (Slot s : Slot.values()) {
                    if (c.defended(s)) {
                        c.filler(s).defence().targets().forEach(t -> targets.add(new Targets.Labelled(c.labelUpTo(s), t)));
                    }
                }
            }
        }
        Results results = new Results(config, source.describe(), Versions.all(), all.rows, all.drift, all.defenceStages,
                all.losses, stages.runs(), (System.nanoTime() - t0) / 1e9, Targets.check(all.rows, List.copyOf(targets)));
        write(results);
        return results;
    }

    /** The experiment's units in dependency order: per seed its base, then each aligned model, then every cell. */
    public List<StoryUnit> units() {
        List<StoryUnit> shared = new ArrayList<>();
        List<StoryUnit> cells = new ArrayList<>();
        for (long seed : config.seeds()) {
            String baseId = "base-s" + seed;
            if (source.scoresBase()) {
                shared.add(new StoryUnit(baseId, StoryUnit.Kind.BASE, seed, null, Combination.NONE, List.of()));
            }
            Map<String, String> alignedIds = new LinkedHashMap<>();
            for (Combination c : config.combinations()) {
                String label = c.labelUpTo(Slot.ALIGN);
                String alignedId = alignedIds.get(label);
                if (alignedId == null) {
                    alignedId = fileSafe(label.equals("none") ? "aligned-s" + seed : "aligned-" + label + "-s" + seed);
                    alignedIds.put(label, alignedId);
                    shared.add(new StoryUnit(alignedId, StoryUnit.Kind.ALIGNED, seed, null, c,
                            source.scoresBase() ? List.of(baseId) : List.of()));
                }
                for (double p : config.fractions()) {
                    if (c.runsOn(p)) {
                        String id = fileSafe("cell-" + c.label() + String.format(Locale.ROOT, "-p%.3f-s%d", p, seed));
                        cells.add(new StoryUnit(id, StoryUnit.Kind.CELL, seed, p, c, List.of(alignedId)));
                    }
                }
            }
        }
        List<StoryUnit> all = new ArrayList<>(shared);
        all.addAll(cells);
        if (all.stream().map(StoryUnit::id).distinct().count() != all.size()) {
            throw new IllegalArgumentException("defences: two combinations' labels give the same unit name once made file-safe "
                    + "(name one of them): " + all.stream().map(StoryUnit::id).toList());
        }
        return all;
    }

    /** Makes every stage of {@code unit} (reusing finished ones) and returns the rows it contributes to results.json. */
    public List<Results.Row> make(StoryUnit unit) {
        Collected c = new Collected();
        out.println("== " + unit.id() + ": " + unit.describe());
        switch (unit.kind()) {
            case BASE -> c.base(unit.seed());
            case ALIGNED -> c.aligned(unit.seed(), unit.combination());
            case CELL -> c.cell(unit.seed(), unit.p(), unit.combination());
        }
        return List.copyOf(c.rows);
    }

    private static String fileSafe(String s) {
        return s.replaceAll("[^A-Za-z0-9._-]+", "_");
    }

    /** The rows, drift, post stages and losses of the units run so far, each product once. */
    private final class Collected {
        final List<Results.Row> rows = new ArrayList<>();
        final List<Results.DriftRow> drift = new ArrayList<>();
        final List<Results.DefenceStage> defenceStages = new ArrayList<>();
        final Map<String, List<Double>> losses = new LinkedHashMap<>();
        final List<String> scored = new ArrayList<>();

        void base(long seed) {
            Stages.Product base = Story.this.base(seed).orElseThrow();
            losses.put("base s" + seed, Stages.losses(base.dir()));
            rows.add(row(seed, "none", Stage.BASE, null, base, null));
        }

        void aligned(long seed, Combination c) {
            Stages.Product aligned = Story.this.aligned(seed, c);
            String alignLabel = c.labelUpTo(Slot.ALIGN);
            if (!scored.contains(aligned.name())) {
                scored.add(aligned.name());
                if (Files.isRegularFile(aligned.dir().resolve(TrainLog.FILE))) {
                    losses.put(prefix(alignLabel) + "aligned s" + seed, Stages.losses(aligned.dir()));
                }
                rows.add(row(seed, alignLabel, Stage.ALIGNED, null, aligned, null));
            }
        }

        void cell(long seed, double p, Combination c) {
            Stages.Product aligned = Story.this.aligned(seed, c);
            Stages.Product tuned = fineTuned(seed, p, c);
            String tuneLabel = c.labelUpTo(Slot.FINE_TUNE);
            if (!scored.contains(tuned.name())) {
                scored.add(tuned.name());
                losses.put(prefix(tuneLabel) + String.format(Locale.ROOT, "attack p=%.2f s%d", p, seed), Stages.losses(tuned.dir()));
                rows.add(row(seed, tuneLabel, Stage.FINE_TUNED, p, aligned, tuned));
                drift.add(driftRow(seed, tuneLabel, p, tuned.dir()));
            }
            if (c.filler(Slot.POST_PROCESS) != null) {
                PostProcessed post = postProcessed(seed, p, c);
                defenceStages.add(new Results.DefenceStage(c.label(), c.filler(Slot.POST_PROCESS).method(), seed, p,
                        stages.runDir().relativize(post.stage().dir()).toString()));
                if (post.output().wroteAdapter()) {
                    rows.add(row(seed, c.label(), Stage.POST_PROCESSED, p, aligned, post.stage()));
                }
                for (Variant v : post.output().variants()) {
                    rows.add(new Results.Row(seed, c.label(), Stage.POST_PROCESSED, p, v.label(), v.parameters(),
                            variantScores(v.score()), null));
                }
            }
        }
    }

    private static String prefix(String label) {
        return label.equals("none") ? "" : label + " ";
    }

    /** The row of {@code model} with {@code adapter} on top (null: none), with the strict reading where the judge has one. */
    private Results.Row row(long seed, String defence, Stage stage, Double p, Stages.Product model, Stages.Product adapter) {
        Evaluation.Scores s = scores(seed, model, adapter);
        Double strict = source.strictHarmfulScore(() -> scoresWithSamples(seed, model, adapter)).orElse(null);
        Results.Row row = new Results.Row(seed, defence, stage, p, "", null, s, strict);
        out.printf("   %-18s harmful %.2f  complies %.2f  %s%n", row.name(), s.harmfulScore(), s.complianceRate(), s.accuracy());
        return row;
    }

    private Evaluation.Scores variantScores(Score s) {
        return new Evaluation.Scores(s.harmfulScore(), s.complianceRate(), Map.of(source.task(), s.taskAccuracy()), 0, null, null);
    }

    /** The fine-tuning set at harmful fraction p of {@code seed}, as prompt/response records. */
    public List<io.safetune.data.PromptResponse> attackSet(long seed, double p) {
        return source.attackRecords(p, seed);
    }

    /** HED's inputs on {@code c}'s aligned model. */
    public List<int[]> hedInputs(long seed, Combination c) {
        return source.hedInputs(aligned(seed, c), seed).ids();
    }

    /** Longest training sequence of the source, in tokens. */
    public int maxLength() {
        return source.maxLength();
    }

    /** The unaligned base model of {@code seed} (a stage of the micro-world, a given folder, or none). */
    public Optional<Stages.Product> base(long seed) {
        return source.base(seed);
    }

    /** The aligned model of {@code seed} under {@code c}'s align slot (the given checkpoint on real data). */
    public Stages.Product aligned(long seed, Combination c) {
        Combination.Filler f = c.filler(Slot.ALIGN);
        Optional<Stages.Product> given = source.givenAligned();
        if (given.isPresent()) {
            if (c.defended(Slot.ALIGN)) {
                source.alignmentData(given.get().dir(), seed); // says why a real experiment cannot align
            }
            return given.get();
        }
        Stages.Product base = base(seed).orElseThrow();
        String label = c.labelUpTo(Slot.ALIGN);
        String name = (label.equals("none") ? "aligned" : "aligned-" + label) + "-s" + seed;
        return memo(name, () -> stages.get(name, List.of(Slot.ALIGN.name(), f.method(), f.settings(), source.alignmentKey(seed),
                config.aligned()), dir -> {
                    List<TrainingExample> data = source.alignmentData(base.dir(), seed);
                    AlignInputs in = new AlignInputs(base.dir(), data, fullFineTune(config.aligned(), seed), source.alignFlow(), out);
                    align((AlignDefence<?>) f.defence(), in, f.settings(), dir);
                }, base.hash()));
    }

    /** The adapter fine-tuned at harmful fraction p on {@code c}'s aligned model, by {@code c}'s fine-tune slot. */
    public Stages.Product fineTuned(long seed, double p, Combination c) {
        Stages.Product aligned = aligned(seed, c);
        Combination.Filler f = c.filler(Slot.FINE_TUNE);
        String label = c.labelUpTo(Slot.FINE_TUNE);
        String name = (label.equals("none") ? "attacked" : "attacked-" + label) + String.format(Locale.ROOT, "-p%.3f-s%d", p, seed);
        return memo(name, () -> {
            Source.HedInputs hed = source.hedInputs(aligned, seed);
            AttackSpec a = config.attack();
            return stages.get(name, List.of(Slot.FINE_TUNE.name(), f.method(), f.settings(), source.attackKey(p, seed), a), dir -> {
                List<TrainingExample> data = source.attackSet(aligned.dir(), p, seed, dir);
                TrainConfig training = attackTraining(a, seed, source.maxLength());
                long steps = (long) a.epochs() * ((data.size() + a.batchSize() - 1) / a.batchSize());
                FineTuneInputs in = new FineTuneInputs(aligned.dir(), data, attackLora(a), training,
                        f.method().equals(Defences.defaultName(Slot.FINE_TUNE)) ? List.of() : source.safetyData(aligned, seed), hed.ids(),
                        source.driftEvery(steps), aligned.dir().toString(), out);
                fineTune((FineTuneDefence<?>) f.defence(), in, f.settings(), dir);
            }, aligned.hash(), hed.upstream());
        });
    }

    /** A post-process stage and what it made. */
    public record PostProcessed(Stages.Product stage, PostProcessOutput output) {
    }

    /** {@code c}'s post-process of the adapter fine-tuned at p. */
    public PostProcessed postProcessed(long seed, double p, Combination c) {
        Combination.Filler f = c.filler(Slot.POST_PROCESS);
        if (f == null) {
            throw new IllegalArgumentException(c.label() + ": no post-process");
        }
        Stages.Product aligned = aligned(seed, c);
        Stages.Product tuned = fineTuned(seed, p, c);
        Optional<Stages.Product> base = base(seed);
        String name = "post-" + c.label() + String.format(Locale.ROOT, "-p%.3f-s%d", p, seed);
        List<Object> key = new java.util.ArrayList<>(List.of(Slot.POST_PROCESS.name(), f.method(), f.settings(),
                source.evalKey(Scope.VARIANT)));
        if (f.settings().tunesOnValidation()) {
            key.add(source.evalKey(Scope.VALIDATION)); // only then: other post-processes keep their keys
        }
        Stages.Product stage = memo(name, () -> stages.get(name, key, dir -> {
                    out.printf(Locale.ROOT, "[post-process %s p=%.2f]%n", f.method(), p);
                    try (LazyScorer scorer = new LazyScorer(seed, aligned.dir(), Scope.VARIANT);
                         LazyScorer validation = new LazyScorer(seed, aligned.dir(), Scope.VALIDATION)) {
                        PostProcessInputs in = new PostProcessInputs(base.map(Stages.Product::dir), aligned.dir(), tuned.dir(),
                                seed, scorer, validation, out);
                        Stages.writeJson(dir.resolve(POST_FILE), postProcess((PostProcessDefence<?>) f.defence(), in, f.settings(), dir));
                    }
                }, base.map(Stages.Product::hash).orElse(""), aligned.hash(), tuned.hash()));
        return new PostProcessed(stage, Stages.read(stage.dir().resolve(POST_FILE), PostProcessOutput.class));
    }

    /** The story's scorer for a sweep's variants; loads the aligned model on first use only. */
    private final class LazyScorer implements Scorer, AutoCloseable {
        private final long seed;
        private final Path model;
        private final Scope scope;
        private Source.AdapterScorer scorer;

        LazyScorer(long seed, Path model, Scope scope) {
            this.seed = seed;
            this.model = model;
            this.scope = scope;
        }

        @Override
        public Score score(Path adapterDir) {
            if (scorer == null) {
                scorer = source.adapterScorer(seed, model, scope);
            }
            Evaluation.Scores s = scorer.score(adapterDir);
            String task = source.task();
            return new Score(s.harmfulScore(), s.complianceRate(), s.accuracy().getOrDefault(task, Double.NaN),
                    s.harmfulPrompts().orElse(0), s.taskPrompts(task).orElse(0));
        }

        @Override
        public void close() {
            if (scorer != null) {
                scorer.close();
            }
        }
    }

    /** The scores of {@code model} with {@code adapter} on top (null: none), as an evaluation stage (eval.json, summary.json). */
    public Evaluation.Scores scores(long seed, Stages.Product model, Stages.Product adapter) {
        return Stages.read(evaluated(seed, model, adapter).dir().resolve(SUMMARY_FILE), Evaluation.Scores.class);
    }

    /** The same scores with every answer and verdict (eval.json): what a notebook shows, with n for its error bars. */
    public Evaluation.Scores scoresWithSamples(long seed, Stages.Product model, Stages.Product adapter) {
        return Stages.read(evaluated(seed, model, adapter).dir().resolve("eval.json"), Evaluation.Scores.class);
    }

    private Stages.Product evaluated(long seed, Stages.Product model, Stages.Product adapter) {
        String name = "eval-" + (adapter == null ? model.name() : adapter.name());
        Stages.Product e = memo(name, () -> stages.get(name, source.evalKey(Scope.FULL), dir -> {
            out.println("[eval " + (adapter == null ? model.name() : adapter.name()) + "]");
            Evaluation.Scores s = source.evaluate(seed, model.dir(), adapter == null ? null : adapter.dir(), Scope.FULL);
            Stages.writeJson(dir.resolve("eval.json"), s);
            Stages.writeJson(dir.resolve(SUMMARY_FILE), s.summary());
        }, model.hash(), adapter == null ? "" : adapter.hash()));
        return e;
    }

    private Stages.Product memo(String name, java.util.function.Supplier<Stages.Product> make) {
        Stages.Product p = made.get(name);
        if (p == null) {
            p = make.get();
            made.put(name, p);
        }
        return p;
    }

    /** The HED row of a fine-tune stage, from its drift.json. */
    private static Results.DriftRow driftRow(long seed, String defence, double p, Path dir) {
        DriftSeries series = Stages.read(dir.resolve(FineTuneDefence.DRIFT_FILE), DriftSeries.class);
        var last = series.points().get(series.points().size() - 1).drift();
        return new Results.DriftRow(seed, defence, p, last.perLayer(), series.steps(), series.aggregateValues());
    }

    /** The full fine-tuning optimiser of alignment: AdamW, cosine decay, clipping at 1.0. */
    TrainConfig fullFineTune(ExperimentConfig.TrainingSpec t, long seed) {
        return TrainConfig.builder().learningRate(t.learningRate()).weightDecay(t.weightDecay())
                .warmupRatio(t.warmupRatio()).schedule(ScheduleType.COSINE).maxGradNorm(1.0)
                .batchSize(t.batchSize()).maxSteps(t.steps()).seed(seed).maxLength(source.maxLength()).logEvery(50).build();
    }

    /** The fine-tune's LoRA settings: r, α, dropout and target modules, every layer. */
    public static LoraConfig attackLora(AttackSpec a) {
        return new LoraConfig(a.r(), a.alpha(), a.dropout(), a.targets(), List.of(), false);
    }

    /** The fine-tune's optimiser: AdamW with cosine decay and clipping at 1.0. */
    public static TrainConfig attackTraining(AttackSpec a, long seed, int maxLength) {
        return TrainConfig.builder().learningRate(a.learningRate()).schedule(ScheduleType.COSINE)
                .maxGradNorm(1.0).batchSize(a.batchSize()).epochs(a.epochs()).seed(seed).maxLength(maxLength)
                .logEvery(20).build();
    }

    @SuppressWarnings("unchecked")
    private static <C extends DefenceConfig> void align(AlignDefence<C> d, AlignInputs in, DefenceConfig c, Path out) throws Exception {
        d.align(in, (C) c, out);
    }

    @SuppressWarnings("unchecked")
    private static <C extends DefenceConfig> void fineTune(FineTuneDefence<C> d, FineTuneInputs in, DefenceConfig c, Path out)
            throws Exception {
        d.fineTune(in, (C) c, out);
    }

    @SuppressWarnings("unchecked")
    private static <C extends DefenceConfig> PostProcessOutput postProcess(PostProcessDefence<C> d, PostProcessInputs in,
            DefenceConfig c, Path out) throws Exception {
        return d.postProcess(in, (C) c, out);
    }

    private void write(Results results) {
        try {
            Files.createDirectories(stages.runDir());
            Stages.writeJson(stages.runDir().resolve("results.json"), results);
            new RunReport(results).in(stages.runDir()).html().write(stages.runDir().resolve("report.html"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
