package io.safetune.method;

import io.safetune.display.Displayable;

import java.util.List;

/**
 * A published defence (or a control) as a filler of one {@link Slot} of the story. A method package
 * exports one per variant it offers, each a small class: a name, its config record, and the slot
 * function of {@link AlignDefence}, {@link FineTuneDefence} or {@link PostProcessDefence}. Methods
 * compose through Hugging Face and PEFT folders and never import one another.
 *
 * @param <C> the config record
 */
public sealed interface Defence<C extends DefenceConfig> permits AlignDefence, FineTuneDefence, PostProcessDefence {

    /** Lower-case name of the experiment file and the results, e.g. {@code safelora}. */
    String name();

    /** One line for listings and reports. */
    String description();

    Slot slot();

    Class<C> configType();

    /** The settings used when the experiment names the defence without any. */
    C defaultConfig();

    /**
     * Micro-world expectations of the products this defence makes (default none), checked by
     * {@code reproduce} on the micro-world only: real checkpoints have no targets.
     */
    default List<Target> targets() {
        return List.of();
    }

    /**
     * What this defence's stages show beyond the scores every product gets (default nothing): e.g. a
     * sweep's charts over seeds. Called with every stage the run made for it, for one p.
     */
    default List<Displayable> report(List<StageOutput> stages, String condition) {
        return List.of();
    }
}
