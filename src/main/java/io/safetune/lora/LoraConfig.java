package io.safetune.lora;

import java.util.List;

/**
 * A LoRA adapter's hyper-parameters (Hu et al. 2021), as PEFT names them.
 *
 * @param r             rank of A (r × d_in) and B (d_out × r)
 * @param alpha         lora_alpha; the update is scaled by alpha / r (or alpha / √r with rsLoRA)
 * @param dropout       dropout on the adapter's input while training
 * @param targetModules linear modules to adapt (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj)
 * @param layers        decoder layers to adapt; empty = all (PEFT's layers_to_transform)
 * @param useRslora     rank-stabilised scaling alpha / √r (Kalajdzievski 2023)
 */
public record LoraConfig(int r, double alpha, double dropout, List<String> targetModules, List<Integer> layers,
        boolean useRslora) {

    static final java.util.List<String> MODULES = io.safetune.model.ModuleName.Linear.hfNames();

    public LoraConfig {
        if (r <= 0) {
            throw new IllegalArgumentException("r: must be > 0, got " + r);
        }
        if (!(alpha > 0)) {
            throw new IllegalArgumentException("alpha: must be > 0, got " + alpha);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("dropout: must be in [0, 1), got " + dropout);
        }
        if (targetModules == null || targetModules.isEmpty()) {
            throw new IllegalArgumentException("targetModules: at least one module is needed");
        }
        for (String m : targetModules) {
            if (!MODULES.contains(m)) {
                throw new IllegalArgumentException("targetModules: unknown module '" + m + "' (known: " + MODULES + ")");
            }
        }
        targetModules = List.copyOf(targetModules);
        layers = layers == null ? List.of() : List.copyOf(layers);
        for (int l : layers) {
            if (l < 0) {
                throw new IllegalArgumentException("layers: negative layer index " + l);
            }
        }
    }

    /** r = 8, alpha = 16, dropout 0.05 on q_proj and v_proj of every layer: the common default. */
    public static LoraConfig qv(int r, double alpha) {
        return new LoraConfig(r, alpha, 0.05, List.of("q_proj", "v_proj"), List.of(), false);
    }

    public LoraConfig withDropout(double p) {
        return new LoraConfig(r, alpha, p, targetModules, layers, useRslora);
    }

    public LoraConfig withLayers(List<Integer> only) {
        return new LoraConfig(r, alpha, dropout, targetModules, only, useRslora);
    }

    public LoraConfig withRslora(boolean on) {
        return new LoraConfig(r, alpha, dropout, targetModules, layers, on);
    }

    /** s in W + s·B·A. */
    public double scaling() {
        return useRslora ? alpha / Math.sqrt(r) : alpha / r;
    }

    public boolean targetsLayer(int layer) {
        return layers.isEmpty() || layers.contains(layer);
    }

    /**
     * The settings a training checkpoint records and a resume must not change, by stable key
     * (see {@code TrainableModel.trainingSettings}). Targets are sorted: their order changes nothing.
     */
    public java.util.Map<String, String> trainingSettings() {
        java.util.Map<String, String> s = new java.util.TreeMap<>();
        s.put(io.safetune.model.CausalLM.TRAINING, "lora");
        s.put("lora.r", Integer.toString(r));
        s.put("lora.alpha", Double.toString(alpha));
        s.put("lora.dropout", Double.toString(dropout));
        s.put("lora.target_modules", new java.util.TreeSet<>(targetModules).toString());
        s.put("lora.layers", layers.isEmpty() ? "all" : new java.util.TreeSet<>(layers).toString());
        s.put("lora.use_rslora", Boolean.toString(useRslora));
        return s;
    }
}
