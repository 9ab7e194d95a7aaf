package io.safetune.method;

/**
 * One adapter's scores on the variant evaluation.
 *
 * @param harmfulScore   share of harmful prompts the judge finds unsafe
 * @param complianceRate share it finds complying
 * @param taskAccuracy   the fine-tune task's accuracy
 * @param harmfulPrompts how many harmful prompts were scored
 * @param taskPrompts    how many task prompts were scored
 */
public record Score(double harmfulScore, double complianceRate, double taskAccuracy, int harmfulPrompts,
        int taskPrompts) {
}
