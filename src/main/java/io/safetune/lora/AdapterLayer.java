package io.safetune.lora;

import ai.djl.ndarray.NDArray;

import io.safetune.model.LinearAdapter;
import io.safetune.model.Projection;

import java.util.Map;

/**
 * A side path that {@link Injection} puts on a linear layer: LoRA's s·B·A·x ({@link LoraLayer}),
 * SaLoRA's C·s·B·A·x, … Injection, registration under PEFT's names, safe merging and closing are
 * written once for all of them.
 */
public interface AdapterLayer extends LinearAdapter {

    /** The adapted linear layer. */
    Projection target();

    /** The trainable tensors by PEFT's name part ("lora_A", "lora_B"), in the order they are saved. */
    Map<String, NDArray> trainable();

    /** The update a merge folds into W, [d_out, d_in]: a fresh array (the caller attaches it to its manager). */
    NDArray deltaWeight();

    boolean merged();

    void setMerged(boolean merged);
}
