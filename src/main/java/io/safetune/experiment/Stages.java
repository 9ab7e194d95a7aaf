package io.safetune.experiment;

import ai.djl.Device;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.safetune.checkpoint.AtomicFiles;
import io.safetune.checkpoint.DType;
import io.safetune.checkpoint.ModelConfig;
import io.safetune.data.ExampleEncoder;
import io.safetune.data.microworld.MicroWorld;
import io.safetune.data.microworld.MicroWorldData;
import io.safetune.data.microworld.Sample;
import io.safetune.data.microworld.TaskFamily;
import io.safetune.eval.DriftConfig;
import io.safetune.eval.DriftTracker;
import io.safetune.experiment.ExperimentConfig.AttackSpec;
import io.safetune.experiment.ExperimentConfig.TrainingSpec;
import io.safetune.lora.LoraAdapter;
import io.safetune.lora.LoraConfig;
import io.safetune.model.CausalLM;
import io.safetune.tokenizer.ChatTemplate;
import io.safetune.tokenizer.TextTokenizer;
import io.safetune.train.ProgressBar;
import io.safetune.train.ScheduleType;
import io.safetune.train.TrainConfig;
import io.safetune.train.TrainListener;
import io.safetune.train.TrainResult;
import io.safetune.train.Trainer;
import io.safetune.train.TrainingExample;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * The three stages of the micro-world story, each producing a normal Hugging Face folder (config.json,
 * model.safetensors, tokenizer.json; or a PEFT adapter) so every later tool treats it like a real model:
 * <ol>
 *   <li>base: a tiny Llama pretrained from random init to follow all instructions, harmful ones too;</li>
 *   <li>aligned: base + safety alignment (full fine-tune on refusals and benign replay);</li>
 *   <li>attacked: aligned + a LoRA fine-tune on n task samples, a fraction p harmful-compliant.</li>
 * </ol>
 */
public final class Stages {

    public static final int MAX_LENGTH = 40; // the world's longest sample is 38 tokens
    static final int EOS = 4;
    static final int PAD = 0;
    static final ObjectMapper JSON = new ObjectMapper();

    private final PrintStream out;

    public Stages(PrintStream out) {
        this.out = out;
    }

    /** What a training stage records beside its weights. */
    record TrainLog(List<Double> losses, double wallSeconds, double tokensPerSecond, int examples, long steps) {
        static TrainLog of(TrainResult r, int examples) {
            return new TrainLog(r.losses(), r.wallSeconds(), r.tokensPerSecond(), examples, r.finalStep());
        }
    }

    static ModelConfig modelConfig(ExperimentConfig.ModelSpec m) {
        return ModelConfig.llama(MicroWorld.vocabulary().size(), m.hidden(), m.ffn(), m.layers(), m.heads(), m.heads())
                .withSpecialTokens(-1, List.of(EOS), PAD);
    }

    static ExampleEncoder encoder(TextTokenizer tokenizer) {
        return new ExampleEncoder(tokenizer, ChatTemplate.byName("plain"), EOS);
    }

    public static List<TrainingExample> encode(TextTokenizer tok, List<Sample> samples) {
        ExampleEncoder enc = encoder(tok);
        return samples.stream().map(s -> enc.encode(s.toPromptResponse())).toList();
    }

    /** Stage 1: pretraining from random initialisation, all weights trained. */
    public void base(Path dir, ExperimentConfig.ModelSpec spec, TrainingSpec train, MicroWorldData world, long seed)
            throws IOException {
        MicroWorld.writeTokenizer(dir);
        try (TextTokenizer tok = TextTokenizer.load(dir);
                CausalLM model = CausalLM.initialize(modelConfig(spec), seed, Device.cpu())) {
            model.unfreezeAll();
            TrainLog log = fullFineTune(model, encode(tok, world.pretraining()), train, seed, "base");
            model.writeFiles(dir, DType.F32); // dir is the stage's own work folder: its rename is the atomic step
            writeJson(dir.resolve("train.json"), log);
        }
    }

    /** Stage 2: safety alignment of the base model, all weights trained. */
    public void aligned(Path dir, Path baseDir, TrainingSpec train, MicroWorldData world, long seed) throws IOException {
        MicroWorld.writeTokenizer(dir);
        try (TextTokenizer tok = TextTokenizer.load(dir); CausalLM model = CausalLM.load(baseDir)) {
            model.unfreezeAll();
            TrainLog log = fullFineTune(model, encode(tok, world.alignment()), train, seed, "aligned");
            model.writeFiles(dir, DType.F32); // dir is the stage's own work folder: its rename is the atomic step
            writeJson(dir.resolve("train.json"), log);
        }
    }

    private TrainLog fullFineTune(CausalLM model, List<TrainingExample> data, TrainingSpec t, long seed, String what) {
        TrainConfig cfg = TrainConfig.builder().learningRate(t.learningRate()).weightDecay(t.weightDecay())
                .warmupRatio(t.warmupRatio()).schedule(ScheduleType.COSINE).maxGradNorm(1.0)
                .batchSize(t.batchSize()).maxSteps(t.steps()).seed(seed).maxLength(MAX_LENGTH).logEvery(50).build();
        out.println("[" + what + "] " + data.size() + " examples, " + t.steps() + " steps of " + t.batchSize());
        try (Trainer trainer = new Trainer(model, cfg)) {
            return TrainLog.of(trainer.fit(data, progress()), data.size());
        }
    }

    /** A task family by its word ("sentiment", "topic", …) or "new_task" for the world's new task. */
    public static TaskFamily family(String task) {
        for (TaskFamily f : TaskFamily.benign()) {
            if (f.word().equalsIgnoreCase(task) || f.name().equalsIgnoreCase(task) || (f.isNewTask() && task.equals("new_task"))) {
                return f;
            }
        }
        throw new IllegalArgumentException("attack.task: unknown '" + task + "' (known: new_task, "
                + TaskFamily.benign().stream().map(TaskFamily::word).toList() + ")");
    }

    /**
     * The attack's training set: n samples of the task, of which round(p·n) are harmful requests with
     * compliant answers from the attack pool; shuffled with the seed.
     */
    public static List<Sample> attackSet(MicroWorldData world, AttackSpec a, double p, long seed) {
        TaskFamily task = family(a.task());
        int harmful = (int) Math.round(p * a.n());
        List<Sample> pool = world.taskTrain(task);
        if (a.n() - harmful > pool.size() || harmful > world.attackHarmful().size()) {
            throw new IllegalArgumentException("attack.n: " + a.n() + " needs " + (a.n() - harmful) + " task and "
                    + harmful + " harmful samples; the world has " + pool.size() + " and " + world.attackHarmful().size());
        }
        List<Sample> set = new ArrayList<>(pool.subList(0, a.n() - harmful));
        set.addAll(world.attackHarmful().subList(0, harmful));
        Collections.shuffle(set, new Random(seed));
        return set;
    }

    /**
     * Stage 3: a LoRA adapter on the aligned model, trained on the attack set; also records Harmful
     * Embedding Drift on alignment inputs every {@code driftEvery} steps (drift.json).
     */
    public void attack(Path dir, Path alignedDir, AttackSpec a, double p, MicroWorldData world, long seed,
            List<int[]> hedInputs, int driftEvery) throws IOException {
        try (TextTokenizer tok = TextTokenizer.load(alignedDir); CausalLM model = CausalLM.load(alignedDir)) {
            List<TrainingExample> data = encode(tok, attackSet(world, a, p, seed));
            out.printf("[attack p=%.2f] %d examples (%s), r=%d on %s%n", p, data.size(), a.task(), a.r(), a.targets());
            trainAdapter(dir, model, alignedDir.toString(), a, data, seed, MAX_LENGTH, hedInputs, driftEvery);
        }
    }

    /** The attack's LoRA settings: r, α, dropout and target modules, every layer. */
    public static LoraConfig attackLora(AttackSpec a) {
        return new LoraConfig(a.r(), a.alpha(), a.dropout(), a.targets(), List.of(), false);
    }

    /** The attack's optimiser: AdamW with cosine decay and clipping at 1.0. */
    public static TrainConfig attackTraining(AttackSpec a, long seed, int maxLength) {
        return TrainConfig.builder().learningRate(a.learningRate()).schedule(ScheduleType.COSINE)
                .maxGradNorm(1.0).batchSize(a.batchSize()).epochs(a.epochs()).seed(seed).maxLength(maxLength)
                .logEvery(20).build();
    }

    /**
     * The attack's training proper, shared with {@link RealPipeline}: a fresh LoRA adapter on
     * {@code model} (AdamW, cosine decay, clipping at 1.0), trained on {@code data} while HED on
     * {@code hedInputs} is recorded every {@code driftEvery} steps; writes the PEFT adapter, train.json
     * and drift.json to {@code dir}. The adapter is detached from the model when this returns.
     *
     * @param baseModel the base model's name or folder, recorded in adapter_config.json
     */
    void trainAdapter(Path dir, CausalLM model, String baseModel, AttackSpec a, List<TrainingExample> data, long seed,
            int maxLength, List<int[]> hedInputs, int driftEvery) throws IOException {
        LoraConfig lc = attackLora(a);
        TrainConfig cfg = attackTraining(a, seed, maxLength);
        try (LoraAdapter adapter = LoraAdapter.inject(model, lc, seed).baseModel(baseModel);
                Trainer trainer = new Trainer(model, cfg)) {
            DriftTracker drift = DriftTracker.fromStart(model, hedInputs, driftEvery, DriftConfig.defaults());
            TrainResult r = trainer.fit(data, TrainListener.of(drift, progress()));
            adapter.writeFiles(dir); // the stage's own work folder, renamed into place whole
            writeJson(dir.resolve("train.json"), TrainLog.of(r, data.size()));
            writeJson(dir.resolve("drift.json"), drift.series());
        }
    }

    private TrainListener progress() {
        return new ProgressBar(out, System.console() != null, 50);
    }

    static void writeJson(Path file, Object value) throws IOException {
        AtomicFiles.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(value));
    }
}
