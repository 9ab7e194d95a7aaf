package io.safetune.vaccine;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import io.safetune.engine.OneThread;
import io.safetune.model.CausalLM;
import io.safetune.model.Hooks;
import io.safetune.train.Batch;
import io.safetune.train.CollatedBatch;
import io.safetune.train.MaskedCrossEntropy;
import io.safetune.train.Seeds;
import io.safetune.train.StepContext;
import io.safetune.train.StepFunction;
import io.safetune.train.StepOutput;
import io.safetune.train.TrainableModel;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Vaccine's training step (Huang et al. 2024, Algorithm 1), as the trainer's {@link StepFunction}: the
 * trainer still clips, steps AdamW and zeroes; this only decides which gradients it steps on.
 *
 * <ol>
 *   <li>Pass 1: every micro-batch forward + backward with a zero leaf z_l [B, T, d] added to each layer's
 *       attention output e_l (after o_proj, before the residual add); z_l's gradient is g_l = ∂L/∂e_l.</li>
 *   <li>ε_l = ρ·g_l / (‖g‖ + 1e-7), ‖g‖ = sqrt(Σ_{micro-batches} Σ_l ‖g_l‖²_F): one global norm, as if the
 *       step's micro-batches were one batch (the paper's Eq. 5).</li>
 *   <li>Parameter gradients zeroed; pass 2 with e_l + ε_l in every layer; the optimiser sees pass 2 only.</li>
 * </ol>
 * Dropout is on in both passes (training mode, as the trainer runs the standard step).
 *
 * <p><b>The cheaper variant</b> (K = refreshEvery &gt; 1): steps 0, K, 2K, … run both passes; the others run
 * pass 2 alone with a reused ε. A [B, T, d] ε does not fit another batch's tokens, so what is kept is a
 * direction per layer, u_l [d] = ε_l averaged over the real (non-padding) tokens of the step it was
 * computed on. A reuse step puts u_l on every real token of its batch (zero on padding) and rescales so
 * that the norm over all layers and all real tokens is ρ again: ε_l[b, t] = ρ·u_l / sqrt(n_real·Σ_l ‖u_l‖²).
 * K = 1 never reuses, so it is Vaccine's step exactly. A run resumed at a step that is not a multiple of
 * K refreshes at once (u is not in the trainer's checkpoint).
 *
 * <p><b>The control</b> (RANDOM): one pass per step with ε = ρ·z/‖z‖, z ~ N(0, I) on every layer's real
 * tokens (zero on padding), ‖z‖ over all layers and micro-batches; drawn by libtorch from a seed that is
 * a function of (trainer seed, step) alone, so runs reproduce.
 *
 * <p>Arrays: z, g and ε live in the step's manager and die with the step; the reuse directions are kept
 * on the Java heap (L·d floats), so nothing native outlives a step.
 */
public final class VaccineStep implements StepFunction {

    /** The 1e-7 of ε = ρ·g/(‖g‖ + 1e-7) (the reference's). */
    public static final double NORM_EPS = 1e-7;
    /** Seed stream of the random control's z ("VACC"). */
    static final long RANDOM_STREAM = 0x5641_4343L;

    /** Metric keys of {@link StepOutput#metrics()}. */
    public static final String GRAD_NORM = "vaccine.gradNorm";
    public static final String TWO_PASS = "vaccine.twoPass";
    public static final String CLEAN_LOSS = "vaccine.cleanLoss";

    /**
     * One step as this function ran it.
     *
     * @param step      the optimiser step (0-based)
     * @param twoPass   whether pass 1 ran (a refresh), else ε was reused or random
     * @param gradNorm  ‖g‖ = sqrt(Σ_l ‖g_l‖²) before scaling; NaN on one-pass steps
     * @param cleanLoss pass 1's loss (unperturbed); NaN on one-pass steps
     * @param loss      the loss the optimiser stepped on (pass 2's)
     */
    public record StepStat(long step, boolean twoPass, double gradNorm, double cleanLoss, double loss) {
    }

    /**
     * What pass 1 found.
     *
     * @param loss       the step's (weighted) loss without a perturbation
     * @param g          [micro-batch][layer] ∂L/∂e_l, each [B, T, d], in the step's manager
     * @param layerNorms per layer sqrt(Σ_{micro-batches} ‖g_l‖²)
     * @param gradNorm   sqrt(Σ_l layerNorms²)
     */
    record Pass1(double loss, NDArray[][] g, double[] layerNorms, double gradNorm) {
    }

    private final double rho;
    private final VaccineSettings.Perturbation perturbation;
    private final int refreshEvery;
    private final long seed;
    private final List<StepStat> stats = new ArrayList<>();
    /** Per layer the reuse direction u_l [d] (host copy; null until the first refresh when K > 1). */
    private float[][] directions;

    /**
     * @param settings ρ, the perturbation and K (the flow is the defence's business)
     * @param seed     the trainer's seed (the random control's z depends on it and on the step)
     */
    public VaccineStep(VaccineSettings settings, long seed) {
        this.rho = settings.rho();
        this.perturbation = settings.perturbation();
        this.refreshEvery = settings.refreshEvery();
        this.seed = seed;
    }

    /** Every step run so far, in order. */
    public List<StepStat> stats() {
        return List.copyOf(stats);
    }

    @Override
    public StepOutput computeGradients(StepContext ctx) {
        CausalLM lm = decoder(ctx.model());
        long step = ctx.step();
        StepStat stat;
        if (perturbation == VaccineSettings.Perturbation.RANDOM) {
            stat = new StepStat(step, false, Double.NaN, Double.NaN, perturbedPass(ctx, lm, randomPerturbation(ctx, lm)));
        } else if (step % refreshEvery == 0 || directions == null) {
            Pass1 p1 = firstPass(ctx, lm);
            NDArray[][] eps = adversarial(ctx, p1);
            if (refreshEvery > 1) {
                keepDirections(ctx, eps);
            }
            ctx.zeroGradients(); // the optimiser steps on pass 2's gradients only
            stat = new StepStat(step, true, p1.gradNorm(), p1.loss(), perturbedPass(ctx, lm, eps));
        } else {
            stat = new StepStat(step, false, Double.NaN, Double.NaN, perturbedPass(ctx, lm, reused(ctx)));
        }
        stats.add(stat);
        return new StepOutput(stat.loss(), stat.twoPass()
                ? Map.of(TWO_PASS, 1.0, GRAD_NORM, stat.gradNorm(), CLEAN_LOSS, stat.cleanLoss())
                : Map.of(TWO_PASS, 0.0));
    }

    /** The model as a decoder whose attention outputs can be hooked, or a clear error. */
    static CausalLM decoder(TrainableModel model) {
        if (!(model instanceof CausalLM lm) || lm.numLayers() == 0) {
            throw new IllegalArgumentException("model: Vaccine perturbs every decoder layer's attention output, but the "
                    + "model being trained (" + (model == null ? "null" : model.getClass().getName())
                    + ") is not a CausalLM with decoder layers");
        }
        return lm;
    }

    /** Pass 1: forward + backward of every micro-batch with zero leaves on the attention outputs. */
    Pass1 firstPass(StepContext ctx, CausalLM lm) {
        int layers = lm.numLayers();
        long d = lm.config().hiddenSize();
        NDManager sm = ctx.manager();
        NDArray[][] g = new NDArray[ctx.microBatchCount()][layers];
        double[] sq = new double[layers];
        double loss = 0;
        for (int i = 0; i < g.length; i++) {
            CollatedBatch hb = ctx.hostBatch(i);
            NDArray[] leaves = new NDArray[layers];
            for (int l = 0; l < layers; l++) {
                leaves[l] = sm.zeros(new Shape(hb.batchSize(), hb.length(), d)); // [B, T, d], e_l + 0
                leaves[l].setRequiresGradient(true);
            }
            loss += ctx.forwardBackward(i, (m, batch) -> perturbedLoss(lm, batch, leaves));
            for (int l = 0; l < layers; l++) {
                g[i][l] = leaves[l].getGradient(); // a new handle in the step's manager
            }
            float[] parts = sumsOfSquares(g[i]);
            for (int l = 0; l < layers; l++) {
                sq[l] += parts[l];
            }
        }
        double[] norms = new double[layers];
        double total = 0;
        for (int l = 0; l < layers; l++) {
            norms[l] = Math.sqrt(sq[l]);
            total += sq[l];
        }
        return new Pass1(loss, g, norms, Math.sqrt(total));
    }

    /**
     * ‖a‖²_F of each array, in float32 as libtorch sums it, on one intra-op thread: a [B, T, d] array is
     * over libtorch's grain, and with more threads its sum would depend on how many (engine.OneThread).
     */
    static float[] sumsOfSquares(NDArray[] arrays) {
        return OneThread.compute(() -> {
            float[] out = new float[arrays.length];
            for (int k = 0; k < arrays.length; k++) {
                out[k] = arrays[k].square().sum().getFloat();
            }
            return out;
        });
    }

    /** ε_l = ρ·g_l / (‖g‖ + 1e-7) per micro-batch and layer, in the step's manager. */
    NDArray[][] adversarial(StepContext ctx, Pass1 p1) {
        return adversarial(ctx, p1, rho);
    }

    static NDArray[][] adversarial(StepContext ctx, Pass1 p1, double rho) {
        // a 0-d array, not mul(Number): no scalar over a freed Java buffer (djl-notes.md, pitfall 1)
        NDArray scale = ctx.manager().create((float) (rho / (p1.gradNorm() + NORM_EPS)));
        NDArray[][] eps = new NDArray[p1.g().length][];
        for (int i = 0; i < eps.length; i++) {
            eps[i] = new NDArray[p1.g()[i].length];
            for (int l = 0; l < eps[i].length; l++) {
                eps[i][l] = p1.g()[i][l].mul(scale);
            }
        }
        return eps;
    }

    /** A pass of every micro-batch with e_l + ε_l; returns the step's loss. */
    static double perturbedPass(StepContext ctx, CausalLM lm, NDArray[][] eps) {
        double loss = 0;
        for (int i = 0; i < ctx.microBatchCount(); i++) {
            NDArray[] e = eps[i];
            loss += ctx.forwardBackward(i, (m, batch) -> perturbedLoss(lm, batch, e));
        }
        return loss;
    }

    private static NDArray perturbedLoss(CausalLM lm, Batch batch, NDArray[] deltas) {
        NDArray logits = lm.forward(batch.inputIds(), batch.attentionMask(), new Hooks().perturbAttentionOutputs(deltas), null,
                true, false).logits();
        return MaskedCrossEntropy.loss(logits, batch.labels(), batch.lossWeights());
    }

    /** [B, T, 1] float32 1 on real tokens, 0 on padding, in the step's manager. */
    private static NDArray realTokens(StepContext ctx, int i) {
        CollatedBatch hb = ctx.hostBatch(i);
        long[] mask = hb.attentionMask();
        float[] f = new float[mask.length];
        for (int k = 0; k < f.length; k++) {
            f[k] = mask[k];
        }
        return ctx.manager().create(f, new Shape(hb.batchSize(), hb.length(), 1));
    }

    /** u_l = Σ_{real tokens} ε_l / n_real over the step's micro-batches, kept on the host ([layer][d]). */
    private void keepDirections(StepContext ctx, NDArray[][] eps) {
        int layers = eps[0].length;
        double[][] sum = null;
        long real = 0;
        for (int i = 0; i < eps.length; i++) {
            NDArray mask = realTokens(ctx, i);
            real += ctx.hostBatch(i).realTokens();
            for (int l = 0; l < layers; l++) {
                float[] s = eps[i][l].mul(mask).sum(new int[] {0, 1}).toFloatArray(); // [d]
                if (sum == null) {
                    sum = new double[layers][s.length];
                }
                for (int k = 0; k < s.length; k++) {
                    sum[l][k] += s[k];
                }
            }
        }
        directions = new float[layers][];
        for (int l = 0; l < layers; l++) {
            directions[l] = new float[sum[l].length];
            for (int k = 0; k < sum[l].length; k++) {
                directions[l][k] = real == 0 ? 0f : (float) (sum[l][k] / real);
            }
        }
    }

    /** The reuse rule: u_l on every real token, scaled to norm ρ over all layers and real tokens. */
    NDArray[][] reused(StepContext ctx) {
        long real = 0;
        for (int i = 0; i < ctx.microBatchCount(); i++) {
            real += ctx.hostBatch(i).realTokens();
        }
        double uu = 0;
        for (float[] u : directions) {
            for (float v : u) {
                uu += (double) v * v;
            }
        }
        double c = real == 0 || uu == 0 ? 0 : rho / Math.sqrt(real * uu);
        NDArray[] scaled = new NDArray[directions.length];
        for (int l = 0; l < scaled.length; l++) {
            float[] s = new float[directions[l].length];
            for (int k = 0; k < s.length; k++) {
                s[k] = (float) (directions[l][k] * c);
            }
            scaled[l] = ctx.manager().create(s, new Shape(1, 1, s.length)); // [1, 1, d]
        }
        NDArray[][] eps = new NDArray[ctx.microBatchCount()][scaled.length];
        for (int i = 0; i < eps.length; i++) {
            NDArray mask = realTokens(ctx, i);
            for (int l = 0; l < scaled.length; l++) {
                eps[i][l] = mask.mul(scaled[l]); // [B, T, 1]·[1, 1, d] → [B, T, d]
            }
        }
        return eps;
    }

    /** The control's ε = ρ·z/‖z‖ on real tokens, z drawn from a seed of (trainer seed, step). */
    NDArray[][] randomPerturbation(StepContext ctx, CausalLM lm) {
        long s = Seeds.mix(seed, RANDOM_STREAM, ctx.step());
        Engine.getInstance().setRandomSeed((int) (s ^ (s >>> 32))); // libtorch's generator and DJL's
        int layers = lm.numLayers();
        long d = lm.config().hiddenSize();
        NDArray[][] z = new NDArray[ctx.microBatchCount()][layers];
        double sq = 0;
        for (int i = 0; i < z.length; i++) {
            CollatedBatch hb = ctx.hostBatch(i);
            NDArray mask = realTokens(ctx, i);
            for (int l = 0; l < layers; l++) {
                z[i][l] = ctx.manager().randomNormal(new Shape(hb.batchSize(), hb.length(), d)).mul(mask);
            }
            for (float part : sumsOfSquares(z[i])) {
                sq += part;
            }
        }
        NDArray scale = ctx.manager().create((float) (sq == 0 ? 0 : rho / Math.sqrt(sq)));
        for (NDArray[] row : z) {
            for (int l = 0; l < layers; l++) {
                row[l] = row[l].mul(scale);
            }
        }
        return z;
    }

}
