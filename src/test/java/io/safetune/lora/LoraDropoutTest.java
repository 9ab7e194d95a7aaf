package io.safetune.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.GradientCollector;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The adapters' dropout: the same masks on every CPU (recorded ones, checked on any machine), and on a
 * CPU that is not Intel the same bits, gradient and generator state as libtorch's own dropout.
 */
class LoraDropoutTest {

    /** Where seed 42 and p = 0.05 drop in 4 × 64 ones, and the kept value 1 / 0.95 as float32 bits. */
    private static final int[] ZEROS_SEED_42 = {6, 44, 55, 71, 85, 99, 118, 161, 166, 167, 171, 204, 249};
    private static final int KEPT_BITS = 1065794722; // 1.0526316f

    @Test
    void theMasksAreTheRecordedOnesOnAnyCpu() {
        Engine.getInstance();
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(42);
            float[] y = LoraDropout.apply(m.ones(new Shape(4, 64)), 0.05f).toFloatArray();
            List<Integer> zeros = new ArrayList<>();
            for (int i = 0; i < y.length; i++) {
                if (y[i] == 0) {
                    zeros.add(i);
                } else {
                    assertEquals(KEPT_BITS, Float.floatToIntBits(y[i]), "kept value at " + i);
                }
            }
            assertArrayEquals(ZEROS_SEED_42, zeros.stream().mapToInt(Integer::intValue).toArray());
        }
    }

    @Test
    void onACpuThatIsNotIntelItIsLibtorchsDropoutBitForBit() throws IOException {
        assumeFalse(intel(), "libtorch's dropout takes MKL's stream on Intel CPUs: not the reference there");
        Engine.getInstance();
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.randomNormal(new Shape(16, 64, 128));
            for (float p : new float[] {0.05f, 0.1f, 0.5f}) {
                float[][] out = new float[2][];
                float[][] grad = new float[2][];
                float[] after = new float[2];
                for (int k = 0; k < 2; k++) {
                    Engine.getInstance().setRandomSeed(7);
                    NDArray leaf = x.duplicate();
                    leaf.setRequiresGradient(true);
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray y = k == 0 ? LoraDropout.apply(leaf, p) : Dropout.dropout(leaf, p, true).singletonOrThrow();
                        out[k] = y.toFloatArray();
                        gc.backward(y.mul(x).sum());
                    }
                    grad[k] = leaf.getGradient().toFloatArray();
                    after[k] = m.randomUniform(0f, 1f, new Shape(1)).getFloat();
                }
                assertArrayEquals(out[1], out[0], 0f, "p = " + p);
                assertArrayEquals(grad[1], grad[0], 0f, "gradient, p = " + p);
                assertEquals(after[1], after[0], 0f, "the generator afterwards, p = " + p);
            }
        }
    }

    private static boolean intel() throws IOException {
        Path cpuinfo = Path.of("/proc/cpuinfo");
        return Files.isReadable(cpuinfo) && Files.readString(cpuinfo).contains("GenuineIntel");
    }
}
