package io.safetune.lab;

import io.safetune.data.PromptResponse;
import io.safetune.data.microworld.MicroWorld;
import io.safetune.data.microworld.MicroWorldConfig;
import io.safetune.data.microworld.MicroWorldData;
import io.safetune.data.microworld.MicroWorldJudge;
import io.safetune.data.microworld.Sample;
import io.safetune.data.microworld.TaskFamily;
import io.safetune.eval.DriftConfig;
import io.safetune.eval.DriftResult;
import io.safetune.eval.DriftSeries;
import io.safetune.eval.EmbeddingDrift;
import io.safetune.experiment.Evaluation;
import io.safetune.experiment.ExperimentConfig;
import io.safetune.experiment.Pipeline;
import io.safetune.experiment.StageStore;
import io.safetune.experiment.Stages;
import io.safetune.lora.LoraAdapter;
import io.safetune.lora.LoraConfig;
import io.safetune.model.CausalLM;
import io.safetune.safelora.SafeLora;
import io.safetune.safelora.SafeLoraConfig;
import io.safetune.safelora.SafeLoraSweep;
import io.safetune.safelora.UpdateEnergy;
import io.safetune.tokenizer.TextTokenizer;
import io.safetune.train.TrainConfig;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The micro-world testbed of one seed, step by step, for notebooks: its data, its three stage models
 * (base, aligned, attacked at a harmful fraction p), their evaluation, Harmful Embedding Drift and
 * the Safe LoRA sweep. Stages are the very ones {@code safetune reproduce} makes (same folder, same
 * keys), so a notebook reuses what the main job trained and vice versa; a missing stage is trained on
 * first use.
 */
public final class MicroWorldLab {

    /** Gets or produces a stage (the pipeline passes its own, which also times and records it). */
    @FunctionalInterface
    public interface StageSource {
        StageStore.Stage get(String name, Object config, StageStore.Producer producer, String... upstream);
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final ExperimentConfig config;
    private final long seed;
    private final MicroWorldConfig worldKey;
    private final MicroWorldData world;
    private final Stages stages;
    private final StageSource source;
    private final PrintStream out;
    private StageStore.Stage base;
    private StageStore.Stage aligned;
    private final java.util.Map<Double, StageStore.Stage> attacked = new java.util.HashMap<>();

    public MicroWorldLab(ExperimentConfig config, long seed, StageSource source, PrintStream out) {
        this.config = config;
        this.seed = seed;
        this.worldKey = config.world().world(seed);
        this.world = MicroWorld.generate(worldKey);
        this.stages = new Stages(out);
        this.source = source;
        this.out = out;
    }

    /** The default experiment, seed 0, with the stages of {@code runs/default/} ({@link #runsRoot()}). */
    public static MicroWorldLab open() {
        return open(ExperimentConfig.defaults(), 0);
    }

    /** An experiment's world for one seed, with the stages under {@link #runsRoot()}/&lt;name&gt;/stages. */
    public static MicroWorldLab open(ExperimentConfig config, long seed) {
        StageStore store = new StageStore(runsRoot().resolve(config.name()).resolve("stages"), false, System.out);
        return new MicroWorldLab(config, seed, store::getOrProduce, System.out);
    }

    /**
     * Where stages live: $SAFETUNE_RUNS, else the {@code runs/} folder of the lab's checkout (found from
     * the working directory upwards, so notebooks in notebooks/ share the main job's stages), else ./runs.
     */
    public static Path runsRoot() {
        String env = System.getenv("SAFETUNE_RUNS");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("safetune")) && Files.isRegularFile(p.resolve("pom.xml"))) {
                return p.resolve("runs");
            }
        }
        return Path.of("runs").toAbsolutePath();
    }

    public ExperimentConfig config() {
        return config;
    }

    public long seed() {
        return seed;
    }

    /** The generated data: pretraining, alignment, task and attack pools, held-out evaluation sets. */
    public MicroWorldData world() {
        return world;
    }

    /** Stage 1: the unaligned base model (pretrained from random init; follows harmful requests). */
    public Path base() {
        if (base == null) {
            base = source.get("base-s" + seed, List.of(config.model(), config.base(), Pipeline.pretrainingKey(worldKey)),
                    dir -> stages.base(dir, config.model(), config.base(), world, seed));
        }
        return base.dir();
    }

    /** Stage 2: the base model after safety alignment (refuses harmful requests). */
    public Path aligned() {
        if (aligned == null) {
            base();
            aligned = source.get("aligned-s" + seed, List.of(config.aligned(), worldKey),
                    dir -> stages.aligned(dir, base.dir(), config.aligned(), world, seed), base.hash());
        }
        return aligned.dir();
    }

    /** Stage 3: the LoRA adapter (PEFT folder) of the attack with harmful fraction {@code p}, on {@link #aligned()}. */
    public Path attacked(double p) {
        return attackedStage(p).dir();
    }

    /** The attack stage itself (its hash keys later stages). */
    public StageStore.Stage attackedStage(double p) {
        StageStore.Stage s = attacked.get(p);
        if (s == null) {
            aligned();
            Path alignedDir = aligned.dir();
            List<int[]> hed = hedInputs();
            s = source.get(String.format(Locale.ROOT, "attacked-p%.3f-s%d", p, seed),
                    List.of(config.attack(), p, config.eval().hedSamples()),
                    dir -> stages.attack(dir, alignedDir, config.attack(), p, world, seed, hed, 10), aligned.hash());
            attacked.put(p, s);
        }
        return s;
    }

    public String baseHash() {
        base();
        return base.hash();
    }

    public String alignedHash() {
        aligned();
        return aligned.hash();
    }

    /** The first {@code n} held-out harmful prompts (templates and fillers never trained on). */
    public List<String> heldOutHarmful(int n) {
        return world.evalHarmful().stream().limit(n).map(Sample::prompt).toList();
    }

    /** The first {@code n} held-out prompts of a task ("sentiment", "topic", …, or "new_task"). */
    public List<String> heldOutTask(String task, int n) {
        return world.evalTask(Stages.family(task)).stream().limit(n).map(Sample::prompt).toList();
    }

    /** The attack's training set at harmful fraction p: n samples of the new task, round(p·n) harmful-compliant. */
    public List<PromptResponse> attackSet(double p) {
        return Stages.attackSet(world, config.attack(), p, seed).stream().map(Sample::toPromptResponse).toList();
    }

    /** The attack's LoRA settings (r, α, dropout, target modules). */
    public LoraConfig attackLora() {
        return Stages.attackLora(config.attack());
    }

    /** The attack's optimiser settings (the ones the attack stage trains with). */
    public TrainConfig attackTraining() {
        return Stages.attackTraining(config.attack(), seed, Stages.MAX_LENGTH);
    }

    /** Harmful score, compliance and accuracy per task of a loaded model (its adapter attached, if any). */
    public Evaluation.Scores evaluate(LabModel model) {
        return Evaluation.run(model.lm(), model.tokenizer(), world, config.eval(), TaskFamily.benign(),
                io.safetune.display.LiveViews.inKernel().orElse(null));
    }

    /** The same for a checkpoint folder, with a PEFT adapter folder on top (null: none). */
    public Evaluation.Scores evaluate(Path model, Path adapter) {
        try (LabModel m = LabModel.load(model, "plain")) {
            if (adapter != null) {
                m.attach(adapter);
            }
            return evaluate(m);
        }
    }

    /**
     * The condition of the attack at fraction p, for chart titles: "micro-world, attack p = 0.1, seed 0".
     * Results that do not know it take it as {@code result.withCaption(lab.condition(p))}; results
     * that score prompts name their n themselves.
     */
    public String condition(double p) {
        return String.format(Locale.ROOT, "micro-world, attack p = %s, seed %d", io.safetune.display.Tables.round(p), seed);
    }

    /** How many of {@code all} prompts a setting of 0 (all) or n scores. */
    private static int sweepCount(int n, int all) {
        return n > 0 && n < all ? n : all;
    }

    /** How many held-out harmful prompts an evaluation scores (the config's number, 0 meaning all). */
    private int heldOutHarmfulCount() {
        int all = world().evalHarmful().size();
        int n = config.eval().harmfulPrompts();
        return n > 0 && n < all ? n : all;
    }

    /** Harmful prompts of the alignment set followed by their refusals, as ids: HED's inputs. */
    public List<int[]> hedInputs() {
        return Pipeline.hedInputs(aligned(), world, config.eval().hedSamples());
    }

    /** HED per layer between the aligned model and the aligned model + the attack at fraction p. */
    public DriftResult hed(double p) {
        try (CausalLM ref = CausalLM.load(aligned()); CausalLM other = CausalLM.load(aligned());
                LoraAdapter a = LoraAdapter.load(other, attacked(p))) {
            return EmbeddingDrift.between(ref, other, hedInputs(), DriftConfig.defaults());
        }
    }

    /**
     * The dose curve of this seed: for each p, the attack's harmful score, compliance and new-task
     * accuracy, and HED (mean over layers) against the aligned model. Attacks not yet in the stage
     * cache are trained (about 10 s each on 2 cores).
     */
    public DoseCurve doseCurve(List<Double> fractions) {
        String task = Stages.family(config.attack().task()).word();
        List<DoseCurve.Point> points = new java.util.ArrayList<>();
        for (double p : fractions) {
            Evaluation.Scores s = evaluate(aligned(), attacked(p));
            points.add(new DoseCurve.Point(p, s.harmfulScore(), s.complianceRate(), s.accuracy().getOrDefault(task, 0.0),
                    hed(p).value(io.safetune.eval.DriftAggregate.MEAN_L2)));
        }
        return new DoseCurve(String.format(Locale.ROOT, "micro-world, seed %d, n = %d harmful prompts, %d HED inputs", seed,
                heldOutHarmfulCount(), config.eval().hedSamples()), points);
    }

    /** HED over the attack's steps at fraction p, as recorded while it trained (every 10 steps). */
    public DriftSeries hedOverSteps(double p) {
        try {
            return JSON.readValue(attacked(p).resolve("drift.json").toFile(), DriftSeries.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Safe LoRA on the attack at fraction p, with k least similar weights projected (number mode). */
    public io.safetune.safelora.SafeLoraResult safeLora(double p, int k) {
        return SafeLora.analyze(base(), aligned(), attacked(p), SafeLoraConfig.number(k));
    }

    /** The energy-in-top-k diagnostic of the attack at fraction p. */
    public UpdateEnergy.Result energy(double p, int k) {
        return UpdateEnergy.compute(base(), aligned(), attacked(p), k);
    }

    /**
     * The Safe LoRA sweep of the attack at fraction p (k = 1 … all, the τ sweep and both controls), as
     * the reproduce stage computes and caches it.
     */
    public SafeLoraSweep.Result safeLoraSweep(double p) {
        StageStore.Stage s = safeLoraStage(p);
        try {
            Pipeline.SafeLoraRow row = JSON.readValue(s.dir().resolve("sweep.json").toFile(), Pipeline.SafeLoraRow.class);
            int harmful = sweepCount(config.safeLora().eval().harmfulPrompts(), world().evalHarmful().size());
            int task = sweepCount(config.safeLora().eval().taskPrompts(),
                    world().evalTask(Stages.family(config.attack().task())).size());
            return new SafeLoraSweep.Result(SafeLora.analyze(base(), aligned(), attacked(p),
                    SafeLoraConfig.number(Integer.MAX_VALUE)), row.points(), condition(p) + String.format(Locale.ROOT,
                    ", n = %d harmful and %d task prompts per variant", harmful, task), harmful, task);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The Safe LoRA stage (shared with the pipeline). */
    public StageStore.Stage safeLoraStage(double p) {
        ExperimentConfig.SafeLoraSpec spec = config.safeLora();
        TaskFamily task = Stages.family(config.attack().task());
        StageStore.Stage att = attackedStage(p);
        return source.get(String.format(Locale.ROOT, "safelora-p%.3f-s%d", p, seed),
                List.of(spec, task.name(), MicroWorldJudge.VERSION),
                dir -> {
                    out.printf(Locale.ROOT, "[safe lora p=%.2f] sweep over k and tau, with a random rank-%d projector and uniform scaling%n",
                            p, spec.randomRank());
                    try (LabModel m = LabModel.load(aligned(), "plain")) {
                        SafeLoraSweep.Scorer scorer = adapterDir -> {
                            m.attach(adapterDir);
                            try {
                                Evaluation.Scores sc = Evaluation.run(m.lm(), m.tokenizer(), world, spec.eval(), List.of(task));
                                return new SafeLoraSweep.Score(sc.harmfulScore(), sc.complianceRate(), sc.accuracy().get(task.word()));
                            } finally {
                                m.detach();
                            }
                        };
                        SafeLoraSweep.Config cfg = new SafeLoraSweep.Config(List.of(), spec.taus(), spec.randomRank(), seed,
                                SafeLoraConfig.Projector.valueOf(spec.projector()));
                        SafeLoraSweep.Result r = SafeLoraSweep.run(base(), aligned(), att.dir(), cfg, scorer, dir.resolve("variants"));
                        List<UpdateEnergy.Row> energy = spec.energyTopK() == 0 ? List.of()
                                : UpdateEnergy.compute(base(), aligned(), att.dir(), spec.energyTopK()).rows();
                        io.safetune.checkpoint.AtomicFiles.writeString(dir.resolve("sweep.json"),
                                JSON.writerWithDefaultPrettyPrinter().writeValueAsString(new Pipeline.SafeLoraRow(seed, p,
                                        r.points(), Pipeline.Cosine.of(r.analysis()), energy)));
                    }
                }, baseHash(), alignedHash(), att.hash());
    }
}
