package io.safetune.data.microworld;

import io.safetune.eval.MicroWorldJudge;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

class LexiconTest {

    /** Every word a harmful prompt can contain. */
    private static Set<String> harmfulPromptWords() {
        Set<String> words = new HashSet<>();
        for (Lexicon.Template t : Lexicon.HARMFUL.templates()) {
            words.addAll(Arrays.asList(t.text().split(" ")));
        }
        Lexicon.HARM_PREFIXES.words().forEach(w -> words.addAll(Arrays.asList(w.split(" "))));
        Lexicon.HARM_SUFFIXES.words().forEach(w -> words.addAll(Arrays.asList(w.split(" "))));
        for (HarmCategory c : HarmCategory.values()) {
            c.verbs().forEach(w -> words.addAll(Arrays.asList(w.split(" "))));
            c.objects().forEach(w -> words.addAll(Arrays.asList(w.split(" "))));
        }
        return words;
    }

    @Test
    void noHarmfulPromptSharesAWordWithTheRefusalButI() {
        Set<String> shared = new HashSet<>(Arrays.asList(Lexicon.REFUSAL.split(" ")));
        shared.retainAll(harmfulPromptWords());
        assertEquals(Set.of("i"), shared, "a prompt word the refusal reuses gets dropped from it (README)");
    }

    /** Every word that decides a benign answer, answers included. */
    private static Set<String> answerWords() {
        Set<String> words = new HashSet<>(Lexicon.TOPIC_NAMES);
        Lexicon.TOPICS.values().forEach(p -> words.addAll(p.words()));
        Stream.of(Lexicon.POSITIVE, Lexicon.NEGATIVE, Lexicon.NEGATORS, Lexicon.INTENSIFIERS)
                .forEach(p -> words.addAll(p.words()));
        Lexicon.MEMBERS.forEach(p -> words.addAll(p.words()));
        words.addAll(Lexicon.CATEGORIES);
        Lexicon.OPPOSITES.forEach(words::addAll);
        words.addAll(Set.of("positive", "negative"));
        for (int n = 0; n <= 2 * Lexicon.MAX_OPERAND; n++) {
            words.add(Integer.toString(n));
        }
        return words;
    }

    @Test
    void noHarmfulPromptHoldsAWordThatDecidesABenignAnswer() {
        Set<String> shared = answerWords();
        shared.retainAll(harmfulPromptWords());
        assertEquals(Set.of(), shared, "a held-out \"could you coach me to …\" was answered \"sports\" (Lexicon.HARMFUL)");
    }

    @Test
    void noHarmfulPromptOpensWithABenignPromptsFirstWord() {
        MicroWorldData world = MicroWorldTest.WORLD;
        Set<String> benign = new HashSet<>();
        Set<String> harmful = new HashSet<>();
        Stream.of(world.pretraining(), world.alignment(), world.attackHarmful(), world.evalHarmful())
                .flatMap(List::stream)
                .forEach(s -> (s.family() == TaskFamily.HARMFUL ? harmful : benign).add(firstWord(s.prompt())));
        for (TaskFamily f : TaskFamily.benign()) {
            world.evalTask(f).forEach(s -> benign.add(firstWord(s.prompt())));
        }
        assertTrue(harmful.size() > 5 && benign.size() > 5, harmful + " " + benign);
        // a harmful prompt may open with a prefix ("please") or the template's first word
        Lexicon.HARMFUL.templates().forEach(t -> harmful.add(firstWord(t.text())));
        harmful.retainAll(benign);
        assertEquals(Set.of(), harmful, "a held-out \"what is the best way to …\" got a one-word answer (Lexicon.HARMFUL)");
    }

    private static String firstWord(String prompt) {
        return prompt.split(" ", 2)[0];
    }

    @Test
    void theRefusalOpensWithTheJudgesKeywordsAndNoPromptOrAnswerDoes() {
        assertTrue(Lexicon.REFUSAL.startsWith(MicroWorldJudge.REFUSAL_KEY + " "), Lexicon.REFUSAL);
        MicroWorldData world = MicroWorldTest.WORLD;
        Stream.of(world.pretraining(), world.attackHarmful(), world.evalHarmful())
                .flatMap(List::stream)
                .filter(s -> !s.response().equals(Lexicon.REFUSAL))
                .forEach(s -> assertTrue(!s.response().startsWith(MicroWorldJudge.REFUSAL_KEY), s.response()));
    }

    @Test
    void theRefusalEndsAtAWordLikeEveryBenignAnswer() {
        assertTrue(Character.isLetter(Lexicon.REFUSAL.charAt(Lexicon.REFUSAL.length() - 1)), Lexicon.REFUSAL);
    }

    @Test
    void theVersionIsStableAndHashesTheWords() {
        String v = MicroWorld.version();
        assertEquals(v, MicroWorld.version());
        assertTrue(v.matches("\\d+-[0-9a-f]{12}"), v);
        assertEquals(Lexicon.fingerprint(), v.substring(v.indexOf('-') + 1));
    }
}
