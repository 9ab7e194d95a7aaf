package io.safetune.lora;

import io.safetune.checkpoint.CheckpointException;
import io.safetune.checkpoint.TensorInfo;
import io.safetune.checkpoint.TensorStore;
import io.safetune.model.CausalLM;
import io.safetune.model.Projection;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Reads and checks a PEFT adapter folder against a model without touching the model: the config,
 * every key (no unknown, missing or left-over tensor, no module the model lacks), every shape and
 * dtype, and every value (finite). Only when all of it passes does {@link LoraAdapter} attach anything,
 * so a bad adapter can never leave a model half-adapted.
 */
final class AdapterCheck {

    /** A checked adapter: its config and A/B values by PEFT key, in attach order. */
    record Checked(PeftFormat.Parsed parsed, Map<String, float[]> values) {
    }

    private AdapterCheck() {
    }

    static Checked read(CausalLM model, Path dir) {
        PeftFormat.Parsed parsed = PeftFormat.readConfig(dir);
        BaseFingerprint.check(model, dir); // an adapter tied to one base (SaLoRA's residual) refuses any other
        LoraConfig config = parsed.config();
        for (int l : config.layers()) {
            if (l >= model.numLayers()) {
                throw new CheckpointException(dir.resolve(PeftFormat.CONFIG), "layers_to_transform", "layer " + l
                        + " but the model (" + model.config().modelType() + ") has " + model.numLayers() + " layers");
            }
        }
        Path weights = dir.resolve(PeftFormat.WEIGHTS);
        try (TensorStore store = TensorStore.open(weights)) {
            for (String name : store.names()) {
                String[] k = PeftFormat.parseKey(name);
                if (k == null) {
                    throw new CheckpointException(weights, name, "not a LoRA weight of a Linear layer (lora_A/lora_B) — unsupported");
                }
                checkModule(model, k[0], weights, name);
            }
            Map<String, float[]> values = new LinkedHashMap<>();
            Set<String> expected = new LinkedHashSet<>();
            for (Projection target : targets(model, config)) {
                String ka = PeftFormat.key(target.name(), 'A');
                String kb = PeftFormat.key(target.name(), 'B');
                expected.add(ka);
                expected.add(kb);
                for (String key : new String[] {ka, kb}) {
                    if (!store.contains(key)) {
                        throw new CheckpointException(weights, key, "missing tensor (adapter_config.json targets "
                                + target.name() + ")");
                    }
                }
                check(store.info(ka), new long[] {config.r(), target.inFeatures()}, weights);
                check(store.info(kb), new long[] {target.outFeatures(), config.r()}, weights);
            }
            for (String name : store.names()) {
                if (!expected.contains(name)) {
                    throw new CheckpointException(weights, name, "tensor for a module that adapter_config.json does not target");
                }
            }
            // values last: only a folder whose layout is right is worth reading
            for (String key : expected) {
                float[] v = store.readFloats(key);
                for (int i = 0; i < v.length; i++) {
                    if (!Float.isFinite(v[i])) {
                        throw new CheckpointException(weights, key, "non-finite value " + v[i] + " at flat index " + i);
                    }
                }
                values.put(key, v);
            }
            return new Checked(parsed, values);
        }
    }

    /** The model's projections {@code config} adapts, in layer order then module order. */
    static java.util.List<Projection> targets(CausalLM model, LoraConfig config) {
        return Injection.targets(model, config.targetModules(), config::targetsLayer);
    }

    private static void checkModule(CausalLM model, String module, Path file, String key) {
        String[] parts = module.split("\\.");
        boolean ok = parts.length == 5 && parts[0].equals("model") && parts[1].equals("layers")
                && parts[4].matches("[qkvo]_proj|gate_proj|up_proj|down_proj")
                && parts[3].equals(parts[4].matches("[qkvo]_proj") ? "self_attn" : "mlp");
        int layer = -1;
        if (ok) {
            try {
                layer = Integer.parseInt(parts[2]);
            } catch (NumberFormatException e) {
                ok = false;
            }
        }
        if (!ok || layer < 0 || layer >= model.numLayers()) {
            throw new CheckpointException(file, key, "targets module '" + module + "', which the model ("
                    + model.config().modelType() + ", " + model.numLayers() + " layers) does not have");
        }
    }

    /** Float (F32/F16/BF16/F64, widened to float32 on read) and the shape the base model needs. */
    private static void check(TensorInfo t, long[] expected, Path file) {
        if (!t.dtype().isFloat()) {
            throw new CheckpointException(file, t.name(), "dtype " + t.dtype()
                    + " is not a float type (LoRA weights are F32, F16, BF16 or F64)");
        }
        if (!Arrays.equals(t.shape(), expected)) {
            throw new CheckpointException(file, t.name(), "shape " + Arrays.toString(t.shape())
                    + " does not fit the base model, which needs " + Arrays.toString(expected)
                    + " (was the adapter trained on another model?)");
        }
    }
}
