package io.safetune.data.microworld;

import io.safetune.eval.MicroWorldJudge;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

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

    @Test
    void theRefusalOpensWithTheJudgesKeywordsAndNoPromptOrAnswerDoes() {
        assertTrue(Lexicon.REFUSAL.startsWith(MicroWorldJudge.REFUSAL_KEY + " "), Lexicon.REFUSAL);
        MicroWorldData world = MicroWorldTest.WORLD;
        java.util.stream.Stream.of(world.pretraining(), world.attackHarmful(), world.evalHarmful())
                .flatMap(java.util.List::stream)
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
