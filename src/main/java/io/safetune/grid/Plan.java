package io.safetune.grid;

import io.safetune.experiment.Story;
import io.safetune.experiment.StoryUnit;

import java.util.List;

/**
 * A grid's units as {@code plan.json} lists them, in dependency order: shared units, then cells; the
 * gather after them. Tasks find their unit in the story itself (by id), so this file is for people
 * and for status.
 *
 * @param name  the experiment's name (its stages are {@code <runs>/<name>/stages})
 * @param hash  the hash of the experiment's config: tasks refuse a config.json that no longer matches
 * @param units every shared unit and cell
 */
public record Plan(String name, String hash, List<Entry> units) {

    /** The id of the gather task (its state file and log). */
    public static final String GATHER = "gather";

    public Plan {
        if (name == null || hash == null) {
            throw new IllegalArgumentException(name == null ? "name: missing" : "hash: missing");
        }
        units = List.copyOf(units);
    }

    /**
     * One unit: its id, phase, what it makes and the units it builds on.
     *
     * @param combination the combination's label (an aligned unit's: its label up to the align slot)
     * @param fineTune    a cell's label up to the fine-tune slot: cells with equal (seed, p, fineTune) share one fine-tune
     */
    public record Entry(String id, Phase phase, StoryUnit.Kind kind, long seed, Double p, String combination, String fineTune,
            List<String> needs, String what) {
        public Entry {
            needs = List.copyOf(needs);
        }

        static Entry of(StoryUnit u) {
            String label = u.kind() == StoryUnit.Kind.CELL ? u.combination().label()
                    : u.combination().labelUpTo(io.safetune.method.Slot.ALIGN);
            boolean cell = u.kind() == StoryUnit.Kind.CELL;
            return new Entry(u.id(), cell ? Phase.CELLS : Phase.SHARED, u.kind(), u.seed(), u.p(), label,
                    cell ? u.combination().labelUpTo(io.safetune.method.Slot.FINE_TUNE) : null, u.needs(), u.describe());
        }
    }

    /** The other cells that share {@code cell}'s fine-tune (the first of them to start builds it, the others wait). */
    public List<String> sharingFineTune(Entry cell) {
        return units.stream().filter(e -> e.phase() == Phase.CELLS && e != cell && e.seed() == cell.seed()
                && java.util.Objects.equals(e.p(), cell.p()) && java.util.Objects.equals(e.fineTune(), cell.fineTune())).map(Entry::id).toList();
    }

    /** The units of one phase, in plan order. */
    public List<Entry> of(Phase phase) {
        return units.stream().filter(e -> e.phase() == phase).toList();
    }
}
