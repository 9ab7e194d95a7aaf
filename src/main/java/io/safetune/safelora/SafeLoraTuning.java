package io.safetune.safelora;

import io.safetune.method.Json;
import io.safetune.method.PostProcessInputs;
import io.safetune.method.Score;
import io.safetune.method.Variant;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Safe LoRA's knob fixed by a rule decided before looking at harm: the largest k (weights projected,
 * least similar first) whose fine-tune accuracy on the story's validation split (training-distribution
 * samples no attack draws, never the test prompts) stays within {@code tolerance} of the adapter as
 * trained. Safe LoRA and both of its controls run the same rule on the same curve, so a control
 * changes exactly the weights Safe LoRA changes. k = 0 (no k qualifies) leaves the adapter as trained.
 * The curve and the choice go to tuning.json.
 */
public final class SafeLoraTuning {

    public static final String FILE = "tuning.json";

    private SafeLoraTuning() {
    }

    /** One k of the curve: the weights it projected and its validation accuracy. */
    public record Point(int k, int numProjected, double validationAccuracy) {
    }

    /**
     * What tuning.json holds.
     *
     * @param tolerance   the rule's accuracy tolerance
     * @param asTrained   validation accuracy of the adapter as trained (k = 0)
     * @param chosenK     the largest qualifying k (0: none qualifies)
     * @param curve       k = 1 … every weight with a defined cosine
     * @param validationN validation samples per point
     */
    public record Record(double tolerance, double asTrained, int chosenK, List<Point> curve, int validationN) {
        public static Record read(Path stageDir) {
            return Json.read(stageDir.resolve(FILE), Record.class);
        }
    }

    /**
     * The rule on {@code in}'s adapter; each k's projected adapter is written under {@code work}/k&lt;k&gt;,
     * which the caller deletes once done with them.
     */
    static Record choose(PostProcessInputs in, Path base, SafeLoraSelection s, Path work) {
        SafeLoraResult all = SafeLora.analyze(base, in.aligned(), in.adapter(),
                SafeLoraConfig.number(Integer.MAX_VALUE).withProjector(s.projector()));
        long defined = all.weights().stream().filter(w -> w.cosine().isPresent()).count();
        Score asTrained = in.validation().score(in.adapter());
        double floor = asTrained.taskAccuracy() - s.tolerance() - 1e-12;
        int chosen = 0;
        List<Point> curve = new ArrayList<>();
        for (int k = 1; k <= defined; k++) {
            Path dir = work.resolve("k" + k);
            SafeLoraResult r = SafeLora.apply(base, in.aligned(), in.adapter(), s.withK(k).config(), dir);
            double acc = in.validation().score(dir).taskAccuracy();
            curve.add(new Point(k, r.numProjected(), acc));
            if (acc >= floor) {
                chosen = k;
            }
        }
        in.log().printf(java.util.Locale.ROOT, "   k by validation accuracy (as trained %.3f, tolerance %.2f): k = %d of %d%n",
                asTrained.taskAccuracy(), s.tolerance(), chosen, defined);
        return new Record(s.tolerance(), asTrained.taskAccuracy(), chosen, curve, asTrained.taskPrompts());
    }

    /**
     * The k curve as variants scored by the story's variant evaluation ("k 0" as trained … "k K"), for the
     * chart's line; the rule never reads them.
     */
    static List<Variant> curve(PostProcessInputs in, Record t, Path work) {
        List<Variant> out = new ArrayList<>();
        out.add(variant(0, 0, in.scorer().score(in.adapter()), t.chosenK()));
        for (Point p : t.curve()) {
            out.add(variant(p.k(), p.numProjected(), in.scorer().score(work.resolve("k" + p.k())), t.chosenK()));
        }
        return out;
    }

    private static Variant variant(int k, int projected, Score s, int chosen) {
        return new Variant("k " + k, "safe-lora (k)", Map.of("k", (double) k, "projected", (double) projected,
                "chosen", k == chosen ? 1.0 : 0.0), s);
    }

    /** Writes tuning.json into the stage folder. */
    static void write(Path out, Record t) {
        try {
            Files.createDirectories(out);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        Json.write(out.resolve(FILE), t);
    }
}
