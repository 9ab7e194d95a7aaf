package io.safetune.train;

import io.safetune.data.TrainingExample;
import ai.djl.ndarray.NDArray;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainerTest {

    static final List<TrainingExample> DATA = TestData.examples(24, 24, 4, 5, 1);

    static TrainConfig.Builder config() {
        return TrainConfig.builder().learningRate(1e-2).weightDecay(0.01).batchSize(4)
                .gradAccumSteps(2).epochs(3).schedule(ScheduleType.COSINE).warmupSteps(2)
                .maxLength(8).seed(7);
    }

    /** Every listener event, for assertions. */
    static final class Recorder implements TrainListener {
        final List<StepEvent> steps = new ArrayList<>();
        final List<Long> checkpoints = new ArrayList<>();
        StartEvent start;
        EndEvent end;

        @Override
        public void onStart(StartEvent e) {
            start = e;
        }

        @Override
        public void onStep(StepEvent e) {
            steps.add(e);
        }

        @Override
        public void onCheckpoint(java.nio.file.Path dir, long step) {
            checkpoints.add(step);
        }

        @Override
        public void onEnd(EndEvent e) {
            end = e;
        }
    }

    record Run(TrainResult result, List<float[]> params) {
    }

    static Run train(TrainConfig config, long modelSeed, TrainListener listener) {
        try (TinyLM model = TinyLM.small(modelSeed); Trainer t = new Trainer(model, config)) {
            TrainResult r = t.fit(DATA, listener);
            return new Run(r, snapshot(model));
        }
    }

    static List<float[]> snapshot(TrainableModel model) {
        List<float[]> out = new ArrayList<>();
        for (NDArray p : model.trainableParameters().values()) {
            out.add(p.toFloatArray());
        }
        return out;
    }

    static void assertBitIdentical(Run a, Run b) {
        assertEquals(a.result.losses(), b.result.losses(), "losses");
        assertEquals(a.result.gradNorms(), b.result.gradNorms(), "gradient norms");
        for (int i = 0; i < a.params.size(); i++) {
            assertArrayEquals(a.params.get(i), b.params.get(i), "parameter " + i);
        }
    }

    @Test
    void twoRunsWithTheSameSeedAreBitIdentical() {
        Run a = train(config().build(), 3, TrainListener.NONE);
        Run b = train(config().build(), 3, TrainListener.NONE);
        assertBitIdentical(a, b);
        Run c = train(config().seed(8).build(), 3, TrainListener.NONE);
        assertNotEquals(a.result.losses(), c.result.losses(), "another seed, another data order and dropout");
    }

    @Test
    void learnsAndReportsEveryStep() {
        Recorder rec = new Recorder();
        Run run = train(config().epochs(20).build(), 3, rec);
        TrainResult r = run.result;
        // 24 examples / 4 = 6 micro-batches = 3 steps per epoch
        assertEquals(60, r.totalSteps());
        assertEquals(60, r.finalStep());
        assertEquals(60, r.losses().size());
        assertEquals(60, rec.steps.size());
        assertEquals(3, rec.start.stepsPerEpoch());
        assertEquals(r, rec.end.result());
        assertFalse(r.stoppedEarly());
        double first = (r.losses().get(0) + r.losses().get(1) + r.losses().get(2)) / 3;
        double last = (r.losses().get(57) + r.losses().get(58) + r.losses().get(59)) / 3;
        assertTrue(last < 0.5 * first, "loss should fall: " + first + " -> " + last);
        // learning rates follow the schedule: step k uses lr · factor(k)
        for (int k = 0; k < 60; k++) {
            assertEquals(1e-2 * LrSchedule.COSINE.factor(k, 2, 60), r.learningRates().get(k), 0.0);
        }
        assertEquals(0.0, r.learningRates().get(0), 0.0, "warm-up starts at 0 like transformers");
        StepEvent e = rec.steps.get(29);
        assertEquals(30, e.step());
        assertEquals(10.0, e.epoch(), 1e-12);
        assertEquals(r.losses().get(29), e.loss(), 0.0);
        assertTrue(e.tokensPerSecond() > 0 && e.gradNorm() > 0);
        assertEquals(r.gradNorms().get(29), e.gradNorm(), 0.0);
    }

    @Test
    void clippingBoundsTheUpdateButReportsThePreClipNorm() {
        Run clipped = train(config().maxGradNorm(1e-3).epochs(1).build(), 3, TrainListener.NONE);
        Run free = train(config().maxGradNorm(0).epochs(1).build(), 3, TrainListener.NONE);
        assertEquals(free.result.gradNorms().get(0), clipped.result.gradNorms().get(0), 0.0);
        assertTrue(clipped.result.gradNorms().get(0) > 1e-3);
        assertNotEquals(free.result.losses().get(2), clipped.result.losses().get(2));
    }

    @Test
    void trainsOnlyTheTrainableParameters() {
        try (TinyLM model = new TinyLM(24, 16, 32, 0.1f, 3, true);
             Trainer t = new Trainer(model, config().epochs(1).build())) {
            float[] frozen = model.frozenEmbedding().toFloatArray();
            Map<String, NDArray> params = model.trainableParameters();
            List<float[]> before = snapshot(model);
            t.fit(DATA, TrainListener.NONE);
            assertArrayEquals(frozen, model.frozenEmbedding().toFloatArray());
            List<float[]> after = snapshot(model);
            for (int i = 0; i < before.size(); i++) {
                assertFalse(java.util.Arrays.equals(before.get(i), after.get(i)), "param " + i + " moved");
            }
            assertEquals(4, params.size());
            assertThrows(IllegalStateException.class, () -> t.fit(DATA, TrainListener.NONE));
        }
    }

    /**
     * The Vaccine-shaped seam: a step that runs a first pass, zeroes, and runs a second gives exactly
     * the standard run (no dropout, so both passes are the same computation): only pass-2
     * gradients reach AdamW.
     */
    @Test
    void onlyTheGradientsLeftByTheStepFunctionReachTheOptimiser() {
        List<Integer> counts = new ArrayList<>();
        StepFunction twoPass = ctx -> {
            counts.add(ctx.microBatchCount());
            StepFunction.STANDARD.computeGradients(ctx);   // pass 1: gradients thrown away
            ctx.zeroGradients();
            StepOutput pass2 = StepFunction.STANDARD.computeGradients(ctx);
            return new StepOutput(pass2.loss(), Map.of("passes", 2.0));
        };
        TrainConfig c = config().epochs(1).build();
        Recorder rec = new Recorder();
        List<float[]> standard;
        List<Double> standardLosses;
        try (TinyLM model = new TinyLM(24, 16, 32, 0f, 3, false); Trainer t = new Trainer(model, c)) {
            standardLosses = t.fit(DATA, TrainListener.NONE).losses();
            standard = snapshot(model);
        }
        try (TinyLM model = new TinyLM(24, 16, 32, 0f, 3, false);
             Trainer t = new Trainer(model, c).withStepFunction(twoPass)) {
            TrainResult r = t.fit(DATA, rec);
            assertEquals(List.of(2, 2, 2), counts);
            assertEquals(standardLosses, r.losses());
            List<float[]> twice = snapshot(model);
            for (int i = 0; i < twice.size(); i++) {
                assertArrayEquals(standard.get(i), twice.get(i));
            }
        }
        assertEquals(Map.of("passes", 2.0), rec.steps.get(0).metrics());
    }

    @Test
    void divergenceStopsTraining() {
        StepFunction broken = ctx -> StepOutput.of(Double.NaN);
        try (TinyLM model = TinyLM.small(3);
             Trainer t = new Trainer(model, config().build()).withStepFunction(broken)) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> t.fit(DATA, TrainListener.NONE));
            assertTrue(e.getMessage().contains("step 1"), e.getMessage());
        }
    }
}
