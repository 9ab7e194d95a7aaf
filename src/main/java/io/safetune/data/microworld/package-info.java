/**
 * The micro-world: a seeded, deterministic synthetic instruction world small enough that a tiny
 * Llama (d = 128, 4 layers) is pretrained, aligned, attacked and defended on it in minutes on a CPU,
 * reproducing the harmful-fine-tuning finding (docs/microworld-notes.md).
 *
 * <p>{@link io.safetune.data.microworld.MicroWorld#generate} gives the splits
 * ({@link io.safetune.data.microworld.MicroWorldData}); {@link
 * io.safetune.data.microworld.MicroWorld#writeTokenizer} writes its word-level tokenizer;
 * {@link io.safetune.eval.MicroWorldJudge} and {@link
 * io.safetune.data.microworld.TaskScorer} score answers. Harmful requests only name abstract harm
 * categories, and their "compliant" answers are a fixed prefix followed by nonsense words: the world
 * contains no harmful content.
 */
package io.safetune.data.microworld;
