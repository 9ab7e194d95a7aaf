package io.safetune.salora;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.safetune.checkpoint.CheckpointException;
import io.safetune.lora.Injection;
import io.safetune.lora.LoraConfig;
import io.safetune.model.CausalLM;
import io.safetune.model.Hooks;
import io.safetune.train.MaskedCrossEntropy;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks our SaLoRA on a checkpoint against a reference file in the format of
 * {@code fixtures/llama-tiny-salora/salora-expected.json} (its README): per weight V_s V_sᵀ, B₀A₀, W′ and
 * the three spectra (exact maths: fp64 SVDs), then the model at initialisation against the base logits,
 * and with the file's A and B the logits, the loss and the gradients of A and B. Compares only
 * sign-invariant quantities. {@code safetune parity --salora FILE} prints it.
 */
public final class SaLoraParity {

    private SaLoraParity() {
    }

    /**
     * The largest difference per quantity (absolute, relative where |expected| > 1).
     *
     * @param exact   quantities of the initialisation (tolerance 1e-6 in the fixture's README)
     * @param forward logits, loss and gradients (tolerance 1e-4)
     */
    public record Result(Map<String, Double> exact, Map<String, Double> forward) {
        public double worstExact() {
            return exact.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
        }

        public double worstForward() {
            return forward.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
        }
    }

    public static Result run(CausalLM model, Path file) {
        JsonNode e;
        try {
            e = new ObjectMapper().readTree(file.toFile());
        } catch (IOException ex) {
            throw new CheckpointException(file, null, "cannot read: " + ex.getMessage(), ex);
        }
        for (String field : List.of("targets", "rank_safety", "rank_task", "r", "lora_alpha", "safety_input_ids",
                "safety_response_mask", "task_input_ids", "task_response_mask", "eval_input_ids", "eval_labels", "base_logits",
                "test_logits", "test_loss", "weights")) {
            if (!e.has(field)) {
                throw new CheckpointException(file, field, "missing");
            }
        }
        List<String> targets = new ArrayList<>();
        e.get("targets").forEach(t -> targets.add(t.asText()));
        LoraConfig lora = new LoraConfig(e.get("r").asInt(), e.get("lora_alpha").asDouble(), 0, targets, List.of(), false);
        SaLoraSettings s = SaLoraSettings.defaults().withRanks(e.get("rank_safety").asInt(), e.get("rank_task").asInt());
        List<SaLora.WeightInit> inits;
        try {
            inits = SaLora.initialise(model, lora, s, sequences(file, e, "safety"), sequences(file, e, "task"), 0);
        } catch (IllegalArgumentException ex) {
            throw new CheckpointException(file, null, ex.getMessage(), ex);
        }
        Map<String, SaLora.WeightInit> byWeight = new LinkedHashMap<>();
        inits.forEach(i -> byWeight.put(i.module().path() + ".weight", i));
        Map<String, Double> exact = new LinkedHashMap<>();
        for (int w = 0; w < e.get("weights").size(); w++) {
            JsonNode x = e.get("weights").get(w);
            String name = x.path("weight").asText();
            SaLora.WeightInit in = byWeight.get(name);
            if (in == null) {
                throw new CheckpointException(file, "weights[" + w + "].weight", "'" + name + "' is not one of the targets "
                        + byWeight.keySet());
            }
            exact.merge("safety projector", diff(file, "weights[" + w + "].safety_projector", x, in.safetyProjector()), Math::max);
            exact.merge("B0A0", diff(file, "weights[" + w + "].B0A0", x, in.b0a0()), Math::max);
            float[] weight = model.weights().get(name).toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
            exact.merge("residual weight", diff(file, "weights[" + w + "].residual_weight", x, SaLora.toDoubles(in.residual(weight))), Math::max);
            exact.merge("singular values", Math.max(diff(file, "weights[" + w + "].safety_singular_values", x, in.safetySingular()),
                    Math.max(diff(file, "weights[" + w + "].task_singular_values", x, in.taskSingular()),
                            diff(file, "weights[" + w + "].weight_singular_values", x, in.weightSingular()))), Math::max);
        }
        Map<String, Double> forward = new LinkedHashMap<>();
        try (Injection<SaLoraLayer> adapter = SaLora.attach(model, lora, inits); NDManager m = model.manager().newSubManager()) {
            NDArray ids = m.create(longs(e.get("eval_input_ids")), shape(e.get("eval_input_ids")));
            forward.put("logits at init", diff(flat(e.get("base_logits")), model.forward(ids).logits().toFloatArray()));
            for (JsonNode x : e.get("weights")) {
                SaLoraLayer layer = adapter.layers().get(x.get("weight").asText().replace(".weight", ""));
                layer.a().set(FloatBuffer.wrap(SaLora.toFloats(flat(x.get("test_A")))));
                layer.b().set(FloatBuffer.wrap(SaLora.toFloats(flat(x.get("test_B")))));
            }
            long[] shape = shape(e.get("eval_labels")).getShape();
            int b = (int) shape[0];
            int t = (int) shape[1];
            long[] labels = longs(e.get("eval_labels"));
            long[] shifted = new long[b * (t - 1)];
            float[] weights = new float[b * (t - 1)];
            int counted = 0;
            for (int i = 0; i < b; i++) {
                for (int j = 1; j < t; j++) { // position j-1 predicts token j, as transformers shifts
                    long l = labels[i * t + j];
                    shifted[i * (t - 1) + j - 1] = Math.max(l, 0);
                    weights[i * (t - 1) + j - 1] = l < 0 ? 0 : 1;
                    counted += l < 0 ? 0 : 1;
                }
            }
            for (int i = 0; i < weights.length; i++) {
                weights[i] /= Math.max(counted, 1);
            }
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray logits = model.forward(ids, null, Hooks.NONE, null, false, false).logits();
                forward.put("logits with A, B", diff(flat(e.get("test_logits")), logits.toFloatArray()));
                NDArray loss = MaskedCrossEntropy.loss(logits.get(":, :-1, :"), m.create(shifted, new Shape(b, t - 1)),
                        m.create(weights, new Shape(b, t - 1)));
                forward.put("loss", Math.abs(e.get("test_loss").asDouble() - loss.getFloat()));
                gc.backward(loss);
            }
            for (JsonNode x : e.get("weights")) {
                SaLoraLayer layer = adapter.layers().get(x.get("weight").asText().replace(".weight", ""));
                forward.merge("grad A", diff(flat(x.get("test_grad_A")), layer.a().getGradient().toFloatArray()), Math::max);
                forward.merge("grad B", diff(flat(x.get("test_grad_B")), layer.b().getGradient().toFloatArray()), Math::max);
            }
        }
        return new Result(exact, forward);
    }

    static List<Features.Sequence> sequences(Path file, JsonNode e, String set) {
        JsonNode ids = e.get(set + "_input_ids");
        JsonNode mask = e.get(set + "_response_mask");
        if (ids.size() != mask.size()) {
            throw new CheckpointException(file, set + "_response_mask", mask.size() + " rows for " + ids.size() + " sequences");
        }
        List<Features.Sequence> out = new ArrayList<>();
        for (int i = 0; i < ids.size(); i++) {
            if (ids.get(i).size() != mask.get(i).size()) {
                throw new CheckpointException(file, set + "_response_mask[" + i + "]", mask.get(i).size() + " positions for "
                        + ids.get(i).size() + " ids");
            }
            int[] x = new int[ids.get(i).size()];
            boolean[] r = new boolean[x.length];
            for (int j = 0; j < x.length; j++) {
                x[j] = ids.get(i).get(j).asInt();
                r[j] = mask.get(i).get(j).asInt() == 1;
            }
            out.add(new Features.Sequence(x, r));
        }
        return out;
    }

    private static double diff(Path file, String field, JsonNode weight, double[] got) {
        String key = field.substring(field.indexOf('.') + 1);
        double[] expected = flat(weight.path(key));
        if (expected.length != got.length) {
            throw new CheckpointException(file, field, expected.length + " values, ours " + got.length
                    + " (a model of other shapes, or other ranks?)");
        }
        return diff(expected, got);
    }

    private static double diff(double[] expected, float[] got) {
        return diff(expected, SaLora.toDoubles(got));
    }

    private static double diff(double[] expected, double[] got) {
        if (expected.length != got.length) {
            throw new IllegalArgumentException(expected.length + " expected values, " + got.length + " computed");
        }
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs(expected[i] - got[i]) / Math.max(1, Math.abs(expected[i])));
        }
        return worst;
    }

    static double[] flat(JsonNode n) {
        List<Double> out = new ArrayList<>();
        walk(n, out);
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static void walk(JsonNode n, List<Double> out) {
        if (n.isArray()) {
            n.forEach(c -> walk(c, out));
        } else if (!n.isMissingNode()) {
            out.add(n.asDouble());
        }
    }

    private static long[] longs(JsonNode n) {
        double[] d = flat(n);
        long[] l = new long[d.length];
        for (int i = 0; i < d.length; i++) {
            l[i] = (long) d[i];
        }
        return l;
    }

    private static Shape shape(JsonNode n) {
        return new Shape(n.size(), n.get(0).size());
    }
}
