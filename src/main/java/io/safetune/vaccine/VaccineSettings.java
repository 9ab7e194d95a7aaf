package io.safetune.vaccine;

import io.safetune.lora.LoraConfig;
import io.safetune.method.DefenceConfig;
import io.safetune.model.CausalLM;
import io.safetune.train.ScheduleType;
import io.safetune.train.TrainConfig;

import java.util.List;

/**
 * Vaccine's settings (Huang et al., NeurIPS 2024; reference code git-disl/Vaccine), read from an
 * experiment file as {@code align: {method: vaccine, rho: 1, refreshEvery: 10, flow: LORA}}. Every field
 * may be left out (null takes the default).
 *
 * @param rho          ρ, the norm of the perturbation over all layers (default 2, the paper's)
 * @param perturbation ADVERSARIAL (ε along ∂L/∂e, the method) or RANDOM (an isotropic Gaussian of the
 *                     same norm: the control)
 * @param refreshEvery K: ε is recomputed (two passes) every K steps and reused in between (one pass);
 *                     1 (default) is Vaccine itself. Ignored by RANDOM, which draws a fresh ε every step
 * @param flow         FULL (every weight trained, with the story's optimiser, as SFT) or LORA (an alignment
 *                     adapter trained, then merged: the reference's flow)
 * @param loraR        LORA flow: the alignment adapter's rank (default 8)
 * @param loraAlpha    LORA flow: lora_alpha (default 4, so s = α/r = 0.5)
 * @param loraDropout  LORA flow: dropout on the adapter's input (default 0.1)
 * @param loraModules  LORA flow: adapted linear modules (default every one: q, k, v, o, gate, up, down)
 * @param learningRate LORA flow: AdamW's peak learning rate (default 1e-3)
 * @param weightDecay  LORA flow: AdamW's decoupled weight decay (default 0.1)
 * @param warmupRatio  LORA flow: warm-up share of a cosine schedule (default 0.1)
 */
public record VaccineSettings(Double rho, Perturbation perturbation, Integer refreshEvery, Flow flow, Integer loraR,
        Double loraAlpha, Double loraDropout, List<String> loraModules, Double learningRate, Double weightDecay,
        Double warmupRatio) implements DefenceConfig {

    /** What ε is. */
    public enum Perturbation {
        /** ε_l = ρ·g_l/‖g‖, g_l = ∂L/∂e_l from a first pass: Vaccine. */
        ADVERSARIAL,
        /** ε = ρ·z/‖z‖, z isotropic Gaussian on real tokens: the control (one pass per step). */
        RANDOM
    }

    /** What the alignment trains. */
    public enum Flow {
        FULL,
        LORA
    }

    public VaccineSettings {
        rho = rho == null ? 2.0 : rho;
        perturbation = perturbation == null ? Perturbation.ADVERSARIAL : perturbation;
        refreshEvery = refreshEvery == null ? 1 : refreshEvery;
        flow = flow == null ? Flow.FULL : flow;
        loraR = loraR == null ? 8 : loraR;
        loraAlpha = loraAlpha == null ? 4.0 : loraAlpha;
        loraDropout = loraDropout == null ? 0.1 : loraDropout;
        loraModules = loraModules == null ? CausalLM.linearModules() : List.copyOf(loraModules);
        learningRate = learningRate == null ? 1e-3 : learningRate;
        weightDecay = weightDecay == null ? 0.1 : weightDecay;
        warmupRatio = warmupRatio == null ? 0.1 : warmupRatio;
        if (!(rho > 0) || !Double.isFinite(rho)) {
            throw new IllegalArgumentException("rho: must be > 0, got " + rho);
        }
        if (refreshEvery < 1) {
            throw new IllegalArgumentException("refreshEvery: must be >= 1, got " + refreshEvery);
        }
        // LoraConfig names the field that is wrong (r, alpha, dropout, targetModules)
        new LoraConfig(loraR, loraAlpha, loraDropout, loraModules, List.of(), false);
        if (!(learningRate > 0) || !Double.isFinite(learningRate)) {
            throw new IllegalArgumentException("learningRate: must be > 0, got " + learningRate);
        }
        if (!(weightDecay >= 0) || !Double.isFinite(weightDecay)) {
            throw new IllegalArgumentException("weightDecay: must be >= 0, got " + weightDecay);
        }
        if (!(warmupRatio >= 0 && warmupRatio < 1)) {
            throw new IllegalArgumentException("warmupRatio: must be in [0, 1), got " + warmupRatio);
        }
    }

    public static VaccineSettings defaults() {
        return new VaccineSettings(null, null, null, null, null, null, null, null, null, null, null);
    }

    public VaccineSettings withRho(double r) {
        return new VaccineSettings(r, perturbation, refreshEvery, flow, loraR, loraAlpha, loraDropout, loraModules, learningRate,
                weightDecay, warmupRatio);
    }

    public VaccineSettings withPerturbation(Perturbation p) {
        return new VaccineSettings(rho, p, refreshEvery, flow, loraR, loraAlpha, loraDropout, loraModules, learningRate,
                weightDecay, warmupRatio);
    }

    public VaccineSettings withRefreshEvery(int k) {
        return new VaccineSettings(rho, perturbation, k, flow, loraR, loraAlpha, loraDropout, loraModules, learningRate,
                weightDecay, warmupRatio);
    }

    public VaccineSettings withFlow(Flow f) {
        return new VaccineSettings(rho, perturbation, refreshEvery, f, loraR, loraAlpha, loraDropout, loraModules, learningRate,
                weightDecay, warmupRatio);
    }

    /** The LORA flow's alignment adapter, every layer. */
    public LoraConfig lora() {
        return new LoraConfig(loraR, loraAlpha, loraDropout, loraModules, List.of(), false);
    }

    /**
     * The optimiser of a run: FULL keeps the story's ({@code story}); LORA takes the reference's AdamW
     * (learning rate, weight decay, cosine with warm-up) and the story's steps, batch and seed.
     */
    public TrainConfig training(TrainConfig story) {
        if (flow == Flow.FULL) {
            return story;
        }
        return story.toBuilder().learningRate(learningRate).weightDecay(weightDecay).schedule(ScheduleType.COSINE)
                .warmupSteps(0).warmupRatio(warmupRatio).build();
    }
}
