package io.safetune.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;

import io.safetune.testing.Fixtures;

import org.junit.jupiter.api.Test;

import java.util.Random;

/**
 * The forward pass gives the same logits on 1 to 4 libtorch threads. Batches of odd size and length:
 * [7, 31] is 217 rows of the MLP's 172 features, 37,324 values, over libtorch's grain of 32,768, so σ
 * is cut into chunks whose edges (18,662 on 2 threads, 12,442 on 3, 9,331 on 4) are off the 8-float
 * vector grid. Without σ on one thread, 2 threads changed 15–111 logits in three of these four batches.
 */
class ThreadCountTest {

    private static float[] logits(CausalLM model, long[] ids, int b, int threads) {
        JniUtils.setNumThreads(threads);
        try (NDManager m = model.newStepManager()) {
            NDArray input = m.create(ids, new Shape(b, ids.length / b));
            return model.forward(input, null, Hooks.NONE, null, false, false).logits().toFloatArray();
        }
    }

    @Test
    void theLogitsAreTheSameOnOneToFourThreads() {
        Engine.getInstance();
        int threads = JniUtils.getNumThreads();
        try (CausalLM model = CausalLM.load(Fixtures.get("llama-tiny"))) {
            // the fixture's gate values are so small that σ's two paths agreed on them; × 50 they do not
            model.weights().forEach((name, w) -> {
                if (name.contains("gate_proj")) {
                    w.muli(50);
                }
            });
            for (int[] bt : new int[][] {{7, 31}, {11, 29}, {13, 41}, {21, 45}}) {
                long[] ids = new Random(4).longs(bt[0] * bt[1], 0, 128).toArray();
                float[] one = logits(model, ids, bt[0], 1);
                for (int n = 2; n <= 4; n++) {
                    assertArrayEquals(one, logits(model, ids, bt[0], n), 0f, bt[0] + " x " + bt[1] + ", " + n + " threads");
                }
            }
        } finally {
            JniUtils.setNumThreads(threads);
        }
    }
}
