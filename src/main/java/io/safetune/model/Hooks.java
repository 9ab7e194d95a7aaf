package io.safetune.model;

import ai.djl.ndarray.NDArray;

import java.util.HashMap;
import java.util.Map;

/**
 * What a forward pass records or changes on its way, for the safety methods:
 * <ul>
 *   <li>capture each layer's attention output e_l (after o_proj, before the residual add) — HED,
 *       Vaccine;</li>
 *   <li>add a tensor ε_l to e_l — Vaccine's perturbation. Pass leaves with requiresGradient and their
 *       gradients are ∂L/∂e_l, which is how Vaccine's first pass reads them;</li>
 *   <li>capture the input of a linear layer at chosen token positions — SaLoRA's safety features.</li>
 * </ul>
 * A Hooks object describes one forward pass; results come back in {@link ModelOutput}.
 */
public final class Hooks {

    /** Records nothing, changes nothing. */
    public static final Hooks NONE = new Hooks();

    private boolean attentionOutputs;
    private NDArray[] attentionDeltas;
    private final Map<String, NDArray> linearInputs = new HashMap<>();

    /** Record every layer's attention output [B, T, d]. */
    public Hooks captureAttentionOutputs() {
        checkMutable();
        attentionOutputs = true;
        return this;
    }

    /**
     * Add {@code deltas[l]} ([B, T, d], broadcastable) to layer l's attention output; a null entry
     * leaves that layer alone.
     */
    public Hooks perturbAttentionOutputs(NDArray... deltas) {
        checkMutable();
        attentionDeltas = deltas.clone();
        return this;
    }

    /**
     * Record the input of {@code module} (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj,
     * down_proj) of {@code layer} at the positions where {@code positions} ([B, T] boolean) is true,
     * as rows [N, d_in]; a null mask records every position as [B, T, d_in].
     */
    public Hooks captureLinearInput(int layer, String module, NDArray positions) {
        checkMutable();
        if (!ModuleName.Linear.hfNames().contains(module)) {
            throw new IllegalArgumentException("module: unknown '" + module + "' (known: " + ModuleName.Linear.hfNames() + ")");
        }
        linearInputs.put(key(layer, module), positions);
        return this;
    }

    static String key(int layer, String module) {
        return layer + "." + module;
    }

    private void checkMutable() {
        if (this == NONE) {
            throw new IllegalStateException("Hooks.NONE is shared; create new Hooks()");
        }
    }

    boolean capturesAttention() {
        return attentionOutputs;
    }

    NDArray attentionDelta(int layer) {
        return attentionDeltas == null || layer >= attentionDeltas.length ? null : attentionDeltas[layer];
    }

    boolean capturesLinearInputs() {
        return !linearInputs.isEmpty();
    }

    /** Records x if asked for (layer, module). */
    void linearInput(int layer, String module, NDArray x, Map<String, NDArray> out) {
        String k = key(layer, module);
        if (!linearInputs.containsKey(k)) {
            return;
        }
        NDArray mask = linearInputs.get(k);
        if (mask == null) {
            out.put(k, x);
            return;
        }
        long d = x.getShape().get(x.getShape().dimension() - 1);
        // [B, T, d] → [B·T, d], then keep the rows whose position is selected
        NDArray rows = x.reshape(-1, d);
        NDArray keep = mask.reshape(-1, 1).broadcast(rows.getShape()); // DJL masks need equal shapes
        out.put(k, rows.booleanMask(keep).reshape(-1, d));
    }
}
