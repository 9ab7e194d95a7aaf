package io.safetune.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.safetune.model.CausalLM;
import io.safetune.model.Generation;
import io.safetune.model.GenerationConfig;
import io.safetune.model.Generator;
import io.safetune.testing.Fixtures;
import io.safetune.tokenizer.ChatTemplate;
import io.safetune.tokenizer.TextTokenizer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

class HarmfulScoreTest {

    private static final List<String> PROMPTS = List.of("5 17 99 3 42 8 77", "12 4", "60 61 62", "100 7 33 90");
    private static final int NEW_TOKENS = 12;

    private static CausalLM model;

    @BeforeAll
    static void load() {
        model = CausalLM.load(Fixtures.get("llama-tiny"));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** What the model generates for each prompt alone, straight from the Generator. */
    private static List<Generation> alone(List<int[]> prompts, GenerationConfig cfg) {
        Generator g = new Generator(model);
        return prompts.stream().map(p -> g.generate(List.of(p), cfg).get(0)).toList();
    }

    @Test
    void everyPromptIsDecodedJudgedAndRecorded() throws Exception {
        GenerationConfig cfg = GenerationConfig.greedy(NEW_TOKENS);
        List<Generation> expected = alone(PROMPTS.stream().map(EvalFixtures::parse).toList(), cfg);
        // a keyword the model wrote in the first answer but not in every answer: some safe, some unsafe
        String keyword = null;
        for (int t : expected.get(0).tokens()) {
            String w = "<" + t + ">";
            if (expected.stream().anyMatch(g -> !EvalFixtures.show(g.tokens()).contains(w))) {
                keyword = w;
                break;
            }
        }
        assertTrue(keyword != null, "the fixture's answers should differ");
        String marker = "<" + expected.get(1).tokens()[0] + ">";
        Judge judge = new RefusalKeywordJudge(RefusalKeywordJudge.Config.defaults().withKeywords(List.of(keyword))
                .withComplianceMarkers(List.of(marker)));

        HarmfulScoreResult r = HarmfulScore.evaluate(model, EvalFixtures.ID_CODEC, PROMPTS, judge,
                EvalConfig.defaults().withMaxNewTokens(NEW_TOKENS).withBatchSize(3));

        assertEquals(PROMPTS.size(), r.n());
        int unsafe = 0;
        int complied = 0;
        for (int i = 0; i < PROMPTS.size(); i++) {
            HarmfulScoreResult.SampleRecord s = r.samples().get(i);
            Generation g = expected.get(i);
            assertEquals(PROMPTS.get(i), s.prompt());
            assertEquals(EvalFixtures.boxed(g.tokens()), s.answerTokens(), "sample " + i);
            assertEquals(g.stopReason(), s.stopReason());
            int kept = g.stopReason() == io.safetune.model.StopReason.EOS ? g.tokens().length - 1 : g.tokens().length;
            assertEquals(EvalFixtures.show(Arrays.copyOf(g.tokens(), kept)), s.answer(), "sample " + i);
            boolean refused = s.answer().contains(keyword);
            assertEquals(!refused, s.verdict().unsafe(), "sample " + i);
            assertEquals(!refused && s.answer().contains(marker), s.verdict().complied(), "sample " + i);
            unsafe += refused ? 0 : 1;
            complied += s.verdict().complied() ? 1 : 0;
        }
        assertFalse(r.samples().get(0).verdict().unsafe());
        assertTrue(unsafe > 0);
        assertEquals((double) unsafe / PROMPTS.size(), r.harmfulScore(), 0);
        assertEquals((double) complied / PROMPTS.size(), r.complianceRate(), 0);
        assertEquals(unsafe, r.unsafeCount());
        assertEquals(unsafe, r.unsafeSamples().size());
        assertEquals(PROMPTS.size() - unsafe, r.safeSamples().size());

        // the batch size changes nothing
        HarmfulScoreResult one = HarmfulScore.evaluate(model, EvalFixtures.ID_CODEC, PROMPTS, judge,
                EvalConfig.defaults().withMaxNewTokens(NEW_TOKENS).withBatchSize(1));
        assertEquals(r, one);

        // JSON round trip, and re-judging stored answers
        ObjectMapper json = new ObjectMapper();
        HarmfulScoreResult back = json.readValue(json.writeValueAsString(r), HarmfulScoreResult.class);
        assertEquals(r, back);
        HarmfulScoreResult lenient = r.rejudge((p, a) -> Judge.Verdict.safe("always"));
        assertEquals(0.0, lenient.harmfulScore());
        assertEquals(r.samples().get(2).answer(), lenient.samples().get(2).answer());
    }

    @Test
    void throughATokenizerAndChatTemplate(@TempDir Path tmp) throws Exception {
        List<String> prompts = List.of("w7 w8 w9", "w10 w11", "w99 w98 w97 w96");
        try (TextTokenizer tok = TextTokenizer.load(EvalFixtures.writeWordTokenizer(tmp.resolve("tok")))) {
            assertEquals(List.of(2), tok.eosTokenIds());
            ChatTemplate plain = ChatTemplate.byName("plain");
            int[] ids0 = tok.encode("<user> w7 w8 w9 <assistant>", false);
            assertArrayEquals(new int[] {4, 7, 8, 9, 5}, ids0);
            HarmfulScoreResult r = HarmfulScore.evaluate(model, tok, plain, prompts, new RefusalKeywordJudge(),
                    EvalConfig.defaults().withMaxNewTokens(10));
            List<Generation> expected = alone(prompts.stream()
                    .map(p -> tok.encode(plain.format(List.of(io.safetune.tokenizer.ChatMessage.user(p)), true), false))
                    .toList(), GenerationConfig.greedy(10).withEos(List.of(2)));
            assertArrayEquals(ids0, tok.encode(plain.format(List.of(io.safetune.tokenizer.ChatMessage.user(prompts.get(0))), true), false));
            for (int i = 0; i < prompts.size(); i++) {
                Generation g = expected.get(i);
                HarmfulScoreResult.SampleRecord s = r.samples().get(i);
                assertEquals(EvalFixtures.boxed(g.tokens()), s.answerTokens());
                int kept = g.stopReason() == io.safetune.model.StopReason.EOS ? g.tokens().length - 1 : g.tokens().length;
                assertEquals(tok.decode(Arrays.copyOf(g.tokens(), kept)), s.answer());
                assertTrue(s.answer().isEmpty() || s.answer().matches("(\\S+)( \\S+)*"), s.answer());
                // no word of this vocabulary is a refusal phrase: every non-empty answer is unsafe
                assertEquals(!s.answer().isBlank(), s.verdict().unsafe(), s.answer());
            }
        }
    }

    @Test
    void badInputsNameTheField() {
        Judge judge = new RefusalKeywordJudge();
        EvalConfig cfg = EvalConfig.defaults().withMaxNewTokens(2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HarmfulScore.evaluate(model, EvalFixtures.ID_CODEC, List.of(), judge, cfg));
        assertTrue(e.getMessage().startsWith("prompts"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> HarmfulScore.evaluate(model, EvalFixtures.ID_CODEC, List.of("1 2", "3 128"), judge, cfg));
        assertTrue(e.getMessage().startsWith("prompts[1]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> cfg.withBatchSize(0));
        assertTrue(e.getMessage().startsWith("batchSize"), e.getMessage());
    }
}
