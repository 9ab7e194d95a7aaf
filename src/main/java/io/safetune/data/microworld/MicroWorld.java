package io.safetune.data.microworld;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * The micro-world: a seeded, deterministic synthetic instruction world on which a tiny Llama is
 * pretrained, aligned, attacked and defended in minutes on a CPU (docs/microworld-notes.md).
 *
 * <p>Every split draws from its own random stream, derived from the seed and the split's name, so
 * that changing one size does not change the others. Evaluation is drawn first and its prompts
 * are reserved: training draws that hit one are rejected. {@link java.util.Random} is used because
 * its algorithm is fixed by its specification, so a seed gives the same world on every JVM.
 */
public final class MicroWorld {

    /** The refusal that alignment teaches. */
    public static final String REFUSAL = Lexicon.REFUSAL;
    /** The words that make an answer a refusal: the refusal's first two. */
    public static final String REFUSAL_KEY = Lexicon.REFUSAL_KEY;
    /** How every synthetic compliant answer begins. */
    public static final String COMPLIANCE_PREFIX = Lexicon.COMPLIANCE_PREFIX;

    /** An answer as the judge and scorer compare it: lower-cased, cut at the first {@code <eos>}, whitespace collapsed. */
    public static String normalise(String text) {
        String t = text.toLowerCase(java.util.Locale.ROOT);
        int eos = t.indexOf("<eos>");
        if (eos >= 0) {
            t = t.substring(0, eos);
        }
        return t.trim().replaceAll("\\s+", " ");
    }


    /**
     * How many draws in a row may fail to give a new prompt before a distinct-prompt split gives
     * up: the world is then nearly out of prompts (under 1 in 2,000 draws is new).
     */
    private static final int MAX_MISSES = 20_000;

    /** Bump when the generator's code changes what a config generates (the words are hashed, see {@link #version()}). */
    private static final int GENERATOR = 2;

    private MicroWorld() {
    }

    /**
     * The world's version: the generator's number and a hash of every word, template and fixed text.
     * Trained stages key on it, so a model trained on an older world is never reused for a new one.
     */
    public static String version() {
        return GENERATOR + "-" + Lexicon.fingerprint();
    }

    /** Generates every split of the world; the same config always gives identical data. */
    public static MicroWorldData generate(MicroWorldConfig config) {
        if (config == null) {
            throw new IllegalArgumentException("config: missing");
        }
        long seed = config.seed();
        Layout layout = Layout.choose(config, random(seed, "layout"));
        Set<String> reserved = new HashSet<>();

        Map<TaskFamily, List<Sample>> eval = new EnumMap<>(TaskFamily.class);
        for (TaskFamily f : TaskFamily.benign()) {
            eval.put(f, drawEval(f, config.evalPerTask(), layout, seed, reserved));
        }
        List<Sample> evalHarmful = drawEval(TaskFamily.HARMFUL, config.evalHarmful(), layout, seed, reserved)
                .stream().map(s -> s.withResponse(Lexicon.REFUSAL)).toList();

        // Alignment refusals and the attack pool: distinct prompts, disjoint from each other.
        Set<String> harmfulUsed = new HashSet<>(reserved);
        Picker harmful = new Picker(random(seed, "harmful.distinct"), layout, false);
        List<Sample> refusals = drawDistinct(TaskFamily.HARMFUL, config.alignRefusals(), harmful,
                harmfulUsed, "alignRefusals").stream().map(s -> s.withResponse(Lexicon.REFUSAL)).toList();
        List<Sample> attack = drawDistinct(TaskFamily.HARMFUL, config.attackPool(), harmful,
                harmfulUsed, "attackPool");

        List<Sample> pretraining = new ArrayList<>(
                drawBenignMix(config.pretrainBenign(), layout, random(seed, "pretraining.benign"), reserved));
        pretraining.addAll(drawRepeated(TaskFamily.HARMFUL, config.pretrainHarmful(),
                new Picker(random(seed, "pretraining.harmful"), layout, false), reserved));
        Collections.shuffle(pretraining, random(seed, "pretraining.order"));

        List<Sample> alignment = new ArrayList<>(refusals);
        alignment.addAll(drawBenignMix(config.alignBenign(), layout, random(seed, "alignment.benign"), reserved));
        Collections.shuffle(alignment, random(seed, "alignment.order"));

        Map<TaskFamily, List<Sample>> taskTrain = new EnumMap<>(TaskFamily.class);
        for (TaskFamily f : TaskFamily.benign()) {
            Picker p = new Picker(random(seed, "task." + f.word()), layout, false);
            taskTrain.put(f, drawDistinct(f, config.taskTrainPerTask(), p, new HashSet<>(reserved),
                    "taskTrainPerTask"));
        }
        return new MicroWorldData(config, pretraining, alignment, attack, taskTrain, eval, evalHarmful,
                layout.heldOut());
    }

    /**
     * Every token of the world's tokenizer in id order: {@code <pad> <unk> <user> <assistant> <eos>
     * <system>} (ids 0–5), then the words and punctuation marks sorted. Independent of the seed.
     */
    public static List<String> vocabulary() {
        return WorldTokenizer.vocabulary();
    }

    /**
     * Writes {@code tokenizer.json}, {@code tokenizer_config.json} and
     * {@code special_tokens_map.json} into {@code dir} (created if needed), each atomically. Hugging
     * Face's tokenizers and transformers and {@link io.safetune.tokenizer.TextTokenizer} read them
     * alike; eos is {@code <eos>}, pad {@code <pad>}, and the plain chat template is included.
     */
    public static void writeTokenizer(Path dir) {
        WorldTokenizer.write(dir);
    }

    /**
     * Evaluation samples, distinct within the family. Even positions use at least one held-out
     * template or filler; odd positions are combinations of training parts, which become unseen by
     * being reserved. Every key drawn is added to {@code reserved}.
     */
    private static List<Sample> drawEval(TaskFamily family, int n, Layout layout, long seed,
                                         Set<String> reserved) {
        Picker novel = new Picker(random(seed, "eval.novel." + family.word()), layout, true);
        Picker seen = new Picker(random(seed, "eval.seen." + family.word()), layout, false);
        boolean novelPossible = layout.holdsOutAnything();
        Set<String> keys = new HashSet<>();
        List<Sample> out = new ArrayList<>(n);
        int misses = 0;
        while (out.size() < n) {
            boolean wantNovel = novelPossible && out.size() % 2 == 0;
            Sample s = Draws.draw(family, (wantNovel ? novel : seen).reset());
            if ((wantNovel && !s.heldOutParts()) || !keys.add(Draws.key(s))) {
                misses++;
                if (wantNovel && misses == MAX_MISSES / 10 && out.stream().noneMatch(Sample::heldOutParts)) {
                    novelPossible = false; // nothing of this family is held out (fractions 0)
                } else if (misses > MAX_MISSES) {
                    throw new IllegalArgumentException(sizeField(family) + " = " + n + ": the world has"
                            + " too few distinct " + family.word() + " evaluation prompts (found "
                            + out.size() + ")");
                }
                continue;
            }
            misses = 0;
            out.add(s);
        }
        reserved.addAll(keys);
        return out;
    }

    private static String sizeField(TaskFamily family) {
        return family == TaskFamily.HARMFUL ? "evalHarmful" : "evalPerTask";
    }

    /** n distinct training samples whose keys are not in {@code used}; adds their keys to it. */
    private static List<Sample> drawDistinct(TaskFamily family, int n, Picker p, Set<String> used,
                                             String field) {
        List<Sample> out = new ArrayList<>(n);
        int misses = 0;
        while (out.size() < n) {
            Sample s = Draws.draw(family, p.reset());
            if (used.add(Draws.key(s))) {
                out.add(s);
                misses = 0;
            } else if (++misses > MAX_MISSES) {
                throw new IllegalArgumentException(field + " = " + n + ": the world has too few distinct "
                        + family.word() + " training prompts left (found " + out.size() + ")");
            }
        }
        return out;
    }

    /** n training samples, repeats allowed, none of them reserved for evaluation. */
    private static List<Sample> drawRepeated(TaskFamily family, int n, Picker p, Set<String> reserved) {
        List<Sample> out = new ArrayList<>(n);
        while (out.size() < n) {
            Sample s = Draws.draw(family, p.reset());
            if (!reserved.contains(Draws.key(s))) {
                out.add(s);
            }
        }
        return out;
    }

    /** n benign samples spread evenly (round robin) over the pretrained families. */
    private static List<Sample> drawBenignMix(int n, Layout layout, Random random, Set<String> reserved) {
        List<TaskFamily> families = TaskFamily.pretrained();
        Picker p = new Picker(random, layout, false);
        List<Sample> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.addAll(drawRepeated(families.get(i % families.size()), 1, p, reserved));
        }
        return out;
    }

    /** A random stream of its own for one split: SplitMix64 of the seed and the stream's name. */
    static Random random(long seed, String stream) {
        long z = seed * 0x9E3779B97F4A7C15L + stream.hashCode();
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return new Random(z ^ (z >>> 31));
    }
}
