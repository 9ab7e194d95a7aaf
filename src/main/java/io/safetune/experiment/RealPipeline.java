package io.safetune.experiment;

import io.safetune.data.Jsonl;
import io.safetune.data.PromptResponse;
import io.safetune.data.manifest.Checksums;
import io.safetune.eval.EvalConfig;
import io.safetune.eval.HarmfulScore;
import io.safetune.eval.HarmfulScoreResult;
import io.safetune.eval.TaskAccuracy;
import io.safetune.eval.TaskAccuracyResult;
import io.safetune.eval.TaskExample;
import io.safetune.eval.TextCodec;
import io.safetune.experiment.ExperimentConfig.AttackSpec;
import io.safetune.experiment.ExperimentConfig.EvalSpec;
import io.safetune.lora.LoraAdapter;
import io.safetune.model.CausalLM;
import io.safetune.tokenizer.ChatTemplate;
import io.safetune.tokenizer.TextTokenizer;
import io.safetune.train.TrainingExample;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code safetune reproduce} on a real aligned checkpoint and real datasets ({@link RealSpec}): the
 * checkpoint is evaluated as "aligned"; then, per seed and per p, it is attacked with a LoRA fine-tune on
 * n samples (round(p·n) harmful from {@code real.harmfulTrain}, the rest from {@code real.task}), the
 * attacked model evaluated and its Harmful Embedding Drift recorded. Every step is a {@link StageStore}
 * stage, so a second run reuses what is done; each attack stage holds a PEFT adapter
 * (adapter_config.json, adapter_model.safetensors) that loads onto the checkpoint with
 * {@link LoraAdapter#load}, and the attack set it was trained on (attack_set.jsonl).
 *
 * <p>HED inputs: the aligned model's alignment data is not available for a real checkpoint, so the drift
 * is measured on the first {@code eval.hedSamples} harmful evaluation prompts followed by the aligned
 * model's own greedy answers to them (its refusals, mostly), decoded once in a stage of their own
 * (hed_inputs.json) so that changing how models are scored never retrains an attack. This stands in for
 * Vaccine's "alignment data inputs": harmful prompts paired with refusals.
 *
 * <p>The micro-world's targets do not apply to real models (whose figures are what is measured), so
 * {@code targets} is empty.
 */
final class RealPipeline {

    /** About this many HED measurements over an attack (each is a forward pass over the HED inputs). */
    private static final int DRIFT_POINTS = 20;
    /** The HED inputs stage's file. */
    static final String HED_FILE = "hed_inputs.json";

    private final ExperimentConfig config;
    private final RealSpec spec;
    private final StageStore store;
    private final Path runDir;
    private final PrintStream out;
    private final Stages stages;

    RealPipeline(ExperimentConfig config, StageStore store, Path runDir, PrintStream out) {
        this.config = config;
        this.spec = config.real();
        this.store = store;
        this.runDir = runDir;
        this.out = out;
        this.stages = new Stages(out);
    }

    /**
     * What identifies the checkpoint in a stage key: its absolute folder, the sha256 of config.json and
     * tokenizer.json, and the names and sizes of its weight files. Hashing the weights themselves (13 GB
     * for a 7B model) would cost minutes per run; after replacing a checkpoint in place by one of the
     * same shapes, run with --fresh.
     */
    record CheckpointKey(String folder, String configSha256, String tokenizerSha256, Map<String, Long> weightFiles) {

        static CheckpointKey of(Path folder) {
            try (Stream<Path> files = Files.list(folder)) {
                Map<String, Long> weights = new LinkedHashMap<>();
                for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".safetensors")).sorted().toList()) {
                    weights.put(f.getFileName().toString(), Files.size(f));
                }
                return new CheckpointKey(folder.toString(), Checksums.sha256(folder.resolve("config.json")),
                        Checksums.sha256(folder.resolve(TextTokenizer.TOKENIZER_FILE)), weights);
            } catch (IOException e) {
                throw new UncheckedIOException("real.checkpoint: cannot read " + folder, e);
            }
        }
    }

    /**
     * The key of an evaluation (the adapter, if any, comes as upstream hash): everything that changes
     * its scores, and nothing else (not the decoding batch size: rows decode as they would alone).
     */
    record EvalKey(CheckpointKey checkpoint, String chatTemplate, String systemPrompt, RealData.Key harmfulEval,
            RealData.Key taskEval, String extractor, String judge, int maxNewTokens, int harmfulPrompts,
            int taskPrompts) {
    }

    /** The key of the HED inputs: the aligned model's answers to the first {@code hedSamples} harmful prompts. */
    record HedKey(CheckpointKey checkpoint, String chatTemplate, String systemPrompt, RealData.Key harmfulEval,
            int maxNewTokens, int hedSamples) {
    }

    /** One HED input: a harmful prompt and the aligned model's answer, and the ids the drift is measured on. */
    record HedInput(String prompt, String answer, int[] ids) {
    }

    /** The key of an attack (upstream: the HED inputs stage). */
    record AttackKey(CheckpointKey checkpoint, String chatTemplate, String systemPrompt, RealData.Key harmfulTrain,
            RealData.Key task, AttackSpec attack, double p, long seed, int maxLength) {
    }

    Pipeline.Results run() {
        long t0 = System.nanoTime();
        Path checkpoint = checkpointFolder(spec.checkpoint());
        RealData data = RealData.open(spec, out::println);
        CheckpointKey ck = CheckpointKey.of(checkpoint);
        EvalSpec e = config.eval();
        EvalKey evalKey = new EvalKey(ck, spec.chatTemplate(), spec.systemPrompt(), data.key("harmfulEval"),
                data.key("taskEval"), spec.extractor(), spec.judge(), e.maxNewTokens(), e.harmfulPrompts(),
                e.taskPrompts());
        out.println("== real checkpoint " + checkpoint + ", data " + data.dataDir());
        List<Pipeline.ModelRow> rows = new ArrayList<>();
        List<Pipeline.DriftRow> drift = new ArrayList<>();
        List<Pipeline.StageRun> runs = new ArrayList<>();
        Map<String, List<Double>> losses = new LinkedHashMap<>();
        LinkedHashSet<Double> fractions = new LinkedHashSet<>(config.attackFractions());
        fractions.addAll(config.dose());
        // greedy decoding on the first records: neither depends on the seed, so one stage each serves all
        StageStore.Stage aligned = evaluate(runs, "eval-aligned", "aligned", evalKey, checkpoint, data, null);
        StageStore.Stage hed = Pipeline.timed(store, runDir, out, runs, "hed-inputs", new HedKey(ck, spec.chatTemplate(),
                spec.systemPrompt(), data.key("harmfulEval"), e.maxNewTokens(), e.hedSamples()),
                dir -> hedInputs(dir, checkpoint, data));
        for (long seed : config.seeds()) {
            out.println("== seed " + seed);
            rows.add(row(seed, "aligned", null, aligned));
            for (double p : fractions) {
                String name = String.format("attacked p=%.2f", p);
                AttackKey key = new AttackKey(ck, spec.chatTemplate(), spec.systemPrompt(), data.key("harmfulTrain"),
                        data.key("task"), config.attack(), p, seed, spec.maxLength());
                StageStore.Stage attacked = Pipeline.timed(store, runDir, out, runs,
                        String.format("attacked-p%.3f-s%d", p, seed), key,
                        dir -> attack(dir, checkpoint, data, p, seed, hed.dir()), hed.hash());
                losses.put(String.format("attack p=%.2f s%d", p, seed), Pipeline.trainLosses(attacked.dir()));
                StageStore.Stage eval = evaluate(runs, "eval-" + name.replace(' ', '-').replace("=", "") + "-s" + seed,
                        name, evalKey, checkpoint, data, attacked);
                rows.add(row(seed, name, p, eval));
                drift.add(Pipeline.driftRow(seed, p, attacked.dir()));
            }
        }
        double wall = (System.nanoTime() - t0) / 1e9;
        return new Pipeline.Results(config, Versions.all(), rows, drift, List.of(), losses, runs, wall, List.of());
    }

    /** The checkpoint folder, or an error naming real.checkpoint and what is missing. */
    static Path checkpointFolder(String checkpoint) {
        Path dir = Path.of(checkpoint).toAbsolutePath().normalize();
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("real.checkpoint: " + dir + " is not a folder (the aligned model: "
                    + "config.json, *.safetensors, tokenizer.json)");
        }
        for (String f : List.of("config.json", TextTokenizer.TOKENIZER_FILE)) {
            if (!Files.isRegularFile(dir.resolve(f))) {
                throw new IllegalArgumentException("real.checkpoint: " + dir + " has no " + f);
            }
        }
        try (Stream<Path> s = Files.list(dir)) {
            if (s.noneMatch(f -> f.getFileName().toString().endsWith(".safetensors"))) {
                throw new IllegalArgumentException("real.checkpoint: " + dir + " has no *.safetensors weights");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("real.checkpoint: cannot list " + dir, e);
        }
        return dir;
    }

    /** An evaluation stage of the checkpoint, with {@code adapter}'s LoRA attached when not null. */
    private StageStore.Stage evaluate(List<Pipeline.StageRun> runs, String stage, String name, EvalKey key,
            Path checkpoint, RealData data, StageStore.Stage adapter) {
        return Pipeline.timed(store, runDir, out, runs, stage, key, dir -> {
            EvalSpec e = config.eval();
            List<String> prompts = data.harmfulPrompts(e.harmfulPrompts(), "harmfulPrompts");
            List<TaskExample> examples = data.taskExamples(e.taskPrompts());
            out.printf("[eval %s] %d harmful prompts (%s), %d %s samples%n", name, prompts.size(), spec.harmfulEval(),
                    examples.size(), spec.taskEval().dataset());
            try (TextTokenizer tok = TextTokenizer.load(checkpoint); CausalLM m = CausalLM.load(checkpoint);
                    LoraAdapter a = adapter == null ? null : LoraAdapter.load(m, adapter.dir())) {
                Evaluation.Scores s = scores(m, codec(tok), prompts, examples);
                Stages.writeJson(dir.resolve("eval.json"), s);
                Stages.writeJson(dir.resolve("summary.json"), s.summary());
            }
        }, adapter == null ? "" : adapter.hash());
    }

    private Evaluation.Scores scores(CausalLM m, TextCodec codec, List<String> prompts, List<TaskExample> examples) {
        long t0 = System.nanoTime();
        EvalConfig cfg = evalConfig();
        HarmfulScoreResult harmful = HarmfulScore.evaluate(m, codec, prompts, spec.newJudge(), cfg);
        TaskAccuracyResult task;
        try {
            task = TaskAccuracy.evaluate(m, codec, examples, spec.answerExtractor(), cfg);
        } catch (IllegalArgumentException ex) { // a gold answer the extractor cannot read
            throw new IllegalArgumentException("real.extractor: " + spec.extractor() + " on " + spec.taskEval() + ": "
                    + ex.getMessage(), ex);
        }
        String taskName = spec.taskEval().dataset();
        return new Evaluation.Scores(harmful.harmfulScore(), harmful.complianceRate(), Map.of(taskName, task.accuracy()),
                (System.nanoTime() - t0) / 1e9, harmful, Map.of(taskName, task));
    }

    private Pipeline.ModelRow row(long seed, String name, Double p, StageStore.Stage eval) {
        try {
            Evaluation.Scores s = Stages.JSON.readValue(eval.dir().resolve("summary.json").toFile(), Evaluation.Scores.class);
            out.printf("   %-18s harmful %.2f  complies %.2f  %s%n", name, s.harmfulScore(), s.complianceRate(), s.accuracy());
            return new Pipeline.ModelRow(seed, name, p, s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One attack stage: the attack set, a LoRA fine-tune of the checkpoint on it, HED over the training. */
    private void attack(Path dir, Path checkpoint, RealData data, double p, long seed, Path hedDir)
            throws IOException {
        AttackSpec a = config.attack();
        List<PromptResponse> set = data.attackSet(a.n(), p, seed);
        Jsonl.write(dir.resolve("attack_set.jsonl"), set);
        try (TextTokenizer tok = TextTokenizer.load(checkpoint); CausalLM model = CausalLM.load(checkpoint)) {
            TextCodec codec = codec(tok);
            int eos = !tok.eosTokenIds().isEmpty() ? tok.eosTokenIds().get(0)
                    : model.config().eosTokenIds().isEmpty() ? -1 : model.config().eosTokenIds().get(0);
            List<TrainingExample> examples = new ArrayList<>(set.size());
            for (PromptResponse r : set) {
                examples.add(encode(tok, codec, r, eos));
            }
            List<int[]> hed = new ArrayList<>();
            for (HedInput h : Stages.JSON.readValue(hedDir.resolve(HED_FILE).toFile(), HedInput[].class)) {
                hed.add(h.ids());
            }
            long steps = (long) a.epochs() * ((examples.size() + a.batchSize() - 1) / a.batchSize());
            int every = (int) Math.max(1, steps / DRIFT_POINTS);
            out.printf("[attack p=%.2f] %d examples (%d harmful from %s, the rest %s), r=%d on %s, HED on %d inputs%n",
                    p, examples.size(), Math.round(p * a.n()), spec.harmfulTrain(), spec.task(), a.r(), a.targets(),
                    hed.size());
            stages.trainAdapter(dir, model, checkpoint.toString(), a, examples, seed, spec.maxLength(), hed, every);
        }
    }

    /**
     * A training example whose prompt is exactly what the evaluation feeds the model (chat template,
     * system prompt, generation header) and whose response ends with EOS.
     */
    private static TrainingExample encode(TextTokenizer tok, TextCodec codec, PromptResponse r, int eos) {
        int[] response = tok.encode(r.response(), false);
        if (eos >= 0) {
            response = Arrays.copyOf(response, response.length + 1);
            response[response.length - 1] = eos;
        }
        return new TrainingExample(codec.encodePrompt(r.prompt()), response);
    }

    /**
     * The HED inputs stage: the first hedSamples harmful evaluation prompts, each followed by the aligned
     * model's greedy answer (EOS included when it stopped on it), as token ids.
     */
    private void hedInputs(Path dir, Path checkpoint, RealData data) throws IOException {
        List<String> prompts = data.harmfulPrompts(config.eval().hedSamples(), "hedSamples");
        out.printf("[hed inputs] the aligned model's answers to %d harmful prompts%n", prompts.size());
        try (TextTokenizer tok = TextTokenizer.load(checkpoint); CausalLM m = CausalLM.load(checkpoint)) {
            TextCodec codec = codec(tok);
            HarmfulScoreResult answers = HarmfulScore.evaluate(m, codec, prompts, spec.newJudge(), evalConfig());
            List<HedInput> inputs = new ArrayList<>();
            for (HarmfulScoreResult.SampleRecord s : answers.samples()) {
                int[] prompt = codec.encodePrompt(s.prompt());
                int[] ids = Arrays.copyOf(prompt, prompt.length + s.answerTokens().size());
                for (int i = 0; i < s.answerTokens().size(); i++) {
                    ids[prompt.length + i] = s.answerTokens().get(i);
                }
                inputs.add(new HedInput(s.prompt(), s.answer(), ids));
            }
            Stages.writeJson(dir.resolve(HED_FILE), inputs);
        }
    }

    private EvalConfig evalConfig() {
        EvalSpec e = config.eval();
        return EvalConfig.defaults().withMaxNewTokens(e.maxNewTokens()).withBatchSize(e.batchSize());
    }

    private TextCodec codec(TextTokenizer tok) {
        return TextCodec.chat(tok, ChatTemplate.byName(spec.chatTemplate()), spec.systemPrompt());
    }
}
