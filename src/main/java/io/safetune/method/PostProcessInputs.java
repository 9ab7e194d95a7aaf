package io.safetune.method;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * What the post-process slot gets from the story.
 *
 * @param base    the unaligned model's folder, when the source has one (the micro-world always; a real
 *                experiment when {@code real.base} is set)
 * @param aligned the aligned model the adapter was trained on
 * @param adapter the fine-tuned PEFT adapter
 * @param seed    the run's seed (for a defence's own randomness, e.g. a random control)
 * @param scorer  the story's evaluation of one adapter on the aligned model (variants of a sweep)
 * @param validation the fine-tune task's accuracy on a validation split, never the test prompts (harmful
 *                score NaN): what a knob is tuned on; the source's error when it has no such split
 * @param log     where progress goes
 */
public record PostProcessInputs(Optional<Path> base, Path aligned, Path adapter, long seed, Scorer scorer,
        Scorer validation, PrintStream log) {
    public PostProcessInputs {
        Objects.requireNonNull(base, "base");
        Objects.requireNonNull(aligned, "aligned");
        Objects.requireNonNull(adapter, "adapter");
        Objects.requireNonNull(scorer, "scorer");
        Objects.requireNonNull(validation, "validation");
        Objects.requireNonNull(log, "log");
    }

    /** The base folder, or an error saying that {@code defence} needs one (and where a real experiment sets it). */
    public Path requireBase(String defence) {
        return base.orElseThrow(() -> new IllegalArgumentException("real.base: " + defence
                + " needs the unaligned base checkpoint (V = W_aligned - W_base); set real.base to its folder"));
    }
}
