package io.safetune.safelora;

import ai.djl.ndarray.NDArray;

import io.safetune.checkpoint.TensorStore;
import io.safetune.lora.LoraAdapter;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;

/**
 * Safe LoRA as the last step of a training run: the trained adapter is kept as it was trained
 * ({@code outDir/before-safelora/}), the projected one becomes the run's output ({@code outDir}, with
 * safelora.json and safelora.csv), and the live adapter in memory is updated to the projected B's, so
 * the model a notebook goes on evaluating is the one written.
 */
public final class SafeLoraTraining {

    /** Where the adapter as trained is kept, under the output folder. */
    public static final String BEFORE = "before-safelora";

    private SafeLoraTraining() {
    }

    /**
     * @param adapter the trained adapter (attached, not merged) on the aligned model
     * @param base    the unaligned base checkpoint
     * @param aligned the aligned checkpoint the adapter was trained on
     */
    public static SafeLoraResult projectTrained(LoraAdapter adapter, Path base, Path aligned, SafeLoraConfig cfg, Path outDir) {
        if (adapter.layers().values().stream().anyMatch(l -> l.merged())) {
            throw new IllegalStateException("adapter: merged into the model; unmerge it before Safe LoRA");
        }
        Path before = outDir.resolve(BEFORE);
        adapter.save(before);
        SafeLoraResult result = SafeLora.apply(base, aligned, before, cfg, outDir);
        Map<String, NDArray> live = adapter.tensors();
        try (TensorStore projected = TensorStore.open(outDir.resolve(SafeLora.ADAPTER_WEIGHTS))) {
            for (String weight : result.projectedWeights()) {
                String keyB = "base_model.model." + weight.substring(0, weight.length() - ".weight".length()) + ".lora_B.weight";
                NDArray b = live.get(keyB);
                if (b == null) {
                    throw new IllegalStateException("adapter: no live tensor " + keyB + " (was the adapter closed?)");
                }
                b.set(FloatBuffer.wrap(projected.readFloats(keyB)));
            }
        }
        return result;
    }
}
