package io.safetune.experiment;

import io.safetune.data.Jsonl;
import io.safetune.data.PromptResponse;
import io.safetune.data.TrainingExample;
import io.safetune.data.manifest.Checksums;
import io.safetune.eval.EvalConfig;
import io.safetune.eval.HarmfulScore;
import io.safetune.eval.HarmfulScoreResult;
import io.safetune.eval.TaskAccuracy;
import io.safetune.eval.TaskAccuracyResult;
import io.safetune.eval.TaskExample;
import io.safetune.eval.TextCodec;
import io.safetune.experiment.ExperimentConfig.EvalSpec;
import io.safetune.lora.LoraAdapter;
import io.safetune.method.Target;
import io.safetune.model.CausalLM;
import io.safetune.tokenizer.ChatTemplate;
import io.safetune.tokenizer.TextTokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A real aligned checkpoint (and, for post-processes that need it, its unaligned base) with datasets
 * read through their manifests ({@link RealData}), as the story's source. Each attack set samples
 * round(p·n) harmful records of {@code real.harmfulTrain} and the rest of {@code real.task}; prompts go
 * through the chat template the evaluation uses, responses end with EOS.
 *
 * <p>HED inputs: a real checkpoint's alignment data is not available, so the drift is measured on the
 * first {@code eval.hedSamples} harmful evaluation prompts followed by the aligned model's own greedy
 * answers to them (its refusals, mostly), decoded once in a stage of their own (hed_inputs.json), so
 * that changing how models are scored never retrains an attack. This stands in for Vaccine's "alignment
 * data inputs": harmful prompts paired with refusals.
 *
 * <p>With {@code real.alignment} the aligned models are the story's own: real.base aligned by each align
 * filler on the first {@code real.alignmentSamples} records of that set, encoded as the attack's are
 * (chat template, EOS), each seed a stage of its own.
 *
 * <p>The micro-world's targets do not apply to real models, whose figures are what is measured.
 */
final class RealSource implements Source {

    /** The HED inputs stage's file. */
    static final String HED_FILE = "hed_inputs.json";

    private final ExperimentConfig config;
    private final RealSpec spec;
    private final Stages stages;
    private final Path checkpoint; // null with real.alignment
    private final CheckpointKey checkpointKey;
    private final Optional<Path> base;
    private final RealData data;

    RealSource(ExperimentConfig config, Stages stages) {
        this.config = config;
        this.spec = config.real();
        this.stages = stages;
        this.checkpoint = spec.checkpoint() == null ? null : checkpointFolder("real.checkpoint", spec.checkpoint());
        this.base = spec.base() == null ? Optional.empty() : Optional.of(checkpointFolder("real.base", spec.base()));
        this.data = RealData.open(spec, stages.out()::println);
        this.checkpointKey = checkpoint == null ? null : CheckpointKey.of(checkpoint);
    }

    /**
     * What identifies a checkpoint in a stage key: its absolute folder, the sha256 of config.json and
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
                throw new UncheckedIOException("cannot read " + folder, e);
            }
        }

        String hash() {
            return StageStore.hash(this);
        }
    }

    /** The key of an evaluation: everything that changes its scores besides the model (not the batch size). */
    record EvalKey(String chatTemplate, String systemPrompt, RealData.Key harmfulEval, RealData.Key taskEval,
            String extractor, String judge, int maxNewTokens, int harmfulPrompts, int taskPrompts) {
    }

    /** The key of the HED inputs: the aligned model's answers to the first {@code hedSamples} harmful prompts. */
    record HedKey(CheckpointKey checkpoint, String chatTemplate, String systemPrompt, RealData.Key harmfulEval,
            int maxNewTokens, int hedSamples) {
    }

    /** One HED input: a harmful prompt and the aligned model's answer, and the ids the drift is measured on. */
    record HedInput(String prompt, String answer, int[] ids) {
    }

    /** What an alignment stage depends on besides its method, settings, training spec and the base. */
    record AlignmentKey(String chatTemplate, String systemPrompt, RealData.Key alignment, int samples, int maxLength,
            long seed) {
    }

    /** What an attack set depends on. */
    record AttackKey(String chatTemplate, String systemPrompt, RealData.Key harmfulTrain, RealData.Key task, double p,
            long seed, int maxLength) {
    }

    @Override
    public String describe() {
        return spec.alignment() == null ? "Real checkpoint " + spec.checkpoint()
                : "Real base " + spec.base() + " aligned on " + spec.alignment() + " (first " + spec.alignmentSamples() + ")";
    }

    @Override
    public Optional<Stages.Product> base(long seed) {
        return base.map(b -> new Stages.Product("base", b, CheckpointKey.of(b).hash()));
    }

    @Override
    public boolean scoresBase() {
        return false;
    }

    @Override
    public Optional<Stages.Product> givenAligned() {
        return checkpoint == null ? Optional.empty() : Optional.of(new Stages.Product("aligned", checkpoint, checkpointKey.hash()));
    }

    @Override
    public List<TrainingExample> alignmentData(Path modelDir, long seed) {
        if (spec.alignment() == null) {
            throw new IllegalArgumentException("defences: the align slot needs an alignment set; this experiment has none "
                    + "(real.checkpoint is the aligned model; set real.alignment and real.base to align here)");
        }
        List<PromptResponse> set = data.alignmentSet(spec.alignmentSamples());
        stages.out().printf("[aligned] %d examples, the first of %s%n", set.size(), spec.alignment());
        return encode(set, modelDir);
    }

    @Override
    public io.safetune.method.AlignFlow alignFlow() {
        return io.safetune.method.AlignFlow.LORA;
    }

    @Override
    public Object alignmentKey(long seed) {
        return spec.alignment() == null ? checkpointKey : new AlignmentKey(spec.chatTemplate(), spec.systemPrompt(),
                data.key("alignment"), spec.alignmentSamples(), spec.maxLength(), seed);
    }

    /** The checkpoint folder, or an error naming {@code field} and what is missing. */
    static Path checkpointFolder(String field, String checkpoint) {
        Path dir = Path.of(checkpoint).toAbsolutePath().normalize();
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(field + ": " + dir + " is not a folder (config.json, *.safetensors, tokenizer.json)");
        }
        for (String f : List.of("config.json", TextTokenizer.TOKENIZER_FILE)) {
            if (!Files.isRegularFile(dir.resolve(f))) {
                throw new IllegalArgumentException(field + ": " + dir + " has no " + f);
            }
        }
        try (Stream<Path> s = Files.list(dir)) {
            if (s.noneMatch(f -> f.getFileName().toString().endsWith(".safetensors"))) {
                throw new IllegalArgumentException(field + ": " + dir + " has no *.safetensors weights");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(field + ": cannot list " + dir, e);
        }
        return dir;
    }

    @Override
    public List<PromptResponse> attackRecords(double p, long seed) {
        return data.attackSet(config.attack().n(), p, seed);
    }

    @Override
    public List<TrainingExample> attackSet(Path modelDir, double p, long seed, Path stageDir) {
        List<PromptResponse> set = attackRecords(p, seed);
        Jsonl.write(stageDir.resolve("attack_set.jsonl"), set);
        stages.out().printf("[attack p=%.2f] %d examples (%d harmful from %s, the rest %s), r=%d on %s%n", p, set.size(),
                Math.round(p * config.attack().n()), spec.harmfulTrain(), spec.task(), config.attack().r(),
                config.attack().targets());
        return encode(set, modelDir);
    }

    /** Records as training examples: the prompt through the chat template, the response ended by EOS. */
    private List<TrainingExample> encode(List<PromptResponse> set, Path modelDir) {
        try (TextTokenizer tok = TextTokenizer.load(modelDir)) {
            TextCodec codec = codec(tok);
            int eos = eos(tok, modelDir);
            List<TrainingExample> examples = new ArrayList<>(set.size());
            for (PromptResponse r : set) {
                int[] response = tok.encode(r.response(), false);
                if (eos >= 0) {
                    response = Arrays.copyOf(response, response.length + 1);
                    response[response.length - 1] = eos;
                }
                examples.add(new TrainingExample(codec.encodePrompt(r.prompt()), response));
            }
            return examples;
        }
    }

    /** The tokenizer's EOS, else config.json's, else none (-1). */
    private static int eos(TextTokenizer tok, Path modelDir) {
        if (!tok.eosTokenIds().isEmpty()) {
            return tok.eosTokenIds().get(0);
        }
        List<Integer> ids = io.safetune.checkpoint.ModelConfig.load(modelDir).eosTokenIds();
        return ids.isEmpty() ? -1 : ids.get(0);
    }

    @Override
    public Object attackKey(double p, long seed) {
        return new AttackKey(spec.chatTemplate(), spec.systemPrompt(), data.key("harmfulTrain"), data.key("task"), p, seed,
                spec.maxLength());
    }

    @Override
    public int maxLength() {
        return spec.maxLength();
    }

    /** About 20 measurements over the fine-tune (each a forward pass over the HED inputs). */
    @Override
    public int driftEvery(long steps) {
        return (int) Math.max(1, steps / 20);
    }

    @Override
    public HedInputs hedInputs(Stages.Product aligned, long seed) {
        Stages.Product hed = stages.get("hed-inputs", hedKey(aligned),
                dir -> writeAnswers(dir, aligned.dir(), data.harmfulPrompts(config.eval().hedSamples(), "hedSamples"), "hed inputs"));
        List<int[]> ids = new ArrayList<>();
        for (HedInput h : Stages.read(hed.dir().resolve(HED_FILE), HedInput[].class)) {
            ids.add(h.ids());
        }
        return new HedInputs(ids, hed.hash());
    }

    /** How many safety prompts a fine-tune defence may read (SaLoRA's default is 128). */
    static final int SAFETY_PROMPTS = 128;

    /** The key of the safety data: the aligned model's answers to the first harmfulTrain prompts. */
    record SafetyKey(CheckpointKey checkpoint, String chatTemplate, String systemPrompt, RealData.Key harmfulTrain,
            int maxNewTokens, int prompts) {
    }

    /**
     * The first {@value #SAFETY_PROMPTS} prompts of {@code real.harmfulTrain} with the checkpoint's own
     * greedy answers (its refusals, mostly), prompt and answer apart, decoded once in a stage of their own.
     * Never the evaluation's prompts: a defence fitted on them would be scored on what it saw.
     */
    @Override
    public List<TrainingExample> safetyData(Stages.Product aligned, long seed) {
        EvalSpec e = config.eval();
        Stages.Product stage = stages.get("safety-data", new SafetyKey(CheckpointKey.of(aligned.dir()), spec.chatTemplate(),
                spec.systemPrompt(), data.key("harmfulTrain"), e.maxNewTokens(), SAFETY_PROMPTS),
                dir -> writeAnswers(dir, aligned.dir(), data.prompts("harmfulTrain", SAFETY_PROMPTS), "safety data"));
        List<TrainingExample> out = new ArrayList<>();
        try (TextTokenizer tok = TextTokenizer.load(aligned.dir())) {
            TextCodec codec = codec(tok);
            for (HedInput h : Stages.read(stage.dir().resolve(HED_FILE), HedInput[].class)) {
                int prompt = codec.encodePrompt(h.prompt()).length;
                if (h.ids().length > prompt) {
                    out.add(new TrainingExample(Arrays.copyOf(h.ids(), prompt), Arrays.copyOfRange(h.ids(), prompt, h.ids().length)));
                }
            }
        }
        return out;
    }

    private HedKey hedKey(Stages.Product aligned) {
        EvalSpec e = config.eval();
        return new HedKey(CheckpointKey.of(aligned.dir()), spec.chatTemplate(), spec.systemPrompt(), data.key("harmfulEval"),
                e.maxNewTokens(), e.hedSamples());
    }

    /** Harmful prompts, each followed by the aligned model's greedy answer, as ids (hed_inputs.json). */
    private void writeAnswers(Path dir, Path aligned, List<String> prompts, String what) throws IOException {
        stages.out().printf("[%s] the aligned model's answers to %d harmful prompts%n", what, prompts.size());
        try (TextTokenizer tok = TextTokenizer.load(aligned); CausalLM m = CausalLM.load(aligned)) {
            TextCodec codec = codec(tok);
            HarmfulScoreResult answers = HarmfulScore.evaluate(m, codec, prompts, spec.newJudge(), evalConfig(config.eval()));
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

    private EvalSpec spec(Scope scope) {
        return scope == Scope.FULL ? config.eval() : config.variantEval();
    }

    @Override
    public Object evalKey(Scope scope) {
        if (scope == Scope.VALIDATION) {
            return "no validation split";
        }
        EvalSpec e = spec(scope);
        return new EvalKey(spec.chatTemplate(), spec.systemPrompt(), data.key("harmfulEval"), data.key("taskEval"),
                spec.extractor(), spec.judge(), e.maxNewTokens(), e.harmfulPrompts(), e.taskPrompts());
    }

    @Override
    public AdapterScorer adapterScorer(long seed, Path modelDir, Scope scope) {
        if (scope == Scope.VALIDATION) {
            throw new IllegalArgumentException("defences: a knob tuned on a validation split (a post-process's tolerance) "
                    + "needs one, and real data has none yet (real.task's records may be in the attack set); name the knob "
                    + "itself (e.g. k)");
        }
        EvalSpec e = spec(scope);
        String field = scope == Scope.FULL ? "" : "variantEval ";
        List<String> prompts = data.harmfulPrompts(e.harmfulPrompts(), field + "harmfulPrompts");
        List<TaskExample> examples = data.taskExamples(e.taskPrompts());
        TextTokenizer tok = TextTokenizer.load(modelDir);
        CausalLM m = CausalLM.load(modelDir);
        return new AdapterScorer() {
            @Override
            public Evaluation.Scores score(Path adapterDir) {
                try (LoraAdapter a = adapterDir == null ? null : LoraAdapter.load(m, adapterDir)) {
                    return scores(m, codec(tok), prompts, examples, e);
                }
            }

            @Override
            public void close() {
                m.close();
                tok.close();
            }
        };
    }

    private Evaluation.Scores scores(CausalLM m, TextCodec codec, List<String> prompts, List<TaskExample> examples, EvalSpec e) {
        long t0 = System.nanoTime();
        EvalConfig cfg = evalConfig(e);
        HarmfulScoreResult harmful = HarmfulScore.evaluate(m, codec, prompts, spec.newJudge(), cfg);
        TaskAccuracyResult task;
        try {
            task = TaskAccuracy.evaluate(m, codec, examples, spec.answerExtractor(), cfg);
        } catch (IllegalArgumentException ex) { // a gold answer the extractor cannot read
            throw new IllegalArgumentException("real.extractor: " + spec.extractor() + " on " + spec.taskEval() + ": "
                    + ex.getMessage(), ex);
        }
        return new Evaluation.Scores(harmful.harmfulScore(), harmful.complianceRate(), Map.of(task(), task.accuracy()),
                (System.nanoTime() - t0) / 1e9, harmful, Map.of(task(), task));
    }

    private static EvalConfig evalConfig(EvalSpec e) {
        return EvalConfig.defaults().withMaxNewTokens(e.maxNewTokens()).withBatchSize(e.batchSize());
    }

    private TextCodec codec(TextTokenizer tok) {
        return TextCodec.chat(tok, ChatTemplate.byName(spec.chatTemplate()), spec.systemPrompt());
    }

    @Override
    public String task() {
        return spec.taskEval().dataset();
    }

    @Override
    public List<Target> targets() {
        return List.of();
    }

    @Override
    public boolean checksTargets() {
        return false;
    }
}
