package io.safetune.method;

import java.nio.file.Path;

/**
 * The story's evaluation of one adapter folder on the aligned model: harmful score, compliance and
 * the fine-tune task's accuracy, on the variant evaluation set ({@code variantEval}). A sweep scores
 * many adapters with it, so every variant meets the same judge and prompts.
 */
@FunctionalInterface
public interface Scorer {
    Score score(Path adapterDir);
}
