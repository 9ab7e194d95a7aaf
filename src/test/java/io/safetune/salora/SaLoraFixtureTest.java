package io.safetune.salora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.safetune.lora.Injection;
import io.safetune.lora.LoraConfig;
import io.safetune.model.CausalLM;
import io.safetune.testing.Fixtures;
import io.safetune.train.MaskedCrossEntropy;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * SaLoRA against ../shared/fixtures/llama-tiny-salora (PyTorch, the reference's formulas, fp64 SVDs):
 * the projectors V_s V_sᵀ, B₀A₀ and W′ per weight to 1e-6; the model at initialisation gives the base
 * logits; with the file's A and B, logits, loss and the gradients of A and B to 1e-4.
 */
class SaLoraFixtureTest {

    private static final double EXACT = 1e-6;
    private static final double FORWARD = 1e-4;

    static JsonNode expected() throws IOException {
        return new ObjectMapper().readTree(Fixtures.get("llama-tiny-salora").resolve("salora-expected.json").toFile());
    }

    static List<Features.Sequence> sequences(JsonNode ids, JsonNode mask) {
        List<Features.Sequence> out = new ArrayList<>();
        for (int i = 0; i < ids.size(); i++) {
            int[] x = new int[ids.get(i).size()];
            boolean[] m = new boolean[x.length];
            for (int t = 0; t < x.length; t++) {
                x[t] = ids.get(i).get(t).asInt();
                m[t] = mask.get(i).get(t).asInt() == 1;
            }
            out.add(new Features.Sequence(x, m));
        }
        return out;
    }

    static LoraConfig lora(JsonNode e) {
        List<String> targets = new ArrayList<>();
        e.get("targets").forEach(t -> targets.add(t.asText()));
        return new LoraConfig(e.get("r").asInt(), e.get("lora_alpha").asDouble(), 0, targets, List.of(), false);
    }

    @Test
    void projectorsInitialisationAndResidualMatchTheReference() throws Exception {
        JsonNode e = expected();
        SaLoraSettings s = SaLoraSettings.defaults().withRanks(e.get("rank_safety").asInt(), e.get("rank_task").asInt());
        try (CausalLM model = CausalLM.load(Fixtures.get("llama-tiny"))) {
            List<SaLora.WeightInit> inits = SaLora.initialise(model, lora(e), s,
                    sequences(e.get("safety_input_ids"), e.get("safety_response_mask")),
                    sequences(e.get("task_input_ids"), e.get("task_response_mask")), 0);
            assertEquals(e.get("weights").size(), inits.size());
            for (JsonNode w : e.get("weights")) {
                SaLora.WeightInit in = inits.stream().filter(i -> (i.module().path() + ".weight").equals(w.get("weight").asText()))
                        .findFirst().orElseThrow();
                String name = w.get("weight").asText();
                assertClose(flat(w.get("safety_projector")), in.safetyProjector(), EXACT, name + " V_s V_sᵀ");
                assertClose(flat(w.get("B0A0")), in.b0a0(), EXACT, name + " B₀A₀");
                assertClose(flat(w.get("residual_weight")), in.residual(), EXACT, name + " W′");
                assertClose(flat(w.get("safety_singular_values")), in.safetySingular(), EXACT * maxAbs(in.safetySingular()),
                        name + " σ(X_s Wᵀ)");
                assertClose(flat(w.get("task_singular_values")), in.taskSingular(), EXACT * maxAbs(in.taskSingular()),
                        name + " σ(X_t Wᵀ)");
                assertClose(flat(w.get("weight_singular_values")), in.weightSingular(), EXACT * maxAbs(in.weightSingular()),
                        name + " σ(W)");
            }
        }
    }

    @Test
    void forwardAtInitialisationAndWithGivenAdaptersMatchesLogitsLossAndGradients() throws Exception {
        JsonNode e = expected();
        SaLoraSettings s = SaLoraSettings.defaults().withRanks(e.get("rank_safety").asInt(), e.get("rank_task").asInt());
        LoraConfig lora = lora(e);
        try (CausalLM model = CausalLM.load(Fixtures.get("llama-tiny"))) {
            List<SaLora.WeightInit> inits = SaLora.initialise(model, lora, s,
                    sequences(e.get("safety_input_ids"), e.get("safety_response_mask")),
                    sequences(e.get("task_input_ids"), e.get("task_response_mask")), 0);
            try (Injection<SaLoraLayer> adapter = SaLora.attach(model, lora, inits); NDManager m = model.manager().newSubManager()) {
                JsonNode ids = e.get("eval_input_ids");
                int b = ids.size();
                int t = ids.get(0).size();
                long[] flatIds = new long[b * t];
                for (int i = 0; i < b; i++) {
                    for (int j = 0; j < t; j++) {
                        flatIds[i * t + j] = ids.get(i).get(j).asLong();
                    }
                }
                NDArray input = m.create(flatIds, new Shape(b, t));
                assertClose(flat(e.get("base_logits")), toDoubles(model.forward(input).logits().toFloatArray()), FORWARD,
                        "logits at initialisation = the base model's");

                for (JsonNode w : e.get("weights")) {
                    SaLoraLayer layer = adapter.layers().get(w.get("weight").asText().replace(".weight", ""));
                    layer.a().set(FloatBuffer.wrap(SaLora.toFloats(flat(w.get("test_A")))));
                    layer.b().set(FloatBuffer.wrap(SaLora.toFloats(flat(w.get("test_B")))));
                }
                // the causal-LM loss on eval_labels, shifted as transformers does, mean over labelled tokens
                JsonNode labels = e.get("eval_labels");
                long[] shifted = new long[b * (t - 1)];
                float[] weights = new float[b * (t - 1)];
                int counted = 0;
                for (int i = 0; i < b; i++) {
                    for (int j = 1; j < t; j++) {
                        long l = labels.get(i).get(j).asLong();
                        shifted[i * (t - 1) + j - 1] = l < 0 ? 0 : l;
                        weights[i * (t - 1) + j - 1] = l < 0 ? 0 : 1;
                        counted += l < 0 ? 0 : 1;
                    }
                }
                for (int i = 0; i < weights.length; i++) {
                    weights[i] /= counted;
                }
                NDArray lab = m.create(shifted, new Shape(b, t - 1));
                NDArray wts = m.create(weights, new Shape(b, t - 1));
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray logits = model.forward(input, null, io.safetune.model.Hooks.NONE, null, false, false).logits();
                    assertClose(flat(e.get("test_logits")), toDoubles(logits.toFloatArray()), FORWARD, "logits with the given A, B");
                    NDArray loss = MaskedCrossEntropy.loss(logits.get(":, :-1, :"), lab, wts);
                    assertEquals(e.get("test_loss").asDouble(), loss.getFloat(), FORWARD, "loss");
                    gc.backward(loss);
                }
                for (JsonNode w : e.get("weights")) {
                    SaLoraLayer layer = adapter.layers().get(w.get("weight").asText().replace(".weight", ""));
                    assertClose(flat(w.get("test_grad_A")), toDoubles(layer.a().getGradient().toFloatArray()), FORWARD,
                            w.get("weight").asText() + " ∂L/∂A");
                    assertClose(flat(w.get("test_grad_B")), toDoubles(layer.b().getGradient().toFloatArray()), FORWARD,
                            w.get("weight").asText() + " ∂L/∂B");
                }
            }
        }
    }

    static double[] flat(JsonNode n) {
        List<Double> out = new ArrayList<>();
        walk(n, out);
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static void walk(JsonNode n, List<Double> out) {
        if (n.isArray()) {
            n.forEach(c -> walk(c, out));
        } else {
            out.add(n.asDouble());
        }
    }

    static double[] toDoubles(float[] x) {
        return SaLora.toDoubles(x);
    }

    static double maxAbs(double[] x) {
        double m = 0;
        for (double v : x) {
            m = Math.max(m, Math.abs(v));
        }
        return Math.max(m, 1);
    }

    /** Absolute tolerance, relative where values are large (the fixture README's rule). */
    static void assertClose(double[] expected, double[] got, double tol, String what) {
        assertEquals(expected.length, got.length, what + ": length");
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs(expected[i] - got[i]) / Math.max(1, Math.abs(expected[i]));
            worst = Math.max(worst, d);
        }
        assertTrue(worst <= tol, what + ": max difference " + worst + " > " + tol);
    }
}
