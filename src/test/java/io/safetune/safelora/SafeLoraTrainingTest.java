package io.safetune.safelora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.safetune.checkpoint.TensorStore;
import io.safetune.lora.LoraAdapter;
import io.safetune.model.CausalLM;
import io.safetune.testing.Fixtures;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

/** Safe LoRA at the end of training: the adapter as trained is kept, the output and the live model are projected. */
class SafeLoraTrainingTest {

    @TempDir
    Path tmp;

    @Test
    void writesBothAdaptersAndProjectsTheLiveOne() {
        Path base = Fixtures.get("llama-tiny");
        Path aligned = Fixtures.get("llama-tiny-aligned");
        Path out = tmp.resolve("out");
        try (CausalLM model = CausalLM.load(aligned); LoraAdapter adapter = LoraAdapter.load(model, Fixtures.get("llama-tiny-lora"))) {
            SafeLoraResult r = SafeLoraTraining.projectTrained(adapter, base, aligned, SafeLoraConfig.number(2), out);
            assertEquals(2, r.numProjected());
            SafeLoraResult direct = SafeLora.analyze(base, aligned, Fixtures.get("llama-tiny-lora"), SafeLoraConfig.number(2));
            assertEquals(direct.projectedWeights(), r.projectedWeights());
            assertTrue(Files.exists(out.resolve(SafeLora.REPORT_JSON)));
            try (TensorStore trained = TensorStore.open(out.resolve(SafeLoraTraining.BEFORE).resolve(SafeLora.ADAPTER_WEIGHTS));
                    TensorStore original = TensorStore.open(Fixtures.get("llama-tiny-lora").resolve(SafeLora.ADAPTER_WEIGHTS));
                    TensorStore projected = TensorStore.open(out.resolve(SafeLora.ADAPTER_WEIGHTS))) {
                int changed = 0;
                for (String key : original.names()) {
                    assertArrayEquals(original.readFloats(key), trained.readFloats(key), 0f, "as trained: " + key);
                    float[] live = adapter.tensors().get(key).toFloatArray();
                    assertArrayEquals(projected.readFloats(key), live, 0f, "live = written: " + key);
                    changed += java.util.Arrays.equals(original.readFloats(key), live) ? 0 : 1;
                }
                assertEquals(2, changed, "exactly the two projected B's differ");
            }
        }
    }
}
