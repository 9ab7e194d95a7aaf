package io.safetune.train;

import io.safetune.data.TrainingExample;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

class MaskedCrossEntropyTest {

    private static final int V = 5;

    /** Σ over weighted positions of −log softmax(logits)[label], computed in double by hand. */
    @Test
    void equalsHandComputedWeightedNll() {
        float[] logits = new float[2 * 3 * V];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) Math.sin(1.7 * i) * 3;
        }
        long[] labels = {1, 4, 0, 2, 3, 3};
        float[] weights = {0f, 0.25f, 0.25f, 0.25f, 0.25f, 0f};
        double expected = 0;
        for (int pos = 0; pos < 6; pos++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < V; v++) {
                max = Math.max(max, logits[pos * V + v]);
            }
            double sum = 0;
            for (int v = 0; v < V; v++) {
                sum += Math.exp(logits[pos * V + v] - max);
            }
            double logp = logits[pos * V + (int) labels[pos]] - max - Math.log(sum);
            expected -= weights[pos] * logp;
        }
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray loss = MaskedCrossEntropy.loss(m.create(logits, new Shape(2, 3, V)),
                    m.create(labels, new Shape(2, 3)), m.create(weights, new Shape(2, 3)));
            assertEquals(0, loss.getShape().dimension());
            assertEquals(expected, loss.getFloat(), 1e-5);
        }
    }

    /** Prompt and padding positions get exactly zero gradient; response positions do not. */
    @Test
    void onlyResponsePositionsReceiveGradient() {
        List<TrainingExample> ex = List.of(new TrainingExample(new int[] {1, 2}, new int[] {3, 4}),
                new TrainingExample(new int[] {1}, new int[] {2}));
        CollatedBatch host = new Collator(8).collate(ex);
        float[] mask = host.lossMask();
        try (NDManager m = NDManager.newBaseManager()) {
            Batch batch = host.upload(m, 1f / host.responseTokens());
            int b = host.batchSize();
            int t = host.length();
            NDArray logits = m.randomNormal(new Shape(b, t, V));
            logits.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(MaskedCrossEntropy.loss(logits, batch.labels(), batch.lossWeights()));
            }
            float[] grad = logits.getGradient().toFloatArray();
            for (int pos = 0; pos < b * t; pos++) {
                double norm = 0;
                for (int v = 0; v < V; v++) {
                    norm += Math.abs(grad[pos * V + v]);
                }
                if (mask[pos] == 0) {
                    assertEquals(0.0, norm, 0.0, "masked position " + pos);
                } else {
                    assertNotEquals(0.0, norm, "response position " + pos);
                }
            }
        }
    }

    @Test
    void microBatchWeightsImplementBothAveragings() {
        Collator c = new Collator(16);
        CollatedBatch two = c.collate(List.of(new TrainingExample(new int[] {1}, new int[] {2, 3})));
        CollatedBatch four = c.collate(List.of(new TrainingExample(new int[] {1}, new int[] {2, 3, 4, 5})));
        CollatedBatch none = c.collate(List.of(new TrainingExample(new int[] {1, 2}, new int[] {3})));
        float[] mean = StepContext.weights(List.of(two, four), LossAveraging.MICRO_BATCH_MEAN);
        assertEquals(1f / 4, mean[0]);    // 1 / (2 tokens · 2 micro-batches)
        assertEquals(1f / 8, mean[1]);
        float[] tokens = StepContext.weights(List.of(two, four), LossAveraging.STEP_TOKEN_MEAN);
        assertEquals(1f / 6, tokens[0]);
        assertEquals(1f / 6, tokens[1]);
        CollatedBatch cut = new Collator(2).collate(List.of(new TrainingExample(new int[] {1, 2}, new int[] {3})));
        assertEquals(0, cut.responseTokens());
        assertEquals(0f, StepContext.weights(List.of(cut), LossAveraging.MICRO_BATCH_MEAN)[0]);
        assertEquals(0f, StepContext.weights(List.of(cut), LossAveraging.STEP_TOKEN_MEAN)[0]);
        assertEquals(1, none.responseTokens());
    }

    /** Over 32,768 positions libtorch would split a plain sum by thread; the loss is the same on 1 and 2 threads. */
    @Test
    void aLossOverManyPositionsIsTheSameOnOneAndTwoThreads() {
        int b = 64;
        int t = 1000;
        Random r = new Random(5);
        float[] logits = new float[b * t * V];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) r.nextGaussian() * 3;
        }
        long[] labels = r.longs((long) b * t, 0, V).toArray();
        float[] weights = new float[b * t];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = (float) r.nextGaussian(); // signed: a sum that cancels shows every rounding
        }
        Engine.getInstance();
        int threads = JniUtils.getNumThreads();
        float[] loss = new float[2];
        float[] plain = new float[2];
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(logits, new Shape(b, t, V));
            NDArray y = m.create(labels, new Shape(b, t));
            NDArray w = m.create(weights, new Shape(b, t));
            NDArray terms = x.logSoftmax(-1).gather(y.expandDims(-1), -1).squeeze(-1).mul(w);
            for (int n = 1; n <= 2; n++) {
                JniUtils.setNumThreads(n);
                loss[n - 1] = MaskedCrossEntropy.loss(x, y, w).getFloat();
                plain[n - 1] = terms.sum().getFloat();
            }
        } finally {
            JniUtils.setNumThreads(threads);
        }
        assertNotEquals(Float.floatToIntBits(plain[0]), Float.floatToIntBits(plain[1]), "the control: a plain sum follows the threads");
        assertEquals(Float.floatToIntBits(loss[0]), Float.floatToIntBits(loss[1]), loss[0] + " vs " + loss[1]);
    }
}
