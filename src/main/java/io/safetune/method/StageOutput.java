package io.safetune.method;

import java.nio.file.Path;

/** One finished stage of a defence, for its report: the seed and p it ran on and its folder. */
public record StageOutput(long seed, double p, Path dir) {
}
