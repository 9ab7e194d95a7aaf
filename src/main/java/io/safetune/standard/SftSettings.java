package io.safetune.standard;

import com.fasterxml.jackson.annotation.JsonInclude;

import io.safetune.method.AlignFlow;
import io.safetune.method.AlignmentLora;
import io.safetune.method.DefenceConfig;

/**
 * The default alignment's one setting, read as {@code align: {method: sft, flow: LORA}}.
 *
 * @param flow FULL (every weight, the story's optimiser) or LORA (the Vaccine reference's SFT: {@link
 *             AlignmentLora#REFERENCE} trained, then merged); left out (null), the story's: FULL on the
 *             micro-world, LORA on real data, where a 7B model is aligned through an adapter. Null is left
 *             out of the stage key's JSON, so stages of experiments written before the setting existed keep
 *             their names.
 */
public record SftSettings(@JsonInclude(JsonInclude.Include.NON_NULL) AlignFlow flow) implements DefenceConfig {

    public static SftSettings defaults() {
        return new SftSettings(null);
    }

    /** The flow a run takes: this one, else the story's. */
    public AlignFlow flow(AlignFlow story) {
        return flow != null ? flow : story;
    }
}
