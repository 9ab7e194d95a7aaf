package io.safetune.vaccine;

import com.fasterxml.jackson.annotation.JsonInclude;

import io.safetune.lora.LoraConfig;
import io.safetune.method.AlignFlow;
import io.safetune.method.AlignmentLora;
import io.safetune.method.DefenceConfig;
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
 *                     adapter trained, then merged: the reference's flow); left out, the story's: FULL on the
 *                     micro-world, LORA on real data (a 7B model is aligned through an adapter)
 * @param loraR        LORA flow: the alignment adapter's rank (default 8)
 * @param loraAlpha    LORA flow: lora_alpha (default 4, so s = α/r = 0.5)
 * @param loraDropout  LORA flow: dropout on the adapter's input (default 0.1)
 * @param loraModules  LORA flow: adapted linear modules (default every one: q, k, v, o, gate, up, down)
 * @param learningRate LORA flow: AdamW's peak learning rate (default 1e-3)
 * @param weightDecay  LORA flow: AdamW's decoupled weight decay (default 0.1)
 * @param warmupRatio  LORA flow: warm-up share of a cosine schedule (default 0.1)
 */
public record VaccineSettings(Double rho, Perturbation perturbation, Integer refreshEvery,
        @JsonInclude(JsonInclude.Include.NON_NULL) AlignFlow flow, Integer loraR,
        Double loraAlpha, Double loraDropout, List<String> loraModules, Double learningRate, Double weightDecay,
        Double warmupRatio) implements DefenceConfig {

    /** What ε is. */
    public enum Perturbation {
        /** ε_l = ρ·g_l/‖g‖, g_l = ∂L/∂e_l from a first pass: Vaccine. */
        ADVERSARIAL,
        /** ε = ρ·z/‖z‖, z isotropic Gaussian on real tokens: the control (one pass per step). */
        RANDOM
    }

    public VaccineSettings {
        rho = rho == null ? 2.0 : rho;
        perturbation = perturbation == null ? Perturbation.ADVERSARIAL : perturbation;
        refreshEvery = refreshEvery == null ? 1 : refreshEvery;
        AlignmentLora ref = AlignmentLora.REFERENCE;
        loraR = loraR == null ? ref.r() : loraR;
        loraAlpha = loraAlpha == null ? ref.alpha() : loraAlpha;
        loraDropout = loraDropout == null ? ref.dropout() : loraDropout;
        loraModules = loraModules == null ? ref.modules() : List.copyOf(loraModules);
        learningRate = learningRate == null ? ref.learningRate() : learningRate;
        weightDecay = weightDecay == null ? ref.weightDecay() : weightDecay;
        warmupRatio = warmupRatio == null ? ref.warmupRatio() : warmupRatio;
        if (!(rho > 0) || !Double.isFinite(rho)) {
            throw new IllegalArgumentException("rho: must be > 0, got " + rho);
        }
        if (refreshEvery < 1) {
            throw new IllegalArgumentException("refreshEvery: must be >= 1, got " + refreshEvery);
        }
        // names the field that is wrong (r, alpha, dropout, targetModules, learningRate, weightDecay, warmupRatio)
        new AlignmentLora(loraR, loraAlpha, loraDropout, loraModules, learningRate, weightDecay, warmupRatio);
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

    public VaccineSettings withFlow(AlignFlow f) {
        return new VaccineSettings(rho, perturbation, refreshEvery, f, loraR, loraAlpha, loraDropout, loraModules, learningRate,
                weightDecay, warmupRatio);
    }

    /** The LORA flow's alignment adapter and optimiser. */
    public AlignmentLora alignmentLora() {
        return new AlignmentLora(loraR, loraAlpha, loraDropout, loraModules, learningRate, weightDecay, warmupRatio);
    }

    /** The LORA flow's alignment adapter, every layer. */
    public LoraConfig lora() {
        return alignmentLora().lora();
    }

    /** The flow a run takes: this one, else the story's ({@code story}: FULL on the micro-world, LORA on real data). */
    public AlignFlow flow(AlignFlow story) {
        return flow != null ? flow : story;
    }

    /**
     * The optimiser of a run in {@code flow}: FULL keeps the story's ({@code story}); LORA takes the
     * reference's AdamW (learning rate, weight decay, cosine with warm-up) and the story's steps, batch and seed.
     */
    public TrainConfig training(AlignFlow flow, TrainConfig story) {
        return alignmentLora().training(flow, story);
    }
}
