package io.safetune.experiment;

import io.safetune.method.Slot;

import java.util.List;
import java.util.Locale;

/**
 * One piece of the story that can run on its own (a grid task): the base model of a seed, an
 * aligned model (one per align filler and seed), or a cell: one combination's fine-tune at one p and
 * its post-process, on one seed. {@link Story#run} is every unit in {@link Story#units} order, and what a
 * unit makes is exactly the stages {@link Story#run} reads for its rows.
 *
 * @param id          unique in the experiment, safe as a file name: "base-s0", "aligned-s0" (or
 *                    "aligned-&lt;align defence&gt;-s0"), "cell-&lt;combination&gt;-p0.100-s0"
 * @param p           the cell's harmful fraction (null for base and aligned units)
 * @param combination the combination of an aligned unit (its first with that align filler) or a cell
 * @param needs       the units whose stages this one builds on
 */
public record StoryUnit(String id, Kind kind, long seed, Double p, Combination combination, List<String> needs) {
    public StoryUnit {
        if (id == null || id.isBlank()) {
            throw new IllegalArgumentException("id: missing");
        }
        if (kind == null || combination == null) {
            throw new IllegalArgumentException(id + ": " + (kind == null ? "kind" : "combination") + " missing");
        }
        if ((kind == Kind.CELL) != (p != null)) {
            throw new IllegalArgumentException(id + ": p must be given for a cell and only for a cell");
        }
        needs = List.copyOf(needs);
    }

    /** What a unit makes. */
    public enum Kind { BASE, ALIGNED, CELL }

    /** How the plan shows it: "aligned model by &lt;defence&gt;, seed 0", "&lt;combination&gt; at p = 0.10, seed 0". */
    public String describe() {
        return switch (kind) {
            case BASE -> "base model, seed " + seed;
            case ALIGNED -> combination.defended(Slot.ALIGN) ? "aligned model by " + combination.labelUpTo(Slot.ALIGN)
                    + ", seed " + seed : "aligned model, seed " + seed;
            case CELL -> String.format(Locale.ROOT, "%s at p = %.2f, seed %d", combination.label(), p, seed);
        };
    }
}
