package io.safetune.method;

/**
 * A defence's settings: a record validated in its compact constructor, read from an experiment file
 * by field name (unknown fields are errors) and part of its stage's key, so changing a setting redoes
 * the stage and nothing else. The registry closes the set of config types: a sealed interface cannot
 * span one package per method outside a named module, so {@code experiment.Defences} admits exactly
 * the registered defences' types instead.
 */
public interface DefenceConfig {

    /**
     * Whether these settings tune a knob on the story's validation split ({@link PostProcessInputs#validation}):
     * only then is the split part of the stage's key, and a source without one refuses them when the
     * experiment is read.
     */
    default boolean tunesOnValidation() {
        return false;
    }
}
