package io.safetune.salora;

import com.fasterxml.jackson.annotation.JsonInclude;

import io.safetune.method.DefenceConfig;

/**
 * SaLoRA's settings (Li et al., ICLR 2025; reference code homles11/SaLoRA, {@code lora_train_act.py}
 * at 3f73de1). The adapter's rank r, α, dropout and target modules are the fine-tune's own (the
 * story's, so every defence meets the attack at the same rank); these are SaLoRA's additions.
 *
 * @param rankSafety    r_s, the safety directions C removes (default 32; 0 gives C = I)
 * @param rankTask      r_t, the task directions of the initialisation (default 32)
 * @param safetySamples safety examples whose response-token inputs are the features X_s (default 128)
 * @param taskSamples   fine-tuning examples whose response-token inputs are X_t (default 128)
 * @param svd           EXACT (X·Wᵀ formed, full SVD) or RANDOMIZED (products only: X·(Wᵀ·Ω))
 * @param oversampling  extra columns of the randomized range (default 10)
 * @param powerIterations rounds of the randomized power iteration (default 4)
 * @param module        SAFETY (C from the safety features, the method), RANDOM (C from a random
 *                      r_s-dimensional subspace: the control) or NONE (C = I: the initialisation alone)
 * @param init          TASK (B₀, A₀ from the task features and W's SVD, the method) or PLAIN (LoRA's:
 *                      A Kaiming-uniform, B = 0: the module alone)
 * @param precision     the arithmetic of the large products (X·(Wᵀ·Ω), W·(Xᵀ·Q), C·B₀·A₀), whatever the
 *                      checkpoint's dtype: FP64 (default; Java doubles through EJML, the same bits on every
 *                      machine, for small models) or FP32 (libtorch float32 matmuls, as the reference
 *                      computes; the path for 7B shapes). The small factorisations (thin QR, the SVD of the
 *                      (k + oversampling) × d sketch) are always fp64.
 */
public record SaLoraSettings(Integer rankSafety, Integer rankTask, Integer safetySamples, Integer taskSamples, Svd svd,
        Integer oversampling, Integer powerIterations, Module module, Init init,
        @JsonInclude(value = JsonInclude.Include.CUSTOM, valueFilter = Fp64Omitted.class) Precision precision) implements DefenceConfig {

    /** How singular vectors are computed. */
    public enum Svd {
        EXACT,
        RANDOMIZED
    }

    /** What C is. */
    public enum Module {
        SAFETY,
        RANDOM,
        NONE
    }

    /** How A and B start. */
    public enum Init {
        TASK,
        PLAIN
    }

    /** The arithmetic of the large products. */
    public enum Precision {
        FP64,
        FP32
    }

    /**
     * Leaves the default precision out of the settings' JSON, so stage keys (hashes of that JSON) made
     * before the setting existed still name the same stages.
     */
    public static final class Fp64Omitted {
        @Override
        public boolean equals(Object value) {
            return value == null || value == Precision.FP64;
        }

        @Override
        public int hashCode() {
            return 0;
        }
    }

    public SaLoraSettings {
        rankSafety = rankSafety == null ? 32 : rankSafety;
        rankTask = rankTask == null ? 32 : rankTask;
        safetySamples = safetySamples == null ? 128 : safetySamples;
        taskSamples = taskSamples == null ? 128 : taskSamples;
        svd = svd == null ? Svd.EXACT : svd;
        oversampling = oversampling == null ? 10 : oversampling;
        powerIterations = powerIterations == null ? 4 : powerIterations;
        module = module == null ? Module.SAFETY : module;
        init = init == null ? Init.TASK : init;
        precision = precision == null ? Precision.FP64 : precision;
        if (rankSafety < 0) {
            throw new IllegalArgumentException("rankSafety: must be >= 0, got " + rankSafety);
        }
        if (rankTask < 1) {
            throw new IllegalArgumentException("rankTask: must be >= 1, got " + rankTask);
        }
        if (safetySamples < 1 || taskSamples < 1) {
            throw new IllegalArgumentException("safetySamples, taskSamples: must be >= 1, got " + safetySamples + ", " + taskSamples);
        }
        if (oversampling < 0 || powerIterations < 0) {
            throw new IllegalArgumentException("oversampling, powerIterations: must be >= 0, got " + oversampling + ", "
                    + powerIterations);
        }
    }

    public static SaLoraSettings defaults() {
        return new SaLoraSettings(null, null, null, null, null, null, null, null, null, null);
    }

    public SaLoraSettings withRanks(int safety, int task) {
        return new SaLoraSettings(safety, task, safetySamples, taskSamples, svd, oversampling, powerIterations, module, init, precision);
    }

    public SaLoraSettings withPrecision(Precision p) {
        return new SaLoraSettings(rankSafety, rankTask, safetySamples, taskSamples, svd, oversampling, powerIterations, module, init, p);
    }

    public SaLoraSettings withSvd(Svd s) {
        return new SaLoraSettings(rankSafety, rankTask, safetySamples, taskSamples, s, oversampling, powerIterations, module, init, precision);
    }
}
