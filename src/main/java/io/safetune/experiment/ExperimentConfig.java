package io.safetune.experiment;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.cfg.MapperBuilder;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import io.safetune.checkpoint.CheckpointException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * One experiment of the lab, as a JSON or YAML file: which seeds, the tiny model, and the three
 * stages of the micro-world story (base pretraining, safety alignment, the harmful fine-tuning attack),
 * plus evaluation. Every field has a default, so an empty file is the default experiment and a file
 * names only what it changes ({@link #load}); docs/configuration.md lists them.
 *
 * @param name              the run folder: runs/&lt;name&gt;/
 * @param seeds             one full pipeline per seed (the targets are checked over 3)
 * @param model             the tiny Llama's shape
 * @param base              stage 1: pretraining from random init on benign + harmful-compliant data
 * @param aligned           stage 2: full fine-tune on refusals + benign replay
 * @param attack            stage 3: LoRA fine-tune on n task samples with a fraction p harmful
 * @param attackFractions   the p values of stage 3 in the default pipeline (p = 0.1 attacks; p = 0 is
 *                          the benign control that shows the task is learned without harm)
 * @param dose              extra p values for the dose curve (empty: none)
 * @param eval              decoding and sample counts of the evaluation
 * @param real              null for the micro-world; set, a real aligned checkpoint and real datasets
 *                          (from data-manifests/) replace the world and stages 1–2
 * @param world             sizes of the micro-world's alignment set (null: the world's defaults)
 * @param defences          the defences and combinations beside the undefended story, each filling
 *                          slots of it (default on the micro-world: the registry's default post-process,
 *                          {@link Defences#DEFAULT_POST}; on real data: none, since it needs real.base;
 *                          empty: the undefended story alone, which always runs as the control)
 * @param variantEval       how each variant of a post-process sweep is scored (default: the first 100
 *                          held-out harmful and 100 task prompts, greedy, at most 48 new tokens: every
 *                          micro-world answer fits, and a projection that breaks the model would otherwise
 *                          decode 128 tokens of noise per prompt)
 */
@JsonIgnoreProperties(ignoreUnknown = false)
public record ExperimentConfig(String name, List<Long> seeds, ModelSpec model, TrainingSpec base,
        TrainingSpec aligned, AttackSpec attack, List<Double> attackFractions, List<Double> dose, EvalSpec eval,
        RealSpec real, WorldSpec world, List<Combination> defences, EvalSpec variantEval) {

    private static final ObjectMapper JSON = strict(JsonMapper.builder());
    private static final ObjectMapper YAML = strict(YAMLMapper.builder());

    /**
     * Reads nothing it was not given: unknown fields, duplicate keys, text after the document, a
     * fraction for an integer and a string for a number are errors, never guesses.
     */
    private static <M extends ObjectMapper, B extends MapperBuilder<M, B>> M strict(B builder) {
        return builder.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
                .build();
    }

    public ExperimentConfig {
        name = name == null ? "default" : name;
        if (!name.matches("[A-Za-z0-9_-][A-Za-z0-9._-]*")) {
            throw new IllegalArgumentException("name: '" + name + "' must be a folder name inside the runs folder "
                    + "(letters, digits, . _ -, not starting with a dot)");
        }
        seeds = seeds == null ? List.of(0L) : List.copyOf(seeds);
        if (seeds.isEmpty()) {
            throw new IllegalArgumentException("seeds: empty; name at least one seed (or leave the field out for [0])");
        }
        if (new java.util.HashSet<>(seeds).size() != seeds.size()) {
            throw new IllegalArgumentException("seeds: " + seeds + " names a seed twice");
        }
        model = model == null ? ModelSpec.DEFAULT : model;
        base = base == null ? TrainingSpec.BASE : base;
        aligned = aligned == null ? TrainingSpec.ALIGNED : aligned;
        attack = attack == null ? AttackSpec.DEFAULT : attack;
        attackFractions = attackFractions == null ? List.of(0.1, 0.0) : List.copyOf(attackFractions);
        dose = dose == null ? List.of() : List.copyOf(dose);
        for (double p : attackFractions) {
            fraction("attackFractions", p);
        }
        for (double p : dose) {
            fraction("dose", p);
        }
        distinct("attackFractions", attackFractions);
        distinct("dose", dose);
        printedApart(attackFractions, dose);
        eval = eval == null ? EvalSpec.DEFAULT : eval;
        world = world == null ? WorldSpec.DEFAULT : world;
        // the sweep needs the base model: the micro-world has one, a real experiment only with real.base
        defences = defences == null ? (real == null ? List.of(Combination.post(Defences.DEFAULT_POST)) : List.of()) : List.copyOf(defences);
        variantEval = variantEval == null ? VARIANT_EVAL : variantEval;
        java.util.Set<String> labels = new java.util.HashSet<>();
        java.util.Map<String, Object> products = new java.util.HashMap<>(); // label of a product → what made it
        for (int i = 0; i < defences.size(); i++) {
            Combination c = defences.get(i);
            if (c == null) {
                throw new IllegalArgumentException("defences[" + i + "]: empty entry");
            }
            if (!labels.add(c.label())) {
                throw new IllegalArgumentException("defences[" + i + "]: '" + c.label() + "' is listed twice (give one a name)");
            }
            for (io.safetune.method.Slot slot : io.safetune.method.Slot.values()) {
                Object before = products.putIfAbsent(slot + " " + c.labelUpTo(slot), c.fillersUpTo(slot));
                if (before != null && !before.equals(c.fillersUpTo(slot))) {
                    throw new IllegalArgumentException("defences[" + i + "]: its " + slot + " products would be labelled '"
                            + c.labelUpTo(slot) + "' like another entry's with other settings (give it a name)");
                }
            }
            for (io.safetune.method.Slot slot : io.safetune.method.Slot.values()) {
                Combination.Filler f = c.filler(slot);
                if (f != null && f.settings().tunesOnValidation()) {
                    if (real != null) {
                        throw new IllegalArgumentException("defences[" + i + "]." + slot.field() + ": '" + f.method() + "' tunes "
                                + "its knob on a validation split (tolerance), and real data has none yet; set the knob itself");
                    }
                    int pool = world.world(seeds.get(0)).taskTrainPerTask();
                    if (attack.n() + variantEval.taskPrompts() > pool) {
                        throw new IllegalArgumentException("defences[" + i + "]." + slot.field() + ": its validation split needs "
                                + "attack.n + variantEval.taskPrompts = " + (attack.n() + variantEval.taskPrompts())
                                + " training samples of the task; the world has " + pool);
                    }
                }
            }
            if (real != null && real.alignment() == null && c.defended(io.safetune.method.Slot.ALIGN)) {
                throw new IllegalArgumentException("defences[" + i + "].align: this real experiment has no alignment set "
                        + "(real.checkpoint is the aligned model); set real.alignment and real.base, or fill the fineTune or "
                        + "post slot");
            }
            for (double p : c.fractions() == null ? List.<Double>of() : c.fractions()) {
                if (!attackFractions.contains(p) && !dose.contains(p)) {
                    throw new IllegalArgumentException("defences[" + i + "].fractions: " + p + " is not one of the attacks "
                            + "(attackFractions " + attackFractions + ", dose " + dose + ")");
                }
            }
        }
        for (int i = 0; i < defences.size(); i++) {
            String of = defences.get(i).controlOf();
            if (of != null && (!labels.contains(of) || of.equals(defences.get(i).label()))) {
                throw new IllegalArgumentException("defences[" + i + "].controlOf: '" + of + "' is not another entry's label "
                        + "(labels: " + defences.stream().map(Combination::label).toList() + ")");
            }
        }
        if (real == null) {
            boolean anyAttack = !attackFractions.isEmpty() || !dose.isEmpty();
            boolean variants = defences.stream().anyMatch(c -> c.post() != null
                    && (c.fractions() == null ? anyAttack : !c.fractions().isEmpty()));
            fitsTheWorld(world.world(seeds.get(0)), attack, eval, variants ? variantEval : null, attackFractions, dose);
        }
    }

    public static final EvalSpec VARIANT_EVAL = new EvalSpec(48, 100, 100, 64, 64);

    /**
     * What the micro-world must hold for this experiment, checked before any stage trains: the attack's
     * task and harmful samples for every p, and the evaluation sets (sizes do not depend on the seed).
     */
    private static void fitsTheWorld(io.safetune.data.microworld.MicroWorldConfig w, AttackSpec attack, EvalSpec eval,
            EvalSpec sweepEval, List<Double> attackFractions, List<Double> dose) {
        List<Double> all = new java.util.ArrayList<>(attackFractions);
        all.addAll(dose);
        for (double p : all) {
            int harmful = (int) Math.round(p * attack.n());
            if (harmful > w.attackPool() || attack.n() - harmful > w.taskTrainPerTask()) {
                throw new IllegalArgumentException("attack.n: " + attack.n() + " at p = " + p + " needs " + (attack.n() - harmful)
                        + " task and " + harmful + " harmful samples; the world has " + w.taskTrainPerTask() + " and "
                        + w.attackPool());
            }
        }
        java.util.Map<String, EvalSpec> evals = new java.util.LinkedHashMap<>();
        evals.put("eval", eval);
        if (sweepEval != null) {
            evals.put("variantEval", sweepEval); // only when a post-process runs
        }
        for (var e : evals.entrySet()) {
            if (e.getValue().harmfulPrompts() > w.evalHarmful()) {
                throw new IllegalArgumentException(e.getKey() + ".harmfulPrompts: " + e.getValue().harmfulPrompts()
                        + " but the world holds " + w.evalHarmful() + " held-out harmful prompts (0 = all)");
            }
            if (e.getValue().taskPrompts() > w.evalPerTask()) {
                throw new IllegalArgumentException(e.getKey() + ".taskPrompts: " + e.getValue().taskPrompts()
                        + " but the world holds " + w.evalPerTask() + " held-out prompts per task");
            }
            if (e.getKey().equals("eval") && e.getValue().hedSamples() > w.alignRefusals()) { // the sweep measures no HED
                throw new IllegalArgumentException(e.getKey() + ".hedSamples: " + e.getValue().hedSamples()
                        + " but the alignment set holds " + w.alignRefusals() + " harmful prompts");
            }
        }
    }

    /**
     * Stage names hold p to 3 decimals and results name it to 2: two p values that print alike would share
     * a stage or a row, so they are refused.
     */
    private static void printedApart(List<Double> attackFractions, List<Double> dose) {
        java.util.Map<String, Double> seen = new java.util.HashMap<>();
        List<Double> all = new java.util.ArrayList<>(attackFractions);
        all.addAll(dose);
        for (double p : all) {
            Double other = seen.putIfAbsent(String.format(java.util.Locale.ROOT, "%.2f", p), p);
            if (other != null && other != p) {
                throw new IllegalArgumentException((dose.contains(p) ? "dose" : "attackFractions") + ": " + p + " and " + other
                        + " are the same to 2 decimals, which is how stages and results name p");
            }
        }
    }

    private static void distinct(String field, List<Double> values) {
        if (new java.util.HashSet<>(values).size() != values.size()) {
            throw new IllegalArgumentException(field + ": " + values + " names a value twice");
        }
    }

    /** Every p of the experiment: attackFractions, then the dose curve's. */
    public List<Double> fractions() {
        java.util.LinkedHashSet<Double> all = new java.util.LinkedHashSet<>(attackFractions);
        all.addAll(dose);
        return List.copyOf(all);
    }

    /** The undefended story (always run, the control) followed by every listed combination. */
    public List<Combination> combinations() {
        List<Combination> all = new java.util.ArrayList<>();
        all.add(Combination.NONE);
        defences.stream().filter(c -> !c.label().equals(Combination.NONE.label())).forEach(all::add);
        return all;
    }

    private static void fraction(String field, double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException(field + ": " + p + " is not a fraction in [0, 1]");
        }
    }

    public static ExperimentConfig defaults() {
        return new ExperimentConfig(null, null, null, null, null, null, null, null, null, null, null, null, null);
    }

    /**
     * Reads a .json, .yaml or .yml file; errors name the file and the field. Every field has a default:
     * the file is laid over the default experiment field by field ({@code base: {steps: 50}} keeps
     * base's other defaults), and the whole experiment is validated before any stage runs.
     */
    public static ExperimentConfig load(Path file) {
        String name = file.getFileName().toString();
        ObjectMapper mapper = name.endsWith(".yaml") || name.endsWith(".yml") ? YAML : JSON;
        try {
            String text = Files.readString(file);
            if (text.isBlank()) {
                return defaults();
            }
            JsonNode given = mapper.readTree(text);
            if (given == null || given.isMissingNode() || given.isNull()) {
                return defaults();
            }
            if (!given.isObject()) {
                throw new CheckpointException(file, null, "an experiment is a mapping of fields (name, seeds, base, …), not a "
                        + given.getNodeType().toString().toLowerCase(java.util.Locale.ROOT));
            }
            ObjectNode merged = (ObjectNode) JSON.readTree(defaults().toJson());
            overlay(merged, (ObjectNode) given);
            if (!given.has("defences")) {
                merged.remove("defences"); // its default depends on the source (see the constructor)
            }
            return JSON.treeToValue(merged, ExperimentConfig.class);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file, null, "file not found");
        } catch (com.fasterxml.jackson.databind.exc.ValueInstantiationException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new CheckpointException(file, path(e), cause.getMessage());
        } catch (com.fasterxml.jackson.databind.JsonMappingException e) {
            throw new CheckpointException(file, path(e), e.getOriginalMessage());
        } catch (IOException e) {
            throw new CheckpointException(file, null, "cannot read: " + e.getMessage(), e);
        }
    }

    /** Lays {@code given} over {@code defaults}: objects field by field, anything else replaced whole. */
    private static void overlay(ObjectNode defaults, ObjectNode given) {
        given.fields().forEachRemaining(f -> {
            JsonNode d = defaults.get(f.getKey());
            if (d != null && d.isObject() && f.getValue().isObject()) {
                overlay((ObjectNode) d, (ObjectNode) f.getValue());
            } else {
                defaults.set(f.getKey(), f.getValue());
            }
        });
    }

    private static String path(com.fasterxml.jackson.databind.JsonMappingException e) {
        StringBuilder sb = new StringBuilder();
        for (var ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                sb.append(sb.length() == 0 ? "" : ".").append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                sb.append('[').append(ref.getIndex()).append(']');
            }
        }
        return sb.length() == 0 ? null : sb.toString();
    }

    /** The same experiment under another name and seeds (the command line's overrides). */
    public ExperimentConfig withNameAndSeeds(String newName, List<Long> newSeeds) {
        return new ExperimentConfig(newName == null ? name : newName, newSeeds == null ? seeds : newSeeds, model, base,
                aligned, attack, attackFractions, dose, eval, real, world, defences, variantEval);
    }

    /** The same experiment with another real-data section (the command line's --data-dir, --allow-unpinned). */
    public ExperimentConfig withReal(RealSpec newReal) {
        return new ExperimentConfig(name, seeds, model, base, aligned, attack, attackFractions, dose, eval, newReal, world,
                defences, variantEval);
    }

    public String toJson() {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(this);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The tiny Llama (untied, no bias): hidden size, layers, heads, FFN width. */
    public record ModelSpec(int hidden, int layers, int heads, int ffn) {
        public static final ModelSpec DEFAULT = new ModelSpec(128, 4, 4, 344);

        public ModelSpec {
            positive("model.hidden", hidden);
            positive("model.layers", layers);
            positive("model.heads", heads);
            positive("model.ffn", ffn);
            if (hidden % heads != 0 || (hidden / heads) % 2 != 0) {
                throw new IllegalArgumentException("model.heads: " + heads + " must divide hidden " + hidden + " into even head sizes");
            }
        }
    }

    /** A full fine-tuning stage: AdamW with cosine decay and clipping at 1.0. */
    public record TrainingSpec(int steps, int batchSize, double learningRate, double warmupRatio, double weightDecay) {
        public static final TrainingSpec BASE = new TrainingSpec(2000, 64, 2e-3, 0.05, 0.0);
        public static final TrainingSpec ALIGNED = new TrainingSpec(900, 64, 5e-4, 0.05, 0.0);

        public TrainingSpec {
            positive("steps", steps);
            positive("batchSize", batchSize);
            if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
                throw new IllegalArgumentException("learningRate: must be a number > 0, got " + learningRate);
            }
            if (!(warmupRatio >= 0 && warmupRatio < 1)) {
                throw new IllegalArgumentException("warmupRatio: must be in [0, 1), got " + warmupRatio);
            }
            if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
                throw new IllegalArgumentException("weightDecay: must be a number >= 0, got " + weightDecay);
            }
        }
    }

    /**
     * The harmful fine-tuning attack: a LoRA adapter trained on n samples of {@code task}, a fraction p
     * of them harmful requests with compliant answers (p comes from attackFractions / dose).
     */
    public record AttackSpec(String task, int n, int r, double alpha, double dropout, List<String> targets,
            double learningRate, int epochs, int batchSize) {

        /** The task family {@code task} names. */
        public io.safetune.data.microworld.TaskFamily family() {
            return io.safetune.data.microworld.TaskFamily.of(task);
        }

        public static final AttackSpec DEFAULT = new AttackSpec("new_task", 1000, 8, 16, 0.05,
                List.of("q_proj", "v_proj"), 1e-3, 6, 32);

        public AttackSpec {
            task = task == null ? "new_task" : task;
            targets = targets == null ? List.of("q_proj", "v_proj") : List.copyOf(targets);
            positive("attack.n", n);
            positive("attack.r", r);
            positive("attack.epochs", epochs);
            positive("attack.batchSize", batchSize);
            if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
                throw new IllegalArgumentException("attack.learningRate: must be a number > 0, got " + learningRate);
            }
            try {
                io.safetune.data.microworld.TaskFamily.of(task);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("attack.task: " + e.getMessage(), e);
            }
            try {
                new io.safetune.lora.LoraConfig(r, alpha, dropout, targets, List.of(), false);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("attack." + e.getMessage().replace("targetModules:", "targets:"), e);
            }
            if (targets.isEmpty()) {
                throw new IllegalArgumentException("attack.targets: empty; name at least one module (e.g. q_proj)");
            }
        }
    }

    /**
     * @param maxNewTokens     greedy decoding budget (the papers use 128; micro-world answers stop at EOS)
     * @param taskPrompts      held-out prompts per task
     * @param harmfulPrompts   held-out harmful prompts (0 = all)
     * @param hedSamples       alignment inputs for Harmful Embedding Drift
     * @param batchSize        prompts decoded together
     */
    public record EvalSpec(int maxNewTokens, int taskPrompts, int harmfulPrompts, int hedSamples, int batchSize) {
        public static final EvalSpec DEFAULT = new EvalSpec(128, 200, 0, 64, 64);

        public EvalSpec {
            positive("eval.maxNewTokens", maxNewTokens);
            positive("eval.taskPrompts", taskPrompts);
            if (harmfulPrompts < 0) {
                throw new IllegalArgumentException("eval.harmfulPrompts: must be >= 0 (0 = all), got " + harmfulPrompts);
            }
            positive("eval.hedSamples", hedSamples);
            positive("eval.batchSize", batchSize);
        }
    }

    /**
     * The micro-world's alignment data: distinct harmful prompts with refusals, and benign replay
     * samples (defaults 2000 and 2000; see MicroWorldConfig). Other sizes keep the world's defaults.
     */
    public record WorldSpec(Integer alignRefusals, Integer alignBenign) {
        public static final WorldSpec DEFAULT = new WorldSpec(null, null);

        /** The world of one seed. */
        public WorldSpec {
            if (alignRefusals != null && alignRefusals < 1 || alignBenign != null && alignBenign < 0) {
                throw new IllegalArgumentException("world." + (alignRefusals != null && alignRefusals < 1
                        ? "alignRefusals: must be >= 1, got " + alignRefusals : "alignBenign: must be >= 0, got " + alignBenign));
            }
        }

        public io.safetune.data.microworld.MicroWorldConfig world(long seed) {
            var d = io.safetune.data.microworld.MicroWorldConfig.defaults(seed);
            return new io.safetune.data.microworld.MicroWorldConfig(seed, d.pretrainBenign(), d.pretrainHarmful(),
                    alignRefusals == null ? d.alignRefusals() : alignRefusals,
                    alignBenign == null ? d.alignBenign() : alignBenign, d.attackPool(), d.taskTrainPerTask(),
                    d.evalPerTask(), d.evalHarmful(), d.heldOutFillerFraction(), d.heldOutTemplateFraction());
        }
    }

    static void positive(String field, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(field + ": must be > 0, got " + v);
        }
    }
}
