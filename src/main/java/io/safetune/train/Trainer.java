package io.safetune.train;

import io.safetune.data.TrainingExample;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.jni.JniUtils;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * Fine-tunes the {@link TrainableModel#trainableParameters() trainable parameters} of a model (a LoRA
 * adapter or full weights alike) on prompt/response examples:
 *
 * <pre>{@code
 * try (Trainer t = new Trainer(model, config).withCheckpointDir(dir)) {
 *     TrainResult r = t.fit(examples, ProgressBar.auto());
 * }
 * TrainResult rest = Trainer.resume(dir.resolve("checkpoint-40"), model, examples, listener);
 * }</pre>
 *
 * <p>One optimiser step: reseed the RNG from (seed, step); take the step's micro-batches from the
 * {@link DataPlan}; let the {@link StepFunction} fill the gradients; clip them by global norm; AdamW;
 * zero the gradients. Everything the step allocates lives in a sub-manager and an {@link NDScope}
 * closed at the end of the step, so memory stays flat. Since data order and RNG are functions of
 * (seed, step), a run resumed from a checkpoint reproduces the uninterrupted run bit for bit (on the
 * same machine and thread count).
 *
 * <p>Because of that scope, an array a model creates lazily inside {@code logits} and keeps across
 * calls (a RoPE table, a causal mask cache) is closed at the end of the step unless the model calls
 * {@code NDScope.unregister(array)}; create such caches in the constructor or unregister them.
 *
 * <p>A non-finite loss or gradient norm stops training with an {@link IllegalStateException} rather
 * than writing NaN into the weights.
 */
public final class Trainer implements AutoCloseable {

    private final TrainableModel model;
    private final TrainConfig config;
    private final LinkedHashMap<String, NDArray> params;
    private final NDManager manager;
    private final AdamW optimizer;
    private LrSchedule schedule;
    private StepFunction stepFunction = StepFunction.STANDARD;
    private Path checkpointDir;
    private CheckpointExporter exporter;
    private volatile boolean stopRequested;
    private boolean fitted;

    private long globalStep;
    private final List<Double> losses = new ArrayList<>();
    private final List<Double> learningRates = new ArrayList<>();
    private final List<Double> gradNorms = new ArrayList<>();
    private double priorSeconds;
    private String expectedFingerprint;
    private int expectedExamples;

    public Trainer(TrainableModel model, TrainConfig config) {
        this.model = model;
        this.config = config;
        this.params = new LinkedHashMap<>(model.trainableParameters());
        if (params.isEmpty()) {
            throw new IllegalArgumentException("the model has no trainable parameters");
        }
        params.forEach((name, p) -> {
            if (!p.hasGradient()) {
                throw new IllegalArgumentException("trainable parameter " + name
                        + " does not require a gradient");
            }
        });
        this.schedule = config.schedule().schedule();
        this.manager = NDManager.newBaseManager(params.values().iterator().next().getDevice());
        this.optimizer = AdamW.of(params, config);
    }

    /**
     * A trainer positioned at the checkpoint, with the checkpoint's own {@link TrainConfig}:
     * parameters copied into the model in place, AdamW's state and step count restored, histories
     * loaded; checkpoints go on into the checkpoint's parent folder. A custom schedule, step function
     * or exporter must be set again. Refused, naming each field, when the model's
     * {@link TrainableModel#trainingSettings() training settings} differ from the checkpoint's.
     */
    public static Trainer fromCheckpoint(Path checkpoint, TrainableModel model) {
        return fromCheckpoint(checkpoint, model, null);
    }

    /**
     * As {@link #fromCheckpoint(Path, TrainableModel)}, for a caller that has a configuration of its
     * own (a command line): refused, naming each field with both values, unless {@code requested}
     * equals the checkpoint's configuration in every field that affects the run; the bookkeeping
     * fields ({@link ResumeCheck#BOOKKEEPING}: when to checkpoint, how many to keep, how often to log)
     * are taken from {@code requested}.
     *
     * @param requested the configuration the caller would train with; null to use the checkpoint's
     */
    public static Trainer fromCheckpoint(Path checkpoint, TrainableModel model, TrainConfig requested) {
        TrainerState state = Checkpoints.readState(checkpoint);
        if (state.formatVersion() != TrainerState.FORMAT_VERSION && state.formatVersion() != 1) {
            throw new IllegalArgumentException("unsupported trainer_state formatVersion "
                    + state.formatVersion() + " in " + checkpoint);
        }
        List<ResumeCheck.Difference> changed = new ArrayList<>();
        if (requested != null) {
            changed.addAll(ResumeCheck.config(state.config(), requested));
        }
        Map<String, String> settings = model.trainingSettings();
        if (state.settings() != null) {
            changed.addAll(ResumeCheck.settings(state.settings(), settings));
        } else if (!settings.isEmpty()) {
            throw new IllegalArgumentException("cannot resume from " + checkpoint + ": its trainer_state.json "
                    + "(formatVersion 1) does not record the run's training settings, so this run's "
                    + settings + " cannot be checked against it; start a new run");
        }
        ResumeCheck.refuse(checkpoint, changed);
        TrainConfig config = requested == null ? state.config() : state.config().toBuilder()
                .checkpointEvery(requested.checkpointEvery()).keepCheckpoints(requested.keepCheckpoints())
                .logEvery(requested.logEvery()).build();
        Trainer t = new Trainer(model, config);
        try {
            if (!new TreeSet<>(state.parameterNames()).equals(new TreeSet<>(t.params.keySet()))) {
                throw new IllegalArgumentException("checkpoint parameters " + state.parameterNames()
                        + " differ from the model's " + t.params.keySet());
            }
            Checkpoints.loadParameters(checkpoint, t.params, t.manager);
            Checkpoints.loadOptimizer(checkpoint, t.optimizer, state.optimizerSteps(), t.manager);
            t.globalStep = state.globalStep();
            t.losses.addAll(state.losses());
            t.learningRates.addAll(state.learningRates());
            t.gradNorms.addAll(state.gradNorms());
            t.priorSeconds = state.elapsedSeconds();
            t.expectedFingerprint = state.examplesFingerprint();
            t.expectedExamples = state.examples();
            t.checkpointDir = checkpoint.toAbsolutePath().getParent();
            return t;
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
    }

    /** {@link #fromCheckpoint} then {@link #fit}: continues the run to its configured end. */
    public static TrainResult resume(Path checkpoint, TrainableModel model,
                                     List<TrainingExample> examples, TrainListener listener) {
        try (Trainer t = fromCheckpoint(checkpoint, model)) {
            return t.fit(examples, listener);
        }
    }

    /** Write checkpoints under {@code root} (null: none). */
    public Trainer withCheckpointDir(Path root) {
        this.checkpointDir = root;
        return this;
    }

    /** Called on every checkpoint folder before it is renamed into place (null: none). */
    public Trainer withExporter(CheckpointExporter exporter) {
        this.exporter = exporter;
        return this;
    }

    public Trainer withStepFunction(StepFunction stepFunction) {
        this.stepFunction = Objects.requireNonNull(stepFunction, "stepFunction");
        return this;
    }

    /** Replaces the config's named schedule (not saved in checkpoints: set it again on resume). */
    public Trainer withSchedule(LrSchedule schedule) {
        this.schedule = Objects.requireNonNull(schedule, "schedule");
        return this;
    }

    /**
     * Ends {@link #fit} after the step in progress (thread-safe; a listener may call it). A
     * checkpoint is written there when a checkpoint folder is set.
     */
    public void requestStop() {
        stopRequested = true;
    }

    public TrainConfig config() {
        return config;
    }

    /** Optimiser steps completed (including those before a resume). */
    public long globalStep() {
        return globalStep;
    }

    /**
     * Trains to the configured number of steps (or until {@link #requestStop()}). May be called once.
     *
     * @param examples the training set; on resume it must be the one the checkpoint was made with
     */
    public TrainResult fit(List<TrainingExample> examples, TrainListener listener) {
        if (fitted) {
            throw new IllegalStateException("fit may be called once per Trainer");
        }
        fitted = true;
        TrainListener events = listener == null ? TrainListener.NONE : listener;
        String fingerprint = fingerprint(examples);
        if (expectedFingerprint != null && !expectedFingerprint.equals(fingerprint)) {
            throw new IllegalArgumentException("examples: the examples differ from those the checkpoint was "
                    + "trained on (checkpoint has " + expectedExamples + " examples, fingerprint " + expectedFingerprint
                    + "; this run has " + examples.size() + ", fingerprint " + fingerprint + ")");
        }
        DataPlan plan = new DataPlan(examples.size(), config.batchSize(), config.gradAccumSteps(),
                config.seed());
        long total = config.totalSteps(plan.stepsPerEpoch());
        long warmup = config.resolvedWarmupSteps(total);
        Collator collator = new Collator(config.maxLength());
        long startStep = globalStep;
        events.onStart(new TrainListener.StartEvent(startStep, total, plan.stepsPerEpoch(),
                examples.size(), config));

        List<String> written = new ArrayList<>();
        long tokens = 0;
        long t0 = System.nanoTime();
        StepContext.zeroGradients(model);
        while (globalStep < total && !stopRequested) {
            long step = globalStep;
            double lr = config.learningRate() * schedule.factor(step, warmup, total);
            List<CollatedBatch> batches = collate(plan.microBatches(step), examples, collator);
            StepRecord r = runStep(step, batches, lr);
            globalStep++;
            losses.add(r.output.loss());
            learningRates.add(lr);
            gradNorms.add(r.gradNorm);
            for (CollatedBatch b : batches) {
                tokens += b.realTokens();
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            double perStep = seconds / (globalStep - startStep);
            events.onStep(new StepEvent(globalStep, total, (double) globalStep / plan.stepsPerEpoch(),
                    r.output.loss(), lr, r.gradNorm, tokens / Math.max(seconds, 1e-9),
                    Duration.ofNanos((long) (seconds * 1e9)),
                    Duration.ofNanos((long) (perStep * (total - globalStep) * 1e9)),
                    r.output.metrics()));
            boolean due = config.checkpointEvery() > 0 && globalStep % config.checkpointEvery() == 0;
            boolean last = globalStep == total || stopRequested;
            if (checkpointDir != null && (due || last)) {
                Path dir = checkpoint(plan, examples.size(), fingerprint, priorSeconds + seconds);
                written.add(dir.toString());
                events.onCheckpoint(dir, globalStep);
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        priorSeconds += seconds;
        TrainResult result = new TrainResult(losses, learningRates, gradNorms, startStep, globalStep,
                total, globalStep < total, seconds, tokens / Math.max(seconds, 1e-9), written);
        events.onEnd(new TrainListener.EndEvent(result));
        return result;
    }

    private record StepRecord(StepOutput output, double gradNorm) {
    }

    private static List<CollatedBatch> collate(List<int[]> microBatches,
                                               List<TrainingExample> examples, Collator collator) {
        List<CollatedBatch> batches = new ArrayList<>(microBatches.size());
        for (int[] idx : microBatches) {
            List<TrainingExample> picked = new ArrayList<>(idx.length);
            for (int i : idx) {
                picked.add(examples.get(i));
            }
            batches.add(collator.collate(picked));
        }
        return batches;
    }

    /** One optimiser step: gradients (pluggable), clip, AdamW, zero; all temporaries freed. */
    private StepRecord runStep(long step, List<CollatedBatch> batches, double lr) {
        reseed(Seeds.mix(config.seed(), Seeds.STEP_RNG, step));
        try (NDManager stepManager = manager.newSubManager(); NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            StepContext ctx = new StepContext(model, batches, config.lossAveraging(), stepManager, step);
            StepOutput out = stepFunction.computeGradients(ctx);
            Map<String, NDArray> grads = new LinkedHashMap<>();
            params.forEach((name, p) -> {
                NDArray g = p.getGradient();   // a new handle: closed with the step
                g.attach(stepManager);
                grads.put(name, g);
            });
            double norm = GradientClipping.clip(grads.values(), config.maxGradNorm(), stepManager);
            if (!Double.isFinite(out.loss()) || !Double.isFinite(norm)) {
                StepContext.zeroGradients(model);
                throw new IllegalStateException("training diverged at step " + (step + 1)
                        + ": loss " + out.loss() + ", gradient norm " + norm);
            }
            optimizer.step(grads, lr);
            StepContext.zeroGradients(model);
            return new StepRecord(out, norm);
        }
    }

    /**
     * Seeds libtorch (64 bits; dropout) and DJL's Java RNG so that the random state of step k is a
     * function of (seed, k): nothing needs saving, and a resumed run draws the same masks.
     */
    static void reseed(long seed) {
        Engine.getInstance().setRandomSeed((int) (seed ^ (seed >>> 32)));
        JniUtils.setSeed(seed);
    }

    private Path checkpoint(DataPlan plan, int examples, String fingerprint, double elapsed) {
        TrainerState state = new TrainerState(TrainerState.FORMAT_VERSION, globalStep,
                (double) globalStep / plan.stepsPerEpoch(), config.seed(), config, examples,
                fingerprint, new ArrayList<>(params.keySet()), optimizer.stepCount(), losses,
                learningRates, gradNorms, elapsed, TrainerState.RNG_NOTE, model.trainingSettings());
        return Checkpoints.write(checkpointDir, params, optimizer, state, exporter,
                config.keepCheckpoints());
    }

    /** SHA-256 over every example's prompt and response ids (order matters). */
    static String fingerprint(List<TrainingExample> examples) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            ByteBuffer buf = ByteBuffer.allocate(4);
            for (TrainingExample e : examples) {
                for (int[] part : new int[][] {e.promptIds(), e.responseIds()}) {
                    sha.update(buf.clear().putInt(part.length).array());
                    for (int id : part) {
                        sha.update(buf.clear().putInt(id).array());
                    }
                }
            }
            sha.update(Integer.toString(examples.size()).getBytes(StandardCharsets.US_ASCII));
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        optimizer.close();
        manager.close();
    }
}
