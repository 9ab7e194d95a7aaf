package io.safetune.method;

import java.nio.file.Path;

/** Fills the post-process slot: base, aligned and adapter folders in, a new adapter out. */
public non-sealed interface PostProcessDefence<C extends DefenceConfig> extends Defence<C> {

    @Override
    default Slot slot() {
        return Slot.POST_PROCESS;
    }

    /**
     * Writes the new PEFT adapter into {@code out} (the story evaluates it like every product), or,
     * for a sweep, scores its variants through {@code in.scorer()} and returns them (then writing an
     * adapter is optional). Anything else it keeps (reports, cosines) goes into {@code out} too.
     */
    PostProcessOutput postProcess(PostProcessInputs in, C config, Path out) throws Exception;
}
