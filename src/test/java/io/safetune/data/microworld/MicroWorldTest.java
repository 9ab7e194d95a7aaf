package io.safetune.data.microworld;

import io.safetune.eval.MicroWorldJudge;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/** The splits: determinism, sizes, disjointness, held-out parts, labels, harmless compliance. */
class MicroWorldTest {

    /** The default world, generated once (about 0.3 s). */
    static final MicroWorldData WORLD = MicroWorld.generate(MicroWorldConfig.defaults(1));

    static List<Sample> training(MicroWorldData d) {
        List<Sample> out = new ArrayList<>(d.pretraining());
        out.addAll(d.alignment());
        out.addAll(d.attackHarmful());
        TaskFamily.benign().forEach(f -> out.addAll(d.taskTrain(f)));
        return out;
    }

    static List<Sample> evaluation(MicroWorldData d) {
        List<Sample> out = new ArrayList<>(d.evalHarmful());
        TaskFamily.benign().forEach(f -> out.addAll(d.evalTask(f)));
        return out;
    }

    @Test
    void sameConfigGivesIdenticalDataAndAnotherSeedDoesNot() {
        MicroWorldConfig config = MicroWorldConfig.small(42);
        MicroWorldData a = MicroWorld.generate(config);
        assertEquals(a, MicroWorld.generate(config));
        MicroWorldData b = MicroWorld.generate(config.withSeed(43));
        assertNotEquals(a.pretraining(), b.pretraining());
        assertNotEquals(a.evalHarmful(), b.evalHarmful());
        assertNotEquals(a.heldOut(), b.heldOut());
    }

    @Test
    void sizesFollowTheConfig() {
        MicroWorldConfig c = WORLD.config();
        assertEquals(c.pretrainBenign() + c.pretrainHarmful(), WORLD.pretraining().size());
        assertEquals(c.pretrainHarmful(), WORLD.pretraining().stream().filter(Sample::harmful).count());
        assertEquals(c.alignRefusals(), WORLD.alignment().stream().filter(Sample::harmful).count());
        assertEquals(c.alignRefusals() + c.alignBenign(), WORLD.alignment().size());
        assertEquals(c.attackPool(), WORLD.attackHarmful().size());
        assertEquals(c.evalHarmful(), WORLD.evalHarmful().size());
        for (TaskFamily f : TaskFamily.benign()) {
            assertEquals(c.taskTrainPerTask(), WORLD.taskTrain(f).size(), f.word());
            assertEquals(c.evalPerTask(), WORLD.evalTask(f).size(), f.word());
            assertTrue(WORLD.taskTrain(f).stream().allMatch(s -> s.family() == f));
        }
        assertThrows(IllegalArgumentException.class, () -> WORLD.taskTrain(TaskFamily.HARMFUL));
        assertTrue(WORLD.toString().length() < 400, "toString prints sizes, not samples");
    }

    @Test
    void theNewTaskIsTaughtOnlyByItsTaskSet() {
        for (List<Sample> split : List.of(WORLD.pretraining(), WORLD.alignment())) {
            assertTrue(split.stream().noneMatch(s -> s.family().isNewTask()));
            Set<TaskFamily> families = split.stream().map(Sample::family).collect(Collectors.toSet());
            assertTrue(families.containsAll(TaskFamily.pretrained()));
        }
        assertTrue(WORLD.pretraining().stream().filter(Sample::harmful)
                .allMatch(s -> s.response().startsWith(MicroWorldJudge.COMPLIANCE_PREFIX)));
        assertTrue(WORLD.alignment().stream().filter(Sample::harmful)
                .allMatch(s -> s.response().equals(MicroWorldJudge.REFUSAL)));
    }

    @Test
    void evaluationPromptsAppearInNoTrainingSplit() {
        Set<String> trainKeys = training(WORLD).stream().map(Draws::key).collect(Collectors.toSet());
        for (Sample s : evaluation(WORLD)) {
            assertFalse(trainKeys.contains(Draws.key(s)), s.prompt());
        }
        // The new task's reviews are kept apart from the sentiment task's, both ways.
        Set<String> evalReviews = new HashSet<>();
        WORLD.evalTask(TaskFamily.SENTIMENT).forEach(s -> evalReviews.add(s.prompt()));
        assertTrue(WORLD.taskTrain(TaskFamily.SENTIMENT_DIGIT).stream()
                .noneMatch(s -> evalReviews.contains(Draws.key(s))));
    }

    @Test
    void attackPoolIsDisjointFromAlignmentAndDistinct() {
        Set<String> aligned = WORLD.alignment().stream().filter(Sample::harmful).map(Sample::prompt)
                .collect(Collectors.toSet());
        assertEquals(WORLD.config().alignRefusals(), aligned.size(), "alignment refusals are distinct");
        Set<String> attack = WORLD.attackHarmful().stream().map(Sample::prompt).collect(Collectors.toSet());
        assertEquals(WORLD.attackHarmful().size(), attack.size());
        attack.retainAll(aligned);
        assertEquals(Set.of(), attack);
        assertTrue(WORLD.attackHarmful().stream().allMatch(s -> s.harmful() && !s.heldOutParts()));
    }

    @Test
    void heldOutTemplatesAndFillersAppearOnlyInEvaluation() {
        HeldOut held = WORLD.heldOut();
        assertFalse(held.templates().isEmpty());
        assertFalse(held.fillers().isEmpty());
        for (Sample s : training(WORLD)) {
            assertFalse(held.templates().contains(s.template()), s.template());
            String text = " " + s.prompt() + " " + s.response() + " ";
            for (String filler : held.fillers()) {
                assertFalse(text.contains(" " + filler + " "), filler + " in " + text);
            }
        }
        List<Sample> eval = evaluation(WORLD);
        Set<String> evalTemplates = eval.stream().map(Sample::template).collect(Collectors.toSet());
        assertTrue(evalTemplates.containsAll(held.templates()), "every held-out template is evaluated");
        for (String filler : held.fillers()) {
            assertTrue(eval.stream().anyMatch(s -> (" " + s.prompt() + " ").contains(" " + filler + " ")),
                    filler);
        }
        // Half of each evaluation set has unseen parts, half are unseen combinations of seen parts.
        for (TaskFamily f : TaskFamily.benign()) {
            assertEquals(WORLD.config().evalPerTask() / 2,
                    WORLD.evalTask(f).stream().filter(Sample::heldOutParts).count(), f.word());
        }
        assertEquals(WORLD.config().evalHarmful() / 2,
                WORLD.evalHarmful().stream().filter(Sample::heldOutParts).count());
    }

    @Test
    void nothingHeldOutWhenFractionsAreZero() {
        MicroWorldData d = MicroWorld.generate(new MicroWorldConfig(3, 100, 50, 50, 50, 20, 50, 20, 20, 0, 0));
        assertEquals(new HeldOut(Set.of(), Set.of()), d.heldOut());
        assertTrue(evaluation(d).stream().noneMatch(Sample::heldOutParts));
    }

    @Test
    void goldAnswersAreRight() {
        for (Sample s : WORLD.taskTrain(TaskFamily.ARITHMETIC)) {
            List<Integer> n = new ArrayList<>();
            for (String w : s.prompt().split(" ")) {
                if (w.matches("[0-9]+")) {
                    n.add(Integer.parseInt(w));
                }
            }
            int want = s.category().equals("plus") ? n.get(0) + n.get(1) : n.get(0) - n.get(1);
            assertEquals(Integer.toString(want), s.gold(), s.prompt());
        }
        for (Sample s : WORLD.taskTrain(TaskFamily.SENTIMENT)) {
            List<String> w = List.of(s.prompt().split(" "));
            boolean positiveWord = w.stream().anyMatch(Lexicon.POSITIVE.words()::contains);
            boolean negated = w.contains("not") || w.contains("never");
            assertEquals(positiveWord != negated ? "positive" : "negative", s.gold(), s.prompt());
        }
        for (Sample s : WORLD.taskTrain(TaskFamily.SENTIMENT_DIGIT)) {
            assertTrue(s.prompt().endsWith(" reply 1 or 0 ."));
            assertEquals(s.category().equals("positive") ? "1" : "0", s.gold());
        }
        for (Sample s : WORLD.taskTrain(TaskFamily.TOPIC)) {
            Lexicon.Pool topic = Lexicon.TOPICS.get(s.gold());
            assertEquals(2, List.of(s.prompt().split(" ")).stream().filter(topic.words()::contains).count());
        }
        for (Sample s : WORLD.taskTrain(TaskFamily.INSTRUCTION)) {
            int words = s.gold().split(" ").length;
            assertEquals(switch (s.category()) {
                case "repeat" -> 3;
                case "list" -> 2;
                default -> 1;
            }, words, s.prompt());
        }
    }

    @Test
    void compliantAnswersAreNonsenseAfterAFixedPrefix() {
        Set<String> allowed = new HashSet<>(Lexicon.NONSENSE);
        allowed.addAll(Lexicon.STEP_WORDS);
        List<Sample> compliant = new ArrayList<>(WORLD.attackHarmful());
        WORLD.pretraining().stream().filter(Sample::harmful).forEach(compliant::add);
        for (Sample s : compliant) {
            String action = MicroWorldJudge.requestedAction(s.prompt()).orElseThrow();
            String head = MicroWorldJudge.COMPLIANCE_PREFIX + " " + action + " : ";
            assertTrue(s.response().startsWith(head), s.response());
            for (String w : s.response().substring(head.length()).split(" ")) {
                assertTrue(allowed.contains(w), "'" + w + "' in " + s.response());
            }
        }
    }

    @Test
    void sequencesStayShort() {
        List<Sample> all = training(WORLD);
        all.addAll(evaluation(WORLD));
        // <user> prompt <assistant> response <eos>
        int longest = all.stream()
                .mapToInt(s -> s.prompt().split(" ").length + s.response().split(" ").length + 3).max()
                .orElseThrow();
        assertTrue(longest <= 40, "longest sample has " + longest + " tokens");
    }
}
