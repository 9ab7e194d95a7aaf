package io.safetune.train;

import io.safetune.data.TrainingExample;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * k micro-batches of b examples accumulate to the gradient of one batch of k·b examples: exactly for
 * either averaging when token counts are equal, and for STEP_TOKEN_MEAN also when they differ.
 */
class AccumulationTest {

    @Test
    void accumulatedMicroBatchesEqualOneBigBatch() {
        List<TrainingExample> ex = TestData.fixedLength(8, 24, 3, 4, 11);
        for (LossAveraging avg : LossAveraging.values()) {
            Grad big = gradients(List.of(ex), avg);
            Grad micro = gradients(List.of(ex.subList(0, 2), ex.subList(2, 4), ex.subList(4, 6),
                    ex.subList(6, 8)), avg);
            assertEquals(big.loss, micro.loss, 1e-6, avg + " loss");
            assertClose(big, micro, avg.toString());
        }
    }

    @Test
    void stepTokenMeanIsExactForUnequalTokenCounts() {
        List<TrainingExample> ex = TestData.examples(6, 24, 4, 6, 3);
        Grad big = gradients(List.of(ex), LossAveraging.STEP_TOKEN_MEAN);
        Grad micro = gradients(List.of(ex.subList(0, 1), ex.subList(1, 4), ex.subList(4, 6)),
                LossAveraging.STEP_TOKEN_MEAN);
        assertClose(big, micro, "STEP_TOKEN_MEAN");
        // and the per-micro-batch mean is not (the test data have unequal counts)
        Grad mean = gradients(List.of(ex.subList(0, 1), ex.subList(1, 4), ex.subList(4, 6)),
                LossAveraging.MICRO_BATCH_MEAN);
        assertTrue(Math.abs(mean.loss - big.loss) > 1e-4, "counts differ, so the averages differ");
    }

    private record Grad(double loss, List<float[]> grads) {
    }

    /** The standard step's gradients, without dropout noise (dropout 0 model). */
    private static Grad gradients(List<List<TrainingExample>> microBatches, LossAveraging avg) {
        Collator c = new Collator(32);
        List<CollatedBatch> host = new ArrayList<>();
        for (List<TrainingExample> mb : microBatches) {
            host.add(c.collate(mb));
        }
        try (TinyLM model = new TinyLM(24, 16, 32, 0f, 5, false);
             NDManager m = NDManager.newBaseManager()) {
            StepContext ctx = new StepContext(model, host, avg, m, 0);
            double loss = StepFunction.STANDARD.computeGradients(ctx).loss();
            List<float[]> grads = new ArrayList<>();
            for (Map.Entry<String, NDArray> e : model.trainableParameters().entrySet()) {
                try (NDArray g = e.getValue().getGradient()) {
                    grads.add(g.toFloatArray());
                }
            }
            return new Grad(loss, grads);
        }
    }

    private static void assertClose(Grad expected, Grad actual, String what) {
        for (int i = 0; i < expected.grads.size(); i++) {
            float[] a = expected.grads.get(i);
            float[] b = actual.grads.get(i);
            double scale = 0;
            for (float v : a) {
                scale = Math.max(scale, Math.abs(v));
            }
            for (int j = 0; j < a.length; j++) {
                assertEquals(a[j], b[j], 1e-5 * scale + 1e-9, what + " param " + i + " [" + j + "]");
            }
        }
    }
}
