package io.safetune.method;

import java.util.List;

/**
 * What a post-process stage made.
 *
 * @param wroteAdapter true when the stage folder holds the new adapter (the story evaluates it)
 * @param variants     the variants a sweep scored itself (empty for a single adapter)
 */
public record PostProcessOutput(boolean wroteAdapter, List<Variant> variants) {
    public PostProcessOutput {
        variants = List.copyOf(variants);
        if (!wroteAdapter && variants.isEmpty()) {
            throw new IllegalArgumentException("a post-process must write an adapter or score variants");
        }
    }

    /** One new adapter in the stage folder. */
    public static PostProcessOutput adapter() {
        return new PostProcessOutput(true, List.of());
    }

    /** A sweep's scored variants. */
    public static PostProcessOutput variants(List<Variant> variants) {
        return new PostProcessOutput(false, variants);
    }
}
