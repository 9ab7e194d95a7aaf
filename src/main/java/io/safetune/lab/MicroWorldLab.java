package io.safetune.lab;

import io.safetune.data.PromptResponse;
import io.safetune.data.microworld.MicroWorld;
import io.safetune.data.microworld.MicroWorldData;
import io.safetune.data.microworld.Sample;
import io.safetune.data.microworld.TaskFamily;
import io.safetune.display.LiveViews;
import io.safetune.display.Tables;
import io.safetune.eval.DriftAggregate;
import io.safetune.eval.DriftConfig;
import io.safetune.eval.DriftResult;
import io.safetune.eval.DriftSeries;
import io.safetune.eval.EmbeddingDrift;
import io.safetune.experiment.Combination;
import io.safetune.experiment.Evaluation;
import io.safetune.experiment.ExperimentConfig;
import io.safetune.experiment.Story;
import io.safetune.lora.LoraAdapter;
import io.safetune.lora.LoraConfig;
import io.safetune.method.FineTuneDefence;
import io.safetune.method.Json;
import io.safetune.method.Slot;
import io.safetune.model.CausalLM;
import io.safetune.safelora.SafeLora;
import io.safetune.safelora.SafeLoraConfig;
import io.safetune.safelora.SafeLoraResult;
import io.safetune.safelora.SafeLoraSweep;
import io.safetune.safelora.SafeLoraSweepDefence;
import io.safetune.safelora.UpdateEnergy;
import io.safetune.train.TrainConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The micro-world testbed of one seed, step by step, for notebooks: its data, the story's products
 * (base, aligned, attacked at a harmful fraction p, post-processed by any registered defence), their
 * evaluation and Harmful Embedding Drift. Every step is a thin call into the {@link Story} that
 * {@code safetune reproduce} runs (same stages, same folder), so a notebook reuses what the main job
 * trained and vice versa; a missing stage is made on first use.
 */
public final class MicroWorldLab {

    private final Story story;
    private final long seed;
    private final MicroWorldData world;

    /** The lab of {@code story}'s experiment at one of its seeds. */
    public MicroWorldLab(Story story, long seed) {
        this.story = story;
        this.seed = seed;
        this.world = MicroWorld.generate(story.config().world().world(seed));
    }

    /** The default experiment, seed 0, with the stages of {@code runs/default/} ({@link #runsRoot()}). */
    public static MicroWorldLab open() {
        return open(ExperimentConfig.defaults(), 0);
    }

    /** An experiment's world for one seed, with the stages under {@link #runsRoot()}/&lt;name&gt;/stages. */
    public static MicroWorldLab open(ExperimentConfig config, long seed) {
        return new MicroWorldLab(Story.forNotebook(config, runsRoot(), System.out), seed);
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
        return story.config();
    }

    public long seed() {
        return seed;
    }

    /** The generated data: pretraining, alignment, task and attack pools, held-out evaluation sets. */
    public MicroWorldData world() {
        return world;
    }

    /** The unaligned base model (pretrained from random init; follows harmful requests). */
    public Path base() {
        return story.base(seed).orElseThrow().dir();
    }

    /** The base model after safety alignment (refuses harmful requests). */
    public Path aligned() {
        return story.aligned(seed, Combination.NONE).dir();
    }

    /** The LoRA adapter (PEFT folder) of the attack with harmful fraction {@code p}, on {@link #aligned()}. */
    public Path attacked(double p) {
        return story.fineTuned(seed, p, Combination.NONE).dir();
    }

    /**
     * The adapter a registered post-process {@code method} makes of the attack at p (with the settings
     * the experiment gives it, else its defaults), e.g. {@code lab.postProcessed(0.1, "safelora")}.
     */
    public Path postProcessed(double p, String method) {
        return story.postProcessed(seed, p, combination(method)).stage().dir();
    }

    /** The story's scores of {@code method}'s adapter at p (the same evaluation stage reproduce makes). */
    public Evaluation.Scores postProcessedScores(double p, String method) {
        Story.PostProcessed post = story.postProcessed(seed, p, combination(method));
        if (!post.output().wroteAdapter()) {
            throw new IllegalArgumentException(method + ": scores variants, not one adapter; see its stage's files in "
                    + post.stage().dir());
        }
        return story.scores(seed, story.aligned(seed, Combination.NONE), post.stage());
    }

    /**
     * The adapter of the attack at p fine-tuned by the experiment's combination labelled {@code defence}
     * ("none" for plain LoRA, "salora", a name from the experiment file …).
     */
    public Path fineTuned(double p, String defence) {
        return story.fineTuned(seed, p, labelled(defence)).dir();
    }

    /** The story's scores of that fine-tune (the same evaluation stage reproduce makes). */
    public Evaluation.Scores fineTunedScores(double p, String defence) {
        Combination c = labelled(defence);
        return story.scoresWithSamples(seed, story.aligned(seed, c), story.fineTuned(seed, p, c));
    }

    /** The attack at p fine-tuned by each of {@code defences}, side by side: harm and utility on separate charts. */
    public Evaluation.Comparison compareFineTunes(double p, List<String> defences) {
        Object[] pairs = new Object[2 * defences.size()];
        for (int i = 0; i < defences.size(); i++) {
            pairs[2 * i] = defences.get(i);
            pairs[2 * i + 1] = fineTunedScores(p, defences.get(i));
        }
        return Evaluation.compare(pairs);
    }

    /** What SaLoRA's fine-tune at p recorded: its settings and per weight the spectra of X_s·Wᵀ and X_t·Wᵀ. */
    public io.safetune.salora.SaLoraDefence.Report saLoraSubspaces(double p, String defence) {
        return io.safetune.salora.SaLoraDefence.Report.read(fineTuned(p, defence));
    }

    /** HED over the steps of the fine-tune at p by {@code defence}, as recorded while it trained. */
    public DriftSeries hedOverSteps(double p, String defence) {
        return Json.read(fineTuned(p, defence).resolve(FineTuneDefence.DRIFT_FILE), DriftSeries.class);
    }

    /** The base model aligned by the experiment's combination labelled {@code defence} ("none": the default SFT). */
    public Path aligned(String defence) {
        return story.aligned(seed, labelled(defence)).dir();
    }

    /** The story's scores of that aligned model, before any attack. */
    public Evaluation.Scores alignedScores(String defence) {
        return story.scoresWithSamples(seed, story.aligned(seed, labelled(defence)), null);
    }

    /** The aligned models of {@code defences} side by side: harm and utility on separate charts. */
    public Evaluation.Comparison compareAligned(List<String> defences) {
        Object[] pairs = new Object[2 * defences.size()];
        for (int i = 0; i < defences.size(); i++) {
            pairs[2 * i] = defences.get(i);
            pairs[2 * i + 1] = alignedScores(defences.get(i));
        }
        return Evaluation.compare(pairs);
    }

    /** What Vaccine's alignment recorded for the combination labelled {@code defence}: settings and per step ‖g‖. */
    public io.safetune.vaccine.VaccineDefence.Report vaccineReport(String defence) {
        return Json.read(aligned(defence).resolve(io.safetune.vaccine.VaccineDefence.REPORT),
                io.safetune.vaccine.VaccineDefence.Report.class);
    }

    /** HED per layer between {@code defence}'s aligned model and that model + its attack at p. */
    public DriftResult hed(double p, String defence) {
        try (CausalLM ref = CausalLM.load(aligned(defence)); CausalLM other = CausalLM.load(aligned(defence));
                LoraAdapter a = LoraAdapter.load(other, fineTuned(p, defence))) {
            return EmbeddingDrift.between(ref, other, hedInputs(), DriftConfig.defaults());
        }
    }

    /**
     * The dose curve of the combination labelled {@code defence}: per p, the story's scores of its attack
     * (the evaluation stages reproduce makes) and HED against its own aligned model.
     */
    public DoseCurve doseCurve(List<Double> fractions, String defence) {
        Combination c = labelled(defence);
        String task = config().attack().family().word();
        List<DoseCurve.Point> points = new ArrayList<>();
        for (double p : fractions) {
            Evaluation.Scores s = story.scores(seed, story.aligned(seed, c), story.fineTuned(seed, p, c));
            points.add(new DoseCurve.Point(p, s.harmfulScore(), s.complianceRate(), s.accuracy().getOrDefault(task, 0.0),
                    hed(p, defence).value(DriftAggregate.MEAN_L2)));
        }
        return new DoseCurve(String.format(Locale.ROOT, "micro-world, %s, seed %d, n = %d harmful prompts, %d HED inputs",
                defence, seed, heldOutHarmfulCount(), config().eval().hedSamples()), points);
    }

    /** {@link #doseCurve(List, String)} of each of {@code defences}, side by side. */
    public DoseCurves compareDoseCurves(List<Double> fractions, List<String> defences) {
        java.util.Map<String, DoseCurve> curves = new java.util.LinkedHashMap<>();
        defences.forEach(d -> curves.put(d, doseCurve(fractions, d)));
        return new DoseCurves(String.format(Locale.ROOT, "micro-world, seed %d, n = %d harmful prompts, %d HED inputs", seed,
                heldOutHarmfulCount(), config().eval().hedSamples()), curves);
    }

    /** The experiment's combination labelled {@code defence} at the fine-tune slot, or an error listing them. */
    private Combination labelled(String defence) {
        return story.config().combinations().stream().filter(c -> c.labelUpTo(Slot.FINE_TUNE).equals(defence)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("defence: no fine-tune labelled '" + defence + "' in experiment "
                        + story.config().name() + " (labels: " + story.config().combinations().stream()
                        .map(c -> c.labelUpTo(Slot.FINE_TUNE)).distinct().toList() + ")"));
    }

    /** The experiment's combination whose post-process is {@code method}, or that method alone with its defaults. */
    private Combination combination(String method) {
        return story.config().combinations().stream()
                .filter(c -> c.filler(Slot.POST_PROCESS) != null && c.filler(Slot.POST_PROCESS).method().equals(method)
                        && !c.defended(Slot.ALIGN) && !c.defended(Slot.FINE_TUNE))
                .findFirst().orElseGet(() -> Combination.post(method));
    }

    /** The first {@code n} held-out harmful prompts (templates and fillers never trained on). */
    public List<String> heldOutHarmful(int n) {
        return world.evalHarmful().stream().limit(n).map(Sample::prompt).toList();
    }

    /** The first {@code n} held-out prompts of a task ("sentiment", "topic", …, or "new_task"). */
    public List<String> heldOutTask(String task, int n) {
        return world.evalTask(TaskFamily.of(task)).stream().limit(n).map(Sample::prompt).toList();
    }

    /** The attack's training set at harmful fraction p: n samples of the new task, round(p·n) harmful-compliant. */
    public List<PromptResponse> attackSet(double p) {
        return story.attackSet(seed, p);
    }

    /** The attack's LoRA settings (r, α, dropout, target modules). */
    public LoraConfig attackLora() {
        return Story.attackLora(config().attack());
    }

    /** The attack's optimiser settings (the ones the attack stage trains with). */
    public TrainConfig attackTraining() {
        return Story.attackTraining(config().attack(), seed, story.maxLength());
    }

    /** Harmful score, compliance and accuracy per task of a loaded model (its adapter attached, if any). */
    public Evaluation.Scores evaluate(LabModel model) {
        return Evaluation.run(model.lm(), model.tokenizer(), world, config().eval(), TaskFamily.benign(),
                LiveViews.inKernel().orElse(null));
    }

    /** The same for a checkpoint folder, with a PEFT adapter folder on top (null: none). */
    public Evaluation.Scores evaluate(Path model, Path adapter) {
        try (LabModel m = LabModel.load(model, io.safetune.tokenizer.ChatTemplate.PLAIN)) {
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
        return String.format(Locale.ROOT, "micro-world, attack p = %s, seed %d", Tables.round(p), seed);
    }

    /** How many held-out harmful prompts an evaluation scores (the config's number, 0 meaning all). */
    private int heldOutHarmfulCount() {
        int all = world.evalHarmful().size();
        int n = config().eval().harmfulPrompts();
        return n > 0 && n < all ? n : all;
    }

    /** Harmful prompts of the alignment set followed by their refusals, as ids: HED's inputs. */
    public List<int[]> hedInputs() {
        return story.hedInputs(seed, Combination.NONE);
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
        String task = config().attack().family().word();
        List<DoseCurve.Point> points = new ArrayList<>();
        for (double p : fractions) {
            Evaluation.Scores s = evaluate(aligned(), attacked(p));
            points.add(new DoseCurve.Point(p, s.harmfulScore(), s.complianceRate(), s.accuracy().getOrDefault(task, 0.0),
                    hed(p).value(DriftAggregate.MEAN_L2)));
        }
        return new DoseCurve(String.format(Locale.ROOT, "micro-world, seed %d, n = %d harmful prompts, %d HED inputs", seed,
                heldOutHarmfulCount(), config().eval().hedSamples()), points);
    }

    /** HED over the attack's steps at fraction p, as recorded while it trained (every 10 steps). */
    public DriftSeries hedOverSteps(double p) {
        return Json.read(attacked(p).resolve(FineTuneDefence.DRIFT_FILE), DriftSeries.class);
    }

    /** Safe LoRA on the attack at fraction p, with k least similar weights projected (number mode). */
    public SafeLoraResult safeLora(double p, int k) {
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
        Path dir = postProcessed(p, SafeLoraSweepDefence.NAME);
        SafeLoraSweepDefence.Record r = SafeLoraSweepDefence.Record.read(dir);
        return new SafeLoraSweep.Result(SafeLora.analyze(base(), aligned(), attacked(p), SafeLoraConfig.number(Integer.MAX_VALUE)),
                r.points(), condition(p) + String.format(Locale.ROOT, ", n = %d harmful and %d task prompts per variant",
                        r.harmfulPrompts(), r.taskPrompts()), r.harmfulPrompts(), r.taskPrompts());
    }
}
