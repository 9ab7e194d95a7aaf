/**
 * The contract between the story ({@code experiment}) and the defences: a {@link io.safetune.method.Defence}
 * fills one {@link io.safetune.method.Slot} with a config record and a slot function over Hugging Face
 * and PEFT folders. Method packages ({@code safelora}, …) implement it; {@code experiment.Defences} is
 * the registry. This package imports the model stack, {@code data} and {@code display} only.
 */
package io.safetune.method;
