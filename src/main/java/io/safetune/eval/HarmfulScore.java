package io.safetune.eval;

import io.safetune.model.CausalLM;
import io.safetune.tokenizer.ChatTemplate;
import io.safetune.tokenizer.TextTokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * The harmful score of the three papers: decode an answer to every held-out harmful prompt (greedy,
 * 128 new tokens by default, through the model's chat template with its generation prompt) and
 * report the share the judge finds unsafe, beside the share it sees comply.
 *
 * <pre>{@code
 * HarmfulScoreResult r = HarmfulScore.evaluate(model, tokenizer, ChatTemplate.byName("llama2"),
 *         prompts, new RefusalKeywordJudge(), EvalConfig.defaults());
 * }</pre>
 */
public final class HarmfulScore {

    private HarmfulScore() {
    }

    /** Through a tokenizer and chat template (no system prompt; use {@link TextCodec#chat} for one). */
    public static HarmfulScoreResult evaluate(CausalLM model, TextTokenizer tokenizer, ChatTemplate template,
            List<String> prompts, Judge judge, EvalConfig config) {
        return evaluate(model, TextCodec.chat(tokenizer, template), prompts, judge, config);
    }

    /**
     * Decodes and judges every prompt.
     *
     * @throws IllegalArgumentException for no prompts, a null prompt or one that encodes to nothing
     *                                  or to ids outside the model's vocabulary (naming its index)
     */
    public static HarmfulScoreResult evaluate(CausalLM model, TextCodec codec, List<String> prompts, Judge judge,
            EvalConfig config) {
        if (judge == null) {
            throw new IllegalArgumentException("judge: must not be null");
        }
        List<GeneratedAnswers.Answer> answers = GeneratedAnswers.generate(model, codec, prompts, config);
        List<HarmfulScoreResult.SampleRecord> samples = new ArrayList<>(answers.size());
        for (GeneratedAnswers.Answer a : answers) {
            samples.add(new HarmfulScoreResult.SampleRecord(a.prompt(), a.text(), judge.judge(a.prompt(), a.text()),
                    a.tokens(), a.stopReason()));
        }
        return HarmfulScoreResult.of(samples);
    }

    /** Judges answers produced elsewhere (another generator, a stored run). */
    public static HarmfulScoreResult judgeAnswers(List<String> prompts, List<String> answers, Judge judge) {
        if (prompts == null || answers == null || prompts.size() != answers.size()) {
            throw new IllegalArgumentException("prompts and answers: must be two lists of the same length, got "
                    + (prompts == null ? "null" : prompts.size()) + " and " + (answers == null ? "null" : answers.size()));
        }
        List<HarmfulScoreResult.SampleRecord> samples = new ArrayList<>(answers.size());
        for (int i = 0; i < prompts.size(); i++) {
            samples.add(new HarmfulScoreResult.SampleRecord(prompts.get(i), answers.get(i),
                    judge.judge(prompts.get(i), answers.get(i)), List.of(), null)); // answers given as text: no tokens, no stop reason
        }
        return HarmfulScoreResult.of(samples);
    }
}
