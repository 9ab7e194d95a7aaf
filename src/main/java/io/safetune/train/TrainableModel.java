package io.safetune.train;

import ai.djl.ndarray.NDArray;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the trainer needs from a model: its trainable leaves and a differentiable forward.
 *
 * <p>The model stack ({@code io.safetune.model.CausalLM}, with or without LoRA) implements this; the
 * trainer never knows whether it optimises an adapter or full weights.
 */
public interface TrainableModel {

    /**
     * The parameters the optimiser updates, by stable name (PEFT or Hugging Face tensor names). The
     * same {@link NDArray} objects on every call; each has {@code requiresGradient} set and lives in
     * a long-lived manager owned by the model.
     */
    LinkedHashMap<String, NDArray> trainableParameters();

    /**
     * Next-token logits.
     *
     * @param inputIds      int64 [B, T] token ids (the step's manager owns it; results follow it)
     * @param attentionMask int64 [B, T], 1 for a real token and 0 for padding
     * @param training      true enables dropout
     * @return float32 [B, T, V]
     */
    NDArray logits(NDArray inputIds, NDArray attentionMask, boolean training);

    /**
     * Settings outside {@link TrainConfig} that decide what training these parameters means, e.g. a
     * LoRA adapter's r, alpha, dropout and targets, or full fine-tuning. Stored in every checkpoint; a
     * resume whose model reports different settings is refused. Keys are stable names, values their
     * canonical text. None by default.
     */
    default Map<String, String> trainingSettings() {
        return Map.of();
    }
}
