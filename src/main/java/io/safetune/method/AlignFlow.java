package io.safetune.method;

/** What an alignment trains: every weight, or an adapter that is merged afterwards. */
public enum AlignFlow {
    /** Every weight, with the story's optimiser (the micro-world's alignment). */
    FULL,
    /** An alignment adapter ({@link AlignmentLora}), trained, then merged into the weights (Vaccine's reference flow). */
    LORA
}
