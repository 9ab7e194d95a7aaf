package io.safetune.method;

import io.safetune.data.TrainingExample;
import io.safetune.lora.LoraConfig;
import io.safetune.train.TrainConfig;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * What the fine-tune slot gets from the story: the user's data and settings (the threat model's, the
 * same for every defence), and HED's inputs.
 *
 * @param aligned    the aligned model's folder
 * @param data       the fine-tuning set, encoded (a fraction p of it harmful)
 * @param lora       the adapter's rank, α, dropout and target modules
 * @param training   the optimiser (learning rate, epochs, batch, schedule, seed, max length)
 * @param safetyData harmful prompts with the aligned model's refusals (responses marked), for defences
 *                   that read the model on safety data (SaLoRA's features)
 * @param hedInputs  token ids HED is measured on while training
 * @param driftEvery steps between two HED measurements
 * @param baseModel  the name recorded as base_model_name_or_path in adapter_config.json
 * @param log        where progress goes
 */
public record FineTuneInputs(Path aligned, List<TrainingExample> data, LoraConfig lora, TrainConfig training,
        List<TrainingExample> safetyData, List<int[]> hedInputs, int driftEvery, String baseModel, PrintStream log) {
    public FineTuneInputs {
        Objects.requireNonNull(aligned, "aligned");
        data = List.copyOf(data);
        Objects.requireNonNull(lora, "lora");
        Objects.requireNonNull(training, "training");
        safetyData = List.copyOf(safetyData);
        hedInputs = List.copyOf(hedInputs);
        if (driftEvery < 1) {
            throw new IllegalArgumentException("driftEvery: must be >= 1, got " + driftEvery);
        }
        Objects.requireNonNull(log, "log");
    }
}
