package io.safetune.salora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import com.fasterxml.jackson.databind.JsonNode;

import io.safetune.lora.Injection;
import io.safetune.lora.LoraAdapter;
import io.safetune.lora.LoraConfig;
import io.safetune.model.CausalLM;
import io.safetune.testing.Fixtures;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * The fine-tune stage's product: the trained SaLoRA model written as a plain PEFT LoRA on the aligned
 * weights (B′ = [C·B, −C·B₀], A′ = [A; A₀]) gives the trained model's logits; bad settings and data get
 * errors naming the field.
 */
class SaLoraExportTest {

    @TempDir
    Path tmp;

    @Test
    void theAdapterOnTheAlignedModelGivesTheTrainedModelsLogits() throws Exception {
        JsonNode e = SaLoraFixtureTest.expected();
        LoraConfig lora = SaLoraFixtureTest.lora(e);
        for (SaLoraSettings s : List.of(SaLoraSettings.defaults().withRanks(8, 8),
                new SaLoraSettings(8, 8, null, null, null, null, null, SaLoraSettings.Module.RANDOM, null, null),
                new SaLoraSettings(8, 8, null, null, null, null, null, null, SaLoraSettings.Init.PLAIN, null))) {
            Path dir = tmp.resolve(s.module() + "-" + s.init());
            float[] trained;
            long[] ids = new long[24];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = 3 + (i * 7) % 100;
            }
            try (CausalLM model = CausalLM.load(Fixtures.get("llama-tiny"))) {
                List<SaLora.WeightInit> inits = SaLora.initialise(model, lora, s,
                        SaLoraFixtureTest.sequences(e, "safety"),
                        SaLoraFixtureTest.sequences(e, "task"), 0);
                try (Injection<SaLoraLayer> adapter = SaLora.attach(model, lora, inits); NDManager m = model.manager().newSubManager()) {
                    Random rng = new Random(5); // "trained" A and B
                    for (SaLoraLayer l : adapter.layers().values()) {
                        for (NDArray p : List.of(l.a(), l.b())) {
                            float[] v = p.toFloatArray();
                            for (int i = 0; i < v.length; i++) {
                                v[i] += (float) (0.05 * rng.nextGaussian());
                            }
                            p.set(FloatBuffer.wrap(v));
                        }
                    }
                    trained = model.forward(m.create(ids, new Shape(2, 12))).logits().toFloatArray();
                    SaLoraDefence.writeOnAligned(adapter, inits, lora, "llama-tiny", dir);
                }
            }
            try (CausalLM aligned = CausalLM.load(Fixtures.get("llama-tiny")); LoraAdapter a = LoraAdapter.load(aligned, dir);
                    NDManager m = aligned.manager().newSubManager()) {
                assertEquals(s.init() == SaLoraSettings.Init.TASK ? 8 : 4, a.config().r(), "rank 2r with the initialisation, r without");
                float[] got = aligned.forward(m.create(ids, new Shape(2, 12))).logits().toFloatArray();
                double worst = 0;
                for (int i = 0; i < got.length; i++) {
                    worst = Math.max(worst, Math.abs(got[i] - trained[i]));
                }
                assertTrue(worst < 1e-5, s + ": max |Δlogit| " + worst);
            }
        }
    }

    /**
     * Both exports of a trained SaLoRA: (a) merged, (b) the rank-r adapter with B folded to C·B on its own
     * residual base; each reloads to the trained model's logits, and (b)'s adapter refuses the aligned base.
     */
    @Test
    void exportsMergedAndOnTheResidualBaseRoundTripAndTheAdapterRefusesAnotherBase() throws Exception {
        JsonNode e = SaLoraFixtureTest.expected();
        LoraConfig lora = SaLoraFixtureTest.lora(e);
        SaLoraSettings s = SaLoraSettings.defaults().withRanks(8, 8);
        Path stage = tmp.resolve("stage");
        long[] ids = new long[24];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = 3 + (i * 5) % 100;
        }
        float[] trained;
        try (CausalLM model = CausalLM.load(Fixtures.get("llama-tiny"))) {
            List<SaLora.WeightInit> inits = SaLora.initialise(model, lora, s,
                    SaLoraFixtureTest.sequences(e, "safety"),
                    SaLoraFixtureTest.sequences(e, "task"), 0);
            try (Injection<SaLoraLayer> adapter = SaLora.attach(model, lora, inits); NDManager m = model.manager().newSubManager()) {
                Random rng = new Random(11);
                for (SaLoraLayer l : adapter.layers().values()) {
                    float[] v = l.b().toFloatArray();
                    for (int i = 0; i < v.length; i++) {
                        v[i] += (float) (0.05 * rng.nextGaussian());
                    }
                    l.b().set(FloatBuffer.wrap(v));
                }
                trained = model.forward(m.create(ids, new Shape(2, 12))).logits().toFloatArray();
                java.nio.file.Files.createDirectories(stage);
                SaLoraDefence.writeOnAligned(adapter, inits, lora, "llama-tiny", stage);
                io.safetune.method.Json.write(stage.resolve(SaLoraDefence.REPORT), new SaLoraDefence.Report(s, 4, true, 8, 8, List.of()));
            }
        }
        Path merged = tmp.resolve("merged");
        SaLoraExport.merged(Fixtures.get("llama-tiny"), stage, merged);
        try (CausalLM m = CausalLM.load(merged); NDManager n = m.manager().newSubManager()) {
            assertTrue(maxDiff(trained, m.forward(n.create(ids, new Shape(2, 12))).logits().toFloatArray()) < 1e-5, "merged");
        }
        Path adapterOut = tmp.resolve("adapter");
        Path base = tmp.resolve("residual-base");
        SaLoraExport.onResidualBase(Fixtures.get("llama-tiny"), stage, adapterOut, base);
        try (CausalLM m = CausalLM.load(base); LoraAdapter a = LoraAdapter.load(m, adapterOut); NDManager n = m.manager().newSubManager()) {
            assertEquals(4, a.config().r(), "SaLoRA's own rank r, B folded to C·B");
            assertTrue(maxDiff(trained, m.forward(n.create(ids, new Shape(2, 12))).logits().toFloatArray()) < 1e-5, "on W′");
        }
        try (CausalLM aligned = CausalLM.load(Fixtures.get("llama-tiny"))) {
            var error = assertThrows(io.safetune.checkpoint.CheckpointException.class, () -> LoraAdapter.load(aligned, adapterOut));
            assertTrue(error.getMessage().contains("base_fingerprint.json") && error.getMessage().contains(base.toString()),
                    error.getMessage());
            assertEquals(0, aligned.trainableParameters().size(), "nothing was attached");
        }
    }

    private static double maxDiff(float[] a, float[] b) {
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        return worst;
    }

    @Test
    void badSettingsAndDataNameTheField() throws Exception {
        JsonNode e = SaLoraFixtureTest.expected();
        LoraConfig lora = SaLoraFixtureTest.lora(e);
        var safety = SaLoraFixtureTest.sequences(e, "safety");
        var task = SaLoraFixtureTest.sequences(e, "task");
        try (CausalLM model = CausalLM.load(Fixtures.get("llama-tiny"))) {
            IllegalArgumentException big = assertThrows(IllegalArgumentException.class,
                    () -> SaLora.initialise(model, lora, SaLoraSettings.defaults().withRanks(64, 8), safety, task, 0));
            assertTrue(big.getMessage().startsWith("rankSafety: r_s = 64 must be below d_out = 64"), big.getMessage());
            IllegalArgumentException few = assertThrows(IllegalArgumentException.class,
                    () -> SaLora.initialise(model, lora, SaLoraSettings.defaults().withRanks(60, 8), safety, task, 0));
            assertTrue(few.getMessage().startsWith("rankSafety: 60 directions need at least 60 response tokens"), few.getMessage());
            var noResponse = List.of(new Features.Sequence(new int[] {3, 4, 5}, new boolean[3]));
            IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                    () -> SaLora.initialise(model, lora, SaLoraSettings.defaults().withRanks(8, 8), noResponse, task, 0));
            assertTrue(none.getMessage().startsWith("safety set: no response tokens"), none.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new SaLoraSettings(-1, null, null, null, null, null, null, null, null, null));
    }

    @Test
    void theRandomizedSvdFindsTheExactSubspaceThroughProductsOnly() throws Exception {
        JsonNode e = SaLoraFixtureTest.expected();
        LoraConfig lora = SaLoraFixtureTest.lora(e);
        var safety = SaLoraFixtureTest.sequences(e, "safety");
        var task = SaLoraFixtureTest.sequences(e, "task");
        try (CausalLM model = CausalLM.load(Fixtures.get("llama-tiny"))) {
            var exact = SaLora.initialise(model, lora, SaLoraSettings.defaults().withRanks(8, 8), safety, task, 0);
            // on this tiny random model 4 power iterations (the default) come within about 1e-4 of the exact projector, 12 within 1e-6
            var fast = SaLora.initialise(model, lora, SaLoraSettings.defaults().withRanks(8, 8)
                    .withSvd(SaLoraSettings.Svd.RANDOMIZED), safety, task, 0);
            var randomized = SaLora.initialise(model, lora, new SaLoraSettings(8, 8, null, null, SaLoraSettings.Svd.RANDOMIZED,
                    null, 12, null, null, null), safety, task, 0);
            for (int w = 0; w < exact.size(); w++) {
                double[] p = exact.get(w).safetyProjector();
                assertTrue(maxDiff(p, fast.get(w).safetyProjector()) < 1e-3, exact.get(w).module() + " (4 iterations): "
                        + maxDiff(p, fast.get(w).safetyProjector()));
                assertTrue(maxDiff(p, randomized.get(w).safetyProjector()) < 1e-6, exact.get(w).module() + " (12 iterations): "
                        + maxDiff(p, randomized.get(w).safetyProjector()));
            }
        }
    }

    @Test
    void float32ProductsInLibtorchAgreeWithTheJavaDoubles() throws Exception {
        JsonNode e = SaLoraFixtureTest.expected();
        LoraConfig lora = SaLoraFixtureTest.lora(e);
        var safety = SaLoraFixtureTest.sequences(e, "safety");
        var task = SaLoraFixtureTest.sequences(e, "task");
        try (CausalLM model = CausalLM.load(Fixtures.get("llama-tiny"))) {
            for (SaLoraSettings.Svd svd : SaLoraSettings.Svd.values()) {
                SaLoraSettings s = new SaLoraSettings(8, 8, null, null, svd, null, 12, null, null, null);
                var fp64 = SaLora.initialise(model, lora, s, safety, task, 0);
                var fp32 = SaLora.initialise(model, lora, s.withPrecision(SaLoraSettings.Precision.FP32), safety, task, 0);
                for (int w = 0; w < fp64.size(); w++) {
                    assertEquals(SaLoraSettings.Precision.FP32, fp32.get(w).precision());
                    double projector = maxDiff(fp64.get(w).safetyProjector(), fp32.get(w).safetyProjector());
                    double init = maxDiff(fp64.get(w).b0a0(), fp32.get(w).b0a0());
                    // float32 products carry ~1e-7 relative error; the subspaces agree to about that
                    assertTrue(projector < 1e-4 && projector > 0, svd + " " + fp64.get(w).module() + " projector: " + projector);
                    assertTrue(init < 1e-4, svd + " " + fp64.get(w).module() + " B0A0: " + init);
                    float[] wt = model.weights().get(fp64.get(w).module().path() + ".weight").toFloatArray();
                    float[] r64 = fp64.get(w).residual(wt);
                    float[] r32 = fp32.get(w).residual(wt);
                    for (int j = 0; j < r64.length; j++) {
                        assertEquals(r64[j], r32[j], 1e-4, "W' of " + fp64.get(w).module());
                    }
                }
            }
        }
    }

    @Test
    void theDefaultPrecisionIsLeftOutOfTheSettingsJsonSoOldStageKeysHold() throws Exception {
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        assertFalse(json.writeValueAsString(SaLoraSettings.defaults()).contains("precision"));
        assertTrue(json.writeValueAsString(SaLoraSettings.defaults().withPrecision(SaLoraSettings.Precision.FP32))
                .contains("\"precision\":\"FP32\""));
    }

    private static double maxDiff(double[] a, double[] b) {
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        return worst;
    }
}
