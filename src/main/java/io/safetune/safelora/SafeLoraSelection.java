package io.safetune.safelora;

import com.fasterxml.jackson.annotation.JsonInclude;

import io.safetune.method.DefenceConfig;

/**
 * Which weights Safe LoRA projects, as an experiment file writes it: {@code {mode: NUMBER, k: 10}} or
 * {@code {mode: THRESHOLD, tau: 0.5}}, and with which projector. Safe LoRA and both of its controls
 * take this record, so a control works on exactly the weights Safe LoRA would.
 *
 * @param mode      NUMBER (the reference's default) or THRESHOLD
 * @param k         number mode's k (default 10; larger than the number of weights projects them all)
 * @param tau       threshold mode's τ (default 0.5)
 * @param projector PLAIN (the reference's) or EXACT
 * @param tolerance null: k (or τ) as given. Set: k is chosen before looking at harm ({@link SafeLoraTuning}),
 *                  the largest k whose fine-tune accuracy on the validation split stays within this many
 *                  (e.g. 0.05: 5 points) of the adapter as trained; number mode only, k left out
 */
public record SafeLoraSelection(SafeLoraConfig.Mode mode, Integer k, Double tau, SafeLoraConfig.Projector projector,
        @JsonInclude(JsonInclude.Include.NON_NULL) Double tolerance) implements DefenceConfig {

    public SafeLoraSelection {
        if (tolerance != null) {
            if (k != null || mode == SafeLoraConfig.Mode.THRESHOLD) {
                throw new IllegalArgumentException("tolerance: k is then chosen by the validation rule; leave k and mode out");
            }
            if (!(tolerance >= 0 && tolerance <= 1)) {
                throw new IllegalArgumentException("tolerance: an accuracy difference in [0, 1], got " + tolerance);
            }
        }
        mode = mode == null ? SafeLoraConfig.Mode.NUMBER : mode;
        k = k == null && tolerance == null ? Integer.valueOf(SafeLoraConfig.DEFAULT_NUM_PROJ_LAYERS) : k; // with a tolerance: chosen later
        tau = tau == null ? SafeLoraConfig.DEFAULT_TAU : tau;
        projector = projector == null ? SafeLoraConfig.Projector.PLAIN : projector;
        if (k != null && k < 1) {
            throw new IllegalArgumentException("k: must be >= 1, got " + k);
        }
        if (!(tau >= -1 && tau <= 1)) {
            throw new IllegalArgumentException("tau: must be a cosine in [-1, 1], got " + tau);
        }
    }

    public static SafeLoraSelection defaults() {
        return new SafeLoraSelection(null, null, null, null, null);
    }

    @Override
    public boolean tunesOnValidation() {
        return tolerance != null;
    }

    /** This selection with k fixed (what the validation rule chose). */
    public SafeLoraSelection withK(int chosen) {
        return new SafeLoraSelection(SafeLoraConfig.Mode.NUMBER, chosen, tau, projector, null);
    }

    /** The algorithm's config (FP64); with a tolerance, only once k is fixed ({@link #withK}). */
    public SafeLoraConfig config() {
        if (k == null && mode == SafeLoraConfig.Mode.NUMBER) {
            throw new IllegalStateException("k: chosen by the validation rule (tolerance " + tolerance + "); fix it with withK");
        }
        SafeLoraConfig c = mode == SafeLoraConfig.Mode.NUMBER ? SafeLoraConfig.number(k) : SafeLoraConfig.threshold(tau);
        return c.withProjector(projector);
    }
}
