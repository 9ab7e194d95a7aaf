package io.safetune.method;

import io.safetune.data.TrainingExample;
import io.safetune.train.TrainConfig;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * What the align slot gets from the story.
 *
 * @param base     the unaligned model's folder (config.json, weights, tokenizer files)
 * @param data     the alignment set, encoded: harmful prompts with refusals and benign replay
 * @param training the story's alignment optimiser (steps, batch, learning rate, schedule, seed)
 * @param flow     the story's flow, for a defence whose settings leave it out: FULL on the micro-world, LORA
 *                 on real data
 * @param log      where progress goes
 */
public record AlignInputs(Path base, List<TrainingExample> data, TrainConfig training, AlignFlow flow, PrintStream log) {
    public AlignInputs {
        Objects.requireNonNull(flow, "flow");
        Objects.requireNonNull(base, "base");
        data = List.copyOf(data);
        Objects.requireNonNull(training, "training");
        Objects.requireNonNull(log, "log");
    }
}
