package io.safetune.vaccine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.safetune.checkpoint.CheckpointException;
import io.safetune.data.TrainingExample;
import io.safetune.model.CausalLM;
import io.safetune.train.CollatedBatch;
import io.safetune.train.Collator;
import io.safetune.train.LossAveraging;
import io.safetune.train.StepContext;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks one Vaccine step of ours against a reference file in the format of
 * {@code fixtures/llama-tiny-vaccine/vaccine-expected.json} (its README): pass 1's loss, ‖∂L/∂e_l‖ per layer,
 * the global norm (+ 1e-7), ε per layer [B][T][d], pass 2's loss, and the trainable parameters' gradients
 * after each pass, keyed by the adapter's safetensors names. The step runs through the same
 * {@link VaccineStep} pieces the trainer calls, on one micro-batch (so our loss weights are 1 / label
 * tokens, transformers' mean over the batch's label tokens). {@code safetune parity --vaccine FILE} prints it.
 */
public final class VaccineParity {

    /** Every quantity compared, in the order printed. */
    public static final List<String> QUANTITIES = List.of("loss_pass1", "attn_grad_norms", "global_norm", "eps", "loss_pass2",
            "lora_grads_pass1", "lora_grads_pass2");

    private VaccineParity() {
    }

    /**
     * The largest absolute difference per quantity ({@link #QUANTITIES}, in that order).
     */
    public record Result(Map<String, Double> maxAbsDiff) {

        /** ε's difference (the fixture's tolerance: 1e-5). */
        public double eps() {
            return maxAbsDiff.get("eps");
        }

        /** The largest difference of everything but ε (tolerance 1e-4). */
        public double worstOther() {
            return maxAbsDiff.entrySet().stream().filter(e -> !e.getKey().equals("eps")).mapToDouble(Map.Entry::getValue).max()
                    .orElse(0);
        }

        public boolean passes(double epsTol, double tol) {
            return eps() <= epsTol && worstOther() <= tol;
        }
    }

    /** Runs the step with the file's ρ. */
    public static Result run(CausalLM model, Path file) {
        return run(model, file, Double.NaN);
    }

    /**
     * Runs the step on {@code model} (with the adapter whose gradients the file holds already loaded) and
     * compares. {@code rho} NaN takes the file's ρ; another value checks that a wrong ρ is caught.
     */
    public static Result run(CausalLM model, Path file, double rho) {
        JsonNode e;
        try {
            e = new ObjectMapper().readTree(file.toFile());
        } catch (IOException ex) {
            throw new CheckpointException(file, null, "cannot read: " + ex.getMessage(), ex);
        }
        for (String field : List.of("rho", "input_ids", "labels", "loss_pass1", "attn_grad_norms", "global_norm", "eps",
                "loss_pass2", "lora_grads_pass1", "lora_grads_pass2")) {
            if (!e.has(field)) {
                throw new CheckpointException(file, field, "missing");
            }
        }
        double r = Double.isNaN(rho) ? e.get("rho").asDouble() : rho;
        CollatedBatch batch = batch(file, e);
        Map<String, Double> diff = new LinkedHashMap<>();
        try (NDManager sm = model.newStepManager()) {
            StepContext ctx = StepContext.of(model, List.of(batch), LossAveraging.MICRO_BATCH_MEAN, sm, 0);
            ctx.zeroGradients();
            VaccineStep step = new VaccineStep(VaccineSettings.defaults().withRho(r), 0);
            VaccineStep.Pass1 p1 = step.firstPass(ctx, model);
            Map<String, float[]> grads1 = gradients(model);
            NDArray[][] eps = step.adversarial(ctx, p1);
            ctx.zeroGradients();
            double loss2 = VaccineStep.perturbedPass(ctx, model, eps);
            Map<String, float[]> grads2 = gradients(model);
            ctx.zeroGradients();

            diff.put("loss_pass1", Math.abs(p1.loss() - e.get("loss_pass1").asDouble()));
            diff.put("attn_grad_norms", maxDiff(p1.layerNorms(), flat(e.get("attn_grad_norms")), file, "attn_grad_norms"));
            diff.put("global_norm", Math.abs(p1.gradNorm() + VaccineStep.NORM_EPS - e.get("global_norm").asDouble()));
            double epsDiff = 0;
            if (e.get("eps").size() != eps[0].length) {
                throw new CheckpointException(file, "eps", e.get("eps").size() + " layers, the model has " + eps[0].length);
            }
            for (int l = 0; l < eps[0].length; l++) {
                epsDiff = Math.max(epsDiff, maxDiff(toDouble(eps[0][l].toFloatArray()), flat(e.get("eps").get(l)), file, "eps"));
            }
            diff.put("eps", epsDiff);
            diff.put("loss_pass2", Math.abs(loss2 - e.get("loss_pass2").asDouble()));
            diff.put("lora_grads_pass1", gradDiff(grads1, e.get("lora_grads_pass1"), file, "lora_grads_pass1"));
            diff.put("lora_grads_pass2", gradDiff(grads2, e.get("lora_grads_pass2"), file, "lora_grads_pass2"));
        }
        return new Result(diff);
    }

    /**
     * The file's rows as one collated batch. Labels follow transformers (unshifted, −100 ignored); each row
     * must be a prompt (labels −100) followed by a response (labels = the input ids), which is what the
     * collator's loss mask can express.
     */
    static CollatedBatch batch(Path file, JsonNode e) {
        JsonNode ids = e.get("input_ids");
        JsonNode labels = e.get("labels");
        if (ids.size() == 0 || labels.size() != ids.size()) {
            throw new CheckpointException(file, "labels", "need one row per input_ids row, got " + labels.size() + " for " + ids.size());
        }
        int t = ids.get(0).size();
        List<TrainingExample> examples = new ArrayList<>();
        for (int b = 0; b < ids.size(); b++) {
            if (ids.get(b).size() != t || labels.get(b).size() != t) {
                throw new CheckpointException(file, "input_ids", "rows of unequal length (padding is not supported here)");
            }
            int p = 0;
            while (p < t && labels.get(b).get(p).asLong() == -100) {
                p++;
            }
            if (p == 0 || p == t) {
                throw new CheckpointException(file, "labels", "row " + b + ": need a prompt (-100) then a response");
            }
            int[] prompt = new int[p];
            int[] response = new int[t - p];
            for (int k = 0; k < t; k++) {
                int id = ids.get(b).get(k).asInt();
                if (k < p) {
                    prompt[k] = id;
                } else if (labels.get(b).get(k).asLong() != id) {
                    throw new CheckpointException(file, "labels", "row " + b + ", position " + k
                            + ": a label that is neither -100 nor the input id is not a prompt + response");
                } else {
                    response[k - p] = id;
                }
            }
            examples.add(new TrainingExample(prompt, response));
        }
        return new Collator(t).collate(examples);
    }

    private static Map<String, float[]> gradients(CausalLM model) {
        Map<String, float[]> out = new LinkedHashMap<>();
        model.trainableParameters().forEach((name, p) -> {
            try (NDArray g = p.getGradient()) {
                out.put(name, g.toFloatArray());
            }
        });
        return out;
    }

    private static double gradDiff(Map<String, float[]> ours, JsonNode expected, Path file, String field) {
        if (expected.size() != ours.size()) {
            throw new CheckpointException(file, field, expected.size() + " tensors, the model trains " + ours.size() + " "
                    + ours.keySet());
        }
        double worst = 0;
        for (Map.Entry<String, float[]> g : ours.entrySet()) {
            JsonNode x = expected.get(g.getKey());
            if (x == null) {
                throw new CheckpointException(file, field, "no gradient for " + g.getKey());
            }
            worst = Math.max(worst, maxDiff(toDouble(g.getValue()), flat(x), file, field + "." + g.getKey()));
        }
        return worst;
    }

    private static double maxDiff(double[] ours, double[] expected, Path file, String field) {
        if (ours.length != expected.length) {
            throw new CheckpointException(file, field, expected.length + " values, we computed " + ours.length);
        }
        double worst = 0;
        for (int i = 0; i < ours.length; i++) {
            worst = Math.max(worst, Math.abs(ours[i] - expected[i]));
        }
        return worst;
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    /** A nested JSON array of numbers, row-major. */
    private static double[] flat(JsonNode n) {
        List<Double> out = new ArrayList<>();
        collect(n, out);
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static void collect(JsonNode n, List<Double> out) {
        if (n.isArray()) {
            n.forEach(c -> collect(c, out));
        } else {
            out.add(n.asDouble());
        }
    }
}
