package io.safetune.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.safetune.lora.LoraAdapter;
import io.safetune.lora.LoraConfig;
import io.safetune.testing.Fixtures;
import io.safetune.train.CollatedBatch;
import io.safetune.train.Collator;
import io.safetune.train.GradientStabilityCheck;
import io.safetune.data.TrainingExample;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * djl-notes.md pitfall 1 on the real decoder: 300 forward+backward passes of CausalLM with LoRA on
 * every linear module (dropout on, GQA and q/k/v bias from qwen2-tiny), a forced GC between forward
 * and backward each time, and gradients bit-identical to the first pass.
 */
class ModelGradientStabilityTest {

    @Test
    void loraGradientsAreBitIdenticalAcrossGarbageCollections() {
        Random rng = new Random(5);
        List<TrainingExample> examples = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            int[] prompt = rng.ints(6 + i, 0, 128).toArray();
            int[] response = rng.ints(8, 0, 128).toArray();
            examples.add(new TrainingExample(prompt, response));
        }
        CollatedBatch host = new Collator(32).collate(examples); // right padding: exercises the mask
        float weight = 1f / host.responseTokens();
        LoraConfig cfg = new LoraConfig(4, 8, 0.1, CausalLM.linearModules(), List.of(), false);
        try (CausalLM model = CausalLM.load(Fixtures.get("qwen2-tiny"));
                LoraAdapter adapter = LoraAdapter.inject(model, cfg, 3)) {
            // non-zero B, so that gradients reach A as well
            adapter.layers().values().forEach(l -> l.b().addi(l.b().getManager().randomNormal(l.b().getShape())));
            GradientStabilityCheck.Report r = GradientStabilityCheck.run(model, m -> host.upload(m, weight), 300, true);
            assertEquals(300, r.passes());
            assertTrue(r.stable(), "gradients changed under GC: " + r);
        }
    }
}
