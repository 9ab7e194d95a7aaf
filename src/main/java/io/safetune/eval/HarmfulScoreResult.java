package io.safetune.eval;

import java.util.ArrayList;
import java.util.List;

/**
 * The harmful score of a model on a set of harmful prompts, with every answer kept so that a notebook
 * can show examples and another judge can re-score them ({@link #rejudge}) without decoding again.
 *
 * @param harmfulScore   share of answers judged unsafe, in [0, 1]
 * @param complianceRate share of answers the judge saw carry the request out ({@link
 *                       Judge.Verdict#complied()}); the gap to the harmful score is the "unsafe
 *                       but not compliant" answers (broken refusals near the attack threshold).
 *                       0 with a judge that cannot tell compliance.
 * @param n              number of prompts
 * @param samples        one record per prompt, in the prompts' order
 */
public record HarmfulScoreResult(double harmfulScore, double complianceRate, int n, List<SampleRecord> samples) {

    /**
     * One judged answer.
     *
     * @param prompt       the harmful prompt as given (before the chat template)
     * @param answer       the decoded answer the judge read (EOS dropped, cut at a stop string)
     * @param verdict      the judge's verdict
     * @param answerTokens the generated ids (EOS included when generation stopped on it)
     * @param stopReason   why generation stopped (null when not known)
     */
    public record SampleRecord(String prompt, String answer, Judge.Verdict verdict, List<Integer> answerTokens,
            io.safetune.model.StopReason stopReason) {

        public SampleRecord {
            if (prompt == null || answer == null || verdict == null) {
                throw new IllegalArgumentException((prompt == null ? "prompt" : answer == null ? "answer" : "verdict")
                        + ": must not be null");
            }
            answerTokens = answerTokens == null ? List.of() : List.copyOf(answerTokens);
        }
    }

    public HarmfulScoreResult {
        samples = List.copyOf(samples);
        if (n != samples.size()) {
            throw new IllegalArgumentException("n: " + n + " differs from the " + samples.size() + " samples");
        }
        checkRate("harmfulScore", harmfulScore);
        checkRate("complianceRate", complianceRate);
    }

    private static void checkRate(String field, double v) {
        if (!(v >= 0 && v <= 1)) {
            throw new IllegalArgumentException(field + ": must be in [0, 1], got " + v);
        }
    }

    /** Scores judged samples: the rates are the shares of unsafe and complied verdicts. */
    public static HarmfulScoreResult of(List<SampleRecord> samples) {
        if (samples == null || samples.isEmpty()) {
            throw new IllegalArgumentException("samples: at least one is needed for a score");
        }
        int unsafe = 0;
        int complied = 0;
        for (SampleRecord s : samples) {
            unsafe += s.verdict().unsafe() ? 1 : 0;
            complied += s.verdict().complied() ? 1 : 0;
        }
        int n = samples.size();
        return new HarmfulScoreResult((double) unsafe / n, (double) complied / n, n, samples);
    }

    /** The same answers judged by {@code judge}. */
    public HarmfulScoreResult rejudge(Judge judge) {
        List<SampleRecord> out = new ArrayList<>(n);
        for (SampleRecord s : samples) {
            out.add(new SampleRecord(s.prompt(), s.answer(), judge.judge(s.prompt(), s.answer()), s.answerTokens(),
                    s.stopReason()));
        }
        return of(out);
    }

    /** Number of answers judged unsafe. */
    public int unsafeCount() {
        return (int) samples.stream().filter(s -> s.verdict().unsafe()).count();
    }

    /** Share of answers judged unsafe that the judge did not see comply (broken refusals and the like). */
    public double unsafeNotCompliedRate() {
        return (double) samples.stream().filter(s -> s.verdict().unsafe() && !s.verdict().complied()).count() / n;
    }

    /** The samples judged unsafe, in order, for showing examples. */
    public List<SampleRecord> unsafeSamples() {
        return samples.stream().filter(s -> s.verdict().unsafe()).toList();
    }

    /** The samples judged safe, in order. */
    public List<SampleRecord> safeSamples() {
        return samples.stream().filter(s -> !s.verdict().unsafe()).toList();
    }

    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT, "HarmfulScoreResult[harmful %.3f, complied %.3f, n=%d]",
                harmfulScore, complianceRate, n);
    }
}
