package io.safetune.method;

import java.nio.file.Path;

/** Fills the align slot: writes an aligned Hugging Face checkpoint folder. */
public non-sealed interface AlignDefence<C extends DefenceConfig> extends Defence<C> {

    @Override
    default Slot slot() {
        return Slot.ALIGN;
    }

    /**
     * Aligns {@code in.base()} on {@code in.data()} and writes the model (config.json,
     * model.safetensors, the base's tokenizer files) and train.json ({@link TrainLog}) into {@code out},
     * a fresh work folder that the story renames into place once this returns.
     */
    void align(AlignInputs in, C config, Path out) throws Exception;
}
