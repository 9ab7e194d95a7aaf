package io.safetune.safelora;

import io.safetune.method.DefenceConfig;
import io.safetune.method.PostProcessDefence;
import io.safetune.method.PostProcessInputs;
import io.safetune.method.PostProcessOutput;

import java.nio.file.Path;

/**
 * Safe LoRA's two controls as post-process defences, each on Safe LoRA's own selection: a random
 * orthogonal projector of rank {@code randomRank} on the same weights, or every B scaled so the total
 * update norm equals Safe LoRA's. Beside Safe LoRA they tell the alignment directions from shrinkage.
 */
public final class SafeLoraControl implements PostProcessDefence<SafeLoraControl.Settings> {

    public static final String RANDOM_PROJECTION = "safelora-random-projection";
    public static final String UNIFORM_SCALE = "safelora-uniform-scale";

    /** The two controls. */
    public enum Kind {
        RANDOM_PROJECTION,
        UNIFORM_SCALE
    }

    /**
     * @param selection  Safe LoRA's selection the control copies
     * @param randomRank the random projector's rank (random projection only; default 8)
     */
    public record Settings(SafeLoraSelection selection, Integer randomRank) implements DefenceConfig {
        public Settings {
            selection = selection == null ? SafeLoraSelection.defaults() : selection;
            randomRank = randomRank == null ? 8 : randomRank;
            if (randomRank < 1) {
                throw new IllegalArgumentException("randomRank: must be >= 1, got " + randomRank);
            }
        }

        @Override
        public boolean tunesOnValidation() {
            return selection.tunesOnValidation();
        }
    }

    private final Kind kind;

    public SafeLoraControl(Kind kind) {
        this.kind = kind;
    }

    @Override
    public String name() {
        return kind == Kind.RANDOM_PROJECTION ? RANDOM_PROJECTION : UNIFORM_SCALE;
    }

    @Override
    public String description() {
        return kind == Kind.RANDOM_PROJECTION
                ? "control: a random orthogonal projector on Safe LoRA's selected weights"
                : "control: every B scaled to Safe LoRA's total update norm";
    }

    @Override
    public Class<Settings> configType() {
        return Settings.class;
    }

    @Override
    public Settings defaultConfig() {
        return new Settings(null, null);
    }

    @Override
    public PostProcessOutput postProcess(PostProcessInputs in, Settings config, Path out) {
        Path base = in.requireBase(name());
        SafeLoraSelection selection = config.selection();
        if (selection.tolerance() != null) { // Safe LoRA's rule on Safe LoRA's curve: the same k
            SafeLoraTuning.Record t = SafeLoraTuning.choose(in, base, selection, out.resolve("tuning"));
            io.safetune.checkpoint.AtomicFolders.deleteQuietly(out.resolve("tuning")); // only k is needed from them
            SafeLoraTuning.write(out, t);
            if (t.chosenK() == 0) {
                SafeLoraControls.uniformScale(in.adapter(), 1.0, out);
                return PostProcessOutput.adapter();
            }
            selection = selection.withK(t.chosenK());
        }
        SafeLoraResult r = SafeLora.analyze(base, in.aligned(), in.adapter(), selection.config());
        if (kind == Kind.RANDOM_PROJECTION) {
            SafeLoraControls.randomProjection(in.adapter(), r.projectedWeights(), config.randomRank(), in.seed(), out);
        } else {
            SafeLoraControls.uniformScale(in.adapter(), SafeLoraControls.matchingScale(r), out);
        }
        return PostProcessOutput.adapter();
    }
}
