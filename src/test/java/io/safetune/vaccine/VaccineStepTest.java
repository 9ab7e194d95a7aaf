package io.safetune.vaccine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import io.safetune.data.TrainingExample;
import io.safetune.lora.LoraAdapter;
import io.safetune.lora.LoraConfig;
import io.safetune.model.CausalLM;
import io.safetune.model.Hooks;
import io.safetune.testing.Fixtures;
import io.safetune.train.CollatedBatch;
import io.safetune.train.Collator;
import io.safetune.train.LossAveraging;
import io.safetune.train.MaskedCrossEntropy;
import io.safetune.train.StepContext;
import io.safetune.train.StepFunction;
import io.safetune.train.StepOutput;
import io.safetune.train.TrainConfig;
import io.safetune.train.TrainableModel;
import io.safetune.train.Trainer;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.LongStream;

/**
 * The step on llama-tiny with a LoRA adapter (dropout 0.1, so both passes draw masks): K = 1 is the
 * definition bit for bit; K = 10 runs two passes on steps 0 and 10 only, and its reuse rule gives norm ρ on
 * real tokens only; the random control has norm ρ, is zero on padding and reproduces; a model without
 * decoder layers is refused.
 */
class VaccineStepTest {

    private static final double RHO = 2.0;

    /** Prompt + response of 3..10 tokens over the fixture's 128 ids, so batches are padded. */
    static List<TrainingExample> data(int n, long seed) {
        Random r = new Random(seed);
        List<TrainingExample> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] prompt = r.ints(1 + r.nextInt(5), 0, 128).toArray();
            int[] response = r.ints(2 + r.nextInt(5), 0, 128).toArray();
            out.add(new TrainingExample(prompt, response));
        }
        return out;
    }

    static TrainConfig config(int steps) {
        return TrainConfig.builder().learningRate(1e-2).maxSteps(steps).batchSize(2).gradAccumSteps(2).seed(7).maxLength(16).build();
    }

    /** Trains a fresh q/v adapter on llama-tiny with {@code step}; returns the adapter's tensors after. */
    static Map<String, float[]> train(StepFunction step, int steps) {
        try (CausalLM model = CausalLM.load(Fixtures.get("llama-tiny"));
                LoraAdapter adapter = LoraAdapter.inject(model, LoraConfig.qv(4, 8).withDropout(0.1), 11);
                Trainer trainer = new Trainer(model, config(steps)).withStepFunction(step)) {
            trainer.fit(data(16, 5), null);
            Map<String, float[]> out = new LinkedHashMap<>();
            adapter.tensors().forEach((k, v) -> out.put(k, v.toFloatArray()));
            return out;
        }
    }

    /** Vaccine written out from its definition (the three steps), for micro-batches of one step. */
    static StepFunction definition(double rho) {
        return ctx -> {
            CausalLM lm = (CausalLM) ctx.model();
            int layers = lm.numLayers();
            NDArray[][] g = new NDArray[ctx.microBatchCount()][layers];
            double[] sq = new double[layers];
            for (int i = 0; i < g.length; i++) {
                CollatedBatch hb = ctx.hostBatch(i);
                NDArray[] z = new NDArray[layers];
                for (int l = 0; l < layers; l++) {
                    z[l] = ctx.manager().zeros(new Shape(hb.batchSize(), hb.length(), lm.config().hiddenSize()));
                    z[l].setRequiresGradient(true);
                }
                ctx.forwardBackward(i, (m, b) -> MaskedCrossEntropy.loss(lm.forward(b.inputIds(), b.attentionMask(),
                        new Hooks().perturbAttentionOutputs(z), null, true, false).logits(), b.labels(), b.lossWeights()));
                for (int l = 0; l < layers; l++) {
                    g[i][l] = z[l].getGradient();
                    sq[l] += g[i][l].square().sum().getFloat();
                }
            }
            double total = 0;
            for (double v : sq) {
                total += v;
            }
            NDArray scale = ctx.manager().create((float) (rho / (Math.sqrt(total) + 1e-7)));
            ctx.zeroGradients();
            double loss = 0;
            for (int i = 0; i < g.length; i++) {
                NDArray[] eps = new NDArray[layers];
                for (int l = 0; l < layers; l++) {
                    eps[l] = g[i][l].mul(scale);
                }
                loss += ctx.forwardBackward(i, (m, b) -> MaskedCrossEntropy.loss(lm.forward(b.inputIds(), b.attentionMask(),
                        new Hooks().perturbAttentionOutputs(eps), null, true, false).logits(), b.labels(), b.lossWeights()));
            }
            return StepOutput.of(loss);
        };
    }

    @Test
    void refreshEveryStepIsVaccineBitForBit() {
        VaccineStep k1 = new VaccineStep(VaccineSettings.defaults().withRefreshEvery(1), 7);
        Map<String, float[]> ours = train(k1, 3);
        Map<String, float[]> reference = train(definition(RHO), 3);
        Map<String, float[]> standard = train(StepFunction.STANDARD, 3);
        assertEquals(reference.keySet(), ours.keySet());
        reference.forEach((k, v) -> assertArrayEquals(v, ours.get(k), 0f, k));
        assertTrue(reference.keySet().stream().anyMatch(k -> !java.util.Arrays.equals(reference.get(k), standard.get(k))),
                "the perturbation changes training");
        assertEquals(List.of(true, true, true), k1.stats().stream().map(VaccineStep.StepStat::twoPass).toList());
    }

    @Test
    void refreshEveryTenRunsTwoPassesOnStepsZeroAndTenOnly() {
        VaccineStep k10 = new VaccineStep(VaccineSettings.defaults().withRefreshEvery(10), 7);
        train(k10, 12);
        List<Long> twoPass = k10.stats().stream().filter(VaccineStep.StepStat::twoPass).map(VaccineStep.StepStat::step).toList();
        assertEquals(List.of(0L, 10L), twoPass);
        assertEquals(LongStream.range(0, 12).boxed().toList(), k10.stats().stream().map(VaccineStep.StepStat::step).toList());
        assertTrue(k10.stats().stream().allMatch(s -> Double.isFinite(s.loss())));
    }

    /** One step's context on llama-tiny: two padded micro-batches. */
    private static StepContext context(CausalLM model, NDManager m, long step, long dataSeed) {
        List<TrainingExample> d = data(4, dataSeed);
        Collator c = new Collator(16);
        return StepContext.of(model, List.of(c.collate(d.subList(0, 2)), c.collate(d.subList(2, 4))),
                LossAveraging.STEP_TOKEN_MEAN, m, step);
    }

    /** Σ over micro-batches and layers of ‖ε‖², and whether ε is zero wherever the mask is 0. */
    private static double normAndCheckPadding(StepContext ctx, NDArray[][] eps) {
        double sq = 0;
        for (int i = 0; i < eps.length; i++) {
            long[] mask = ctx.hostBatch(i).attentionMask();
            for (NDArray e : eps[i]) {
                float[] v = e.toFloatArray();
                int d = (int) e.getShape().get(2);
                for (int p = 0; p < mask.length; p++) {
                    for (int k = 0; k < d; k++) {
                        if (mask[p] == 0) {
                            assertTrue(v[p * d + k] == 0, "padding position " + p); // -0.0 counts as zero
                        }
                        sq += (double) v[p * d + k] * v[p * d + k];
                    }
                }
            }
        }
        assertTrue(java.util.Arrays.stream(ctx.hostBatch(0).attentionMask()).anyMatch(x -> x == 0)
                || java.util.Arrays.stream(ctx.hostBatch(1).attentionMask()).anyMatch(x -> x == 0), "the test needs padding");
        return Math.sqrt(sq);
    }

    @Test
    void theRandomControlHasNormRhoIsZeroOnPaddingAndReproduces() {
        VaccineStep random = new VaccineStep(VaccineSettings.defaults().withPerturbation(VaccineSettings.Perturbation.RANDOM), 7);
        try (CausalLM model = CausalLM.load(Fixtures.get("llama-tiny")); NDManager m = model.newStepManager()) {
            StepContext ctx = context(model, m, 3, 1);
            NDArray[][] eps = random.randomPerturbation(ctx, model);
            assertEquals(RHO, normAndCheckPadding(ctx, eps), 1e-5);
            assertArrayEquals(eps[1][2].toFloatArray(), random.randomPerturbation(ctx, model)[1][2].toFloatArray(), 0f);
            StepContext next = context(model, m, 4, 1);
            assertFalse(java.util.Arrays.equals(eps[0][0].toFloatArray(), random.randomPerturbation(next, model)[0][0].toFloatArray()));
        }
    }

    @Test
    void theReuseRuleSpreadsTheStoredDirectionOverRealTokensAtNormRho() {
        VaccineStep k5 = new VaccineStep(VaccineSettings.defaults().withRefreshEvery(5), 7);
        try (CausalLM model = CausalLM.load(Fixtures.get("llama-tiny"));
                LoraAdapter adapter = LoraAdapter.inject(model, LoraConfig.qv(4, 8), 11);
                NDManager m = model.newStepManager()) {
            k5.computeGradients(context(model, m, 0, 1)); // a refresh: keeps the directions
            StepContext ctx = context(model, m, 1, 2);    // another batch, other lengths
            NDArray[][] eps = k5.reused(ctx);
            assertEquals(RHO, normAndCheckPadding(ctx, eps), 1e-5);
            // every real token of every micro-batch carries the same vector per layer
            float[] v = eps[1][1].toFloatArray();
            long[] mask = ctx.hostBatch(1).attentionMask();
            int d = model.config().hiddenSize();
            int first = 0;
            for (int p = 0; p < mask.length; p++) {
                if (mask[p] == 1) {
                    assertArrayEquals(java.util.Arrays.copyOfRange(v, first * d, first * d + d),
                            java.util.Arrays.copyOfRange(v, p * d, p * d + d), 0f);
                }
            }
            StepOutput out = k5.computeGradients(ctx);
            assertEquals(0.0, out.metrics().get(VaccineStep.TWO_PASS));
            assertEquals(List.of(true, false), k5.stats().stream().map(VaccineStep.StepStat::twoPass).toList());
        }
    }

    @Test
    void aModelWithoutDecoderLayersIsRefused() {
        TrainableModel notADecoder = new TrainableModel() {
            @Override
            public LinkedHashMap<String, NDArray> trainableParameters() {
                return new LinkedHashMap<>();
            }

            @Override
            public NDArray logits(NDArray inputIds, NDArray attentionMask, boolean training) {
                throw new UnsupportedOperationException();
            }
        };
        try (NDManager m = NDManager.newBaseManager()) {
            Collator c = new Collator(16);
            StepContext ctx = StepContext.of(notADecoder, List.of(c.collate(data(2, 1))), LossAveraging.MICRO_BATCH_MEAN, m, 0);
            VaccineStep step = new VaccineStep(VaccineSettings.defaults(), 0);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> step.computeGradients(ctx));
            assertTrue(e.getMessage().startsWith("model: ") && e.getMessage().contains("not a CausalLM"), e.getMessage());
        }
    }
}
