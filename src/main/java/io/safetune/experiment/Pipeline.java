package io.safetune.experiment;

import io.safetune.data.microworld.MicroWorld;
import io.safetune.data.microworld.MicroWorldConfig;
import io.safetune.data.microworld.MicroWorldData;
import io.safetune.data.microworld.MicroWorldJudge;
import io.safetune.data.microworld.Sample;
import io.safetune.lora.LoraAdapter;
import io.safetune.lab.MicroWorldLab;
import io.safetune.model.CausalLM;
import io.safetune.safelora.SafeLoraResult;
import io.safetune.safelora.SafeLoraSweep;
import io.safetune.safelora.UpdateEnergy;
import io.safetune.tokenizer.TextTokenizer;
import io.safetune.train.TrainingExample;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * {@code safetune reproduce}: the micro-world pipeline, base → aligned → attacked (each p), every
 * model evaluated, Harmful Embedding Drift of each attack, per seed; then results.json and
 * report.html in runs/&lt;name&gt;/. Finished stages are reused (keyed by a hash of their
 * configuration and of the stages below them); {@code fresh} redoes them.
 */
public final class Pipeline {

    private final ExperimentConfig config;
    private final Path runDir;
    private final StageStore store;
    private final PrintStream out;

    public Pipeline(ExperimentConfig config, Path runsRoot, boolean fresh, PrintStream out) {
        this.config = config;
        this.runDir = runsRoot.resolve(config.name());
        this.store = new StageStore(runDir.resolve("stages"), fresh, out);
        this.out = out;
    }

    /** What one stage did in this run. */
    public record StageRun(String stage, String hash, String dir, boolean reused, double seconds) {
    }

    /**
     * One model's scores (summary) under a name such as "aligned" or "attacked p=0.10".
     *
     * @param p the attack's harmful fraction; null for the base and aligned models
     */
    public record ModelRow(long seed, String model, Double p, Evaluation.Scores scores) {
    }

    /** Harmful Embedding Drift of an attacked model against its aligned start, per layer and over steps. */
    public record DriftRow(long seed, double p, List<Double> perLayer, List<Long> steps, List<Double> overSteps) {
    }

    /**
     * Safe LoRA on one attacked adapter: every variant of the sweep (Safe LoRA at k = 1 … all, the τ
     * sweep, both controls), the per-weight cosines and the energy diagnostic.
     */
    public record SafeLoraRow(long seed, double p, List<SafeLoraSweep.Point> points,
            List<Cosine> cosines, List<UpdateEnergy.Row> energy) {
    }

    /** One adapted weight's cos(C·B·A, B·A) (null when undefined). */
    public record Cosine(int layer, String module, Double cosine) {
        public static List<Cosine> of(SafeLoraResult r) {
            return r.weights().stream().map(w -> new Cosine(w.layer(), w.module(),
                    w.cosine().isPresent() ? w.cosine().getAsDouble() : null)).toList();
        }
    }

    /** Everything results.json holds. */
    public record Results(ExperimentConfig config, Map<String, String> versions, List<ModelRow> models,
            List<DriftRow> drift, List<SafeLoraRow> safeLora, Map<String, List<Double>> losses, List<StageRun> stages,
            double wallSeconds, List<Targets.Check> targets) {
    }

    public Results run() {
        if (config.real() != null) {
            Results results = new RealPipeline(config, store, runDir, out).run();
            write(results);
            return results;
        }
        long t0 = System.nanoTime();
        List<ModelRow> rows = new ArrayList<>();
        List<DriftRow> drift = new ArrayList<>();
        List<SafeLoraRow> safeLora = new ArrayList<>();
        List<StageRun> runs = new ArrayList<>();
        Map<String, List<Double>> losses = new LinkedHashMap<>();
        LinkedHashSet<Double> fractions = new LinkedHashSet<>(config.attackFractions());
        fractions.addAll(config.dose());
        for (long seed : config.seeds()) {
            out.println("== seed " + seed);
            MicroWorldLab lab = new MicroWorldLab(config, seed, (name, cfg, producer, upstream) -> timed(runs, name, cfg,
                    producer, upstream), out);
            MicroWorldData world = lab.world();
            Path baseDir = lab.base();
            Path alignedDir = lab.aligned();
            losses.put("base s" + seed, trainLosses(baseDir));
            losses.put("aligned s" + seed, trainLosses(alignedDir));
            rows.add(evaluate(runs, seed, "base", null, baseDir, lab.baseHash(), null, world));
            rows.add(evaluate(runs, seed, "aligned", null, alignedDir, lab.alignedHash(), null, world));
            for (double p : fractions) {
                StageStore.Stage attacked = lab.attackedStage(p);
                losses.put(String.format("attack p=%.2f s%d", p, seed), trainLosses(attacked.dir()));
                rows.add(evaluate(runs, seed, String.format("attacked p=%.2f", p), p, alignedDir, lab.alignedHash(),
                        attacked, world));
                drift.add(driftRow(seed, p, attacked.dir()));
                if (config.safeLoraFractions().contains(p)) {
                    safeLora.add(safeLora(lab, p));
                }
            }
        }
        double wall = (System.nanoTime() - t0) / 1e9;
        List<Targets.Check> checks = new ArrayList<>(Targets.check(rows, config));
        checks.addAll(Targets.checkSafeLora(safeLora));
        Results results = new Results(config, Versions.all(), rows, drift, safeLora, losses, runs, wall, checks);
        write(results);
        return results;
    }

    /** The Safe LoRA stage of one attacked adapter (see {@link MicroWorldLab#safeLoraStage}), read back. */
    private SafeLoraRow safeLora(MicroWorldLab lab, double p) {
        StageStore.Stage stage = lab.safeLoraStage(p);
        String task = Stages.family(config.attack().task()).word();
        try {
            SafeLoraRow row = Stages.JSON.readValue(stage.dir().resolve("sweep.json").toFile(), SafeLoraRow.class);
            row.points().stream().filter(x -> x.method() == SafeLoraSweep.Method.SAFE_LORA)
                    .reduce((x, y) -> y).ifPresent(all -> out.printf(
                            "   safe lora p=%.2f, all %d weights projected: harmful %.2f  complies %.2f  %s %.2f%n", p,
                            all.numProjected(), all.harmfulScore(), all.complianceRate(), task, all.taskAccuracy()));
            return row;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * What the base stage's data depends on: the world's pretraining split is drawn from its own random
     * streams and never from the alignment, attack or task sizes ({@link MicroWorld}), so changing those must not
     * retrain base. {@code world} is {@link MicroWorld#version()}: a changed word or template retrains.
     */
    public record PretrainingKey(String world, long seed, int pretrainBenign, int pretrainHarmful, int evalPerTask, int evalHarmful,
            double heldOutFillerFraction, double heldOutTemplateFraction) {
    }

    public static PretrainingKey pretrainingKey(MicroWorldConfig w) {
        return new PretrainingKey(MicroWorld.version(), w.seed(), w.pretrainBenign(), w.pretrainHarmful(), w.evalPerTask(), w.evalHarmful(),
                w.heldOutFillerFraction(), w.heldOutTemplateFraction());
    }

    private ModelRow evaluate(List<StageRun> runs, long seed, String name, Double p, Path modelDir, String modelHash,
            StageStore.Stage adapter, MicroWorldData world) {
        String key = name.replace(' ', '-').replace("=", "");
        StageStore.Stage eval = timed(runs, "eval-" + key + "-s" + seed, List.of(config.eval(), MicroWorldJudge.VERSION), dir -> {
            out.println("[eval " + name + "] " + world.evalHarmful().size() + " harmful prompts, tasks");
            try (TextTokenizer tok = TextTokenizer.load(modelDir); CausalLM m = CausalLM.load(modelDir);
                    LoraAdapter a = adapter == null ? null : LoraAdapter.load(m, adapter.dir())) {
                Evaluation.Scores s = Evaluation.run(m, tok, world, config.eval());
                Stages.writeJson(dir.resolve("eval.json"), s);
                Stages.writeJson(dir.resolve("summary.json"), s.summary());
            }
        }, modelHash, adapter == null ? "" : adapter.hash());
        try {
            Evaluation.Scores s = Stages.JSON.readValue(eval.dir().resolve("summary.json").toFile(), Evaluation.Scores.class);
            out.printf("   %-18s harmful %.2f  complies %.2f  %s%n", name, s.harmfulScore(), s.complianceRate(), s.accuracy());
            return new ModelRow(seed, name, p, s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The first {@code n} harmful prompts of the alignment set with their refusals, as token ids. */
    public static List<int[]> hedInputs(Path alignedDir, MicroWorldData world, int n) {
        try (TextTokenizer tok = TextTokenizer.load(alignedDir)) {
            List<Sample> refusals = world.alignment().stream().filter(Sample::harmful)
                    .limit(n).toList();
            List<int[]> ids = new ArrayList<>();
            for (TrainingExample e : Stages.encode(tok, refusals)) {
                int[] all = java.util.Arrays.copyOf(e.promptIds(), e.promptIds().length + e.responseIds().length);
                System.arraycopy(e.responseIds(), 0, all, e.promptIds().length, e.responseIds().length);
                ids.add(all);
            }
            return ids;
        }
    }

    /** The HED row of an attack stage, from its drift.json (shared with {@link RealPipeline}). */
    static DriftRow driftRow(long seed, double p, Path attackedDir) {
        try {
            var series = Stages.JSON.readValue(attackedDir.resolve("drift.json").toFile(), io.safetune.eval.DriftSeries.class);
            var last = series.points().get(series.points().size() - 1).drift();
            return new DriftRow(seed, p, last.perLayer(), series.steps(), series.aggregateValues());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The loss curve of a training stage, from its train.json (shared with {@link RealPipeline}). */
    static List<Double> trainLosses(Path stageDir) {
        try {
            return Stages.JSON.readValue(stageDir.resolve("train.json").toFile(), Stages.TrainLog.class).losses();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private StageStore.Stage timed(List<StageRun> runs, String name, Object cfg, StageStore.Producer producer,
            String... upstream) {
        return timed(store, runDir, out, runs, name, cfg, producer, upstream);
    }

    /**
     * Gets or produces a stage, prints whether it was reused or how long it took, and records it in
     * {@code runs} (shared with {@link RealPipeline}).
     */
    static StageStore.Stage timed(StageStore store, Path runDir, PrintStream out, List<StageRun> runs, String name,
            Object cfg, StageStore.Producer producer, String... upstream) {
        long t0 = System.nanoTime();
        StageStore.Stage s = store.getOrProduce(name, cfg, producer, upstream);
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (s.reused()) {
            out.println("   (" + name + ": reused " + runDir.relativize(s.dir()) + ")");
        } else {
            out.printf("   (%s: %.1f s)%n", name, seconds);
        }
        runs.add(new StageRun(name, s.hash(), runDir.relativize(s.dir()).toString(), s.reused(), seconds));
        return s;
    }

    private void write(Results results) {
        try {
            Files.createDirectories(runDir);
            Stages.writeJson(runDir.resolve("results.json"), results);
            new RunReport(results).html().write(runDir.resolve("report.html"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path runDir() {
        return runDir;
    }
}
