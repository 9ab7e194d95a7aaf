package io.safetune.vaccine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;

import io.safetune.data.TrainingExample;
import io.safetune.lora.LoraAdapter;
import io.safetune.lora.LoraConfig;
import io.safetune.model.CausalLM;
import io.safetune.testing.Fixtures;
import io.safetune.train.TrainConfig;
import io.safetune.train.Trainer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Vaccine's step gives the same bits with 1 and 2 libtorch threads, both perturbations. The batch is
 * large enough ([64, 16, 64] per layer: 65,536 values, over libtorch's grain of 32,768) that a plain
 * {@code square().sum()} would be split between the threads and round differently.
 */
class VaccineThreadsTest {

    private int threads;

    @BeforeEach
    void remember() {
        Engine.getInstance();
        threads = JniUtils.getNumThreads();
    }

    @AfterEach
    void restore() {
        JniUtils.setNumThreads(threads);
    }

    /** 64 examples of 16 tokens (8 prompt + 8 response), so every batch is [64, 16]. */
    private static List<TrainingExample> data() {
        Random r = new Random(3);
        List<TrainingExample> out = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            out.add(new TrainingExample(r.ints(8, 0, 128).toArray(), r.ints(8, 0, 128).toArray()));
        }
        return out;
    }

    private record Run(Map<String, float[]> adapter, double[] gradNorms, double[] losses) {
    }

    private static Run train(VaccineSettings settings, int libtorchThreads) {
        JniUtils.setNumThreads(libtorchThreads);
        VaccineStep step = new VaccineStep(settings, 7);
        TrainConfig config = TrainConfig.builder().learningRate(1e-2).maxSteps(3).batchSize(64).gradAccumSteps(1).seed(7)
                .maxLength(16).build();
        try (CausalLM model = CausalLM.load(Fixtures.get("llama-tiny"));
                LoraAdapter adapter = LoraAdapter.inject(model, LoraConfig.qv(4, 8).withDropout(0.1), 11);
                Trainer trainer = new Trainer(model, config).withStepFunction(step)) {
            trainer.fit(data(), null);
            Map<String, float[]> out = new LinkedHashMap<>();
            adapter.tensors().forEach((k, v) -> out.put(k, v.toFloatArray()));
            return new Run(out, step.stats().stream().mapToDouble(VaccineStep.StepStat::gradNorm).toArray(),
                    step.stats().stream().mapToDouble(VaccineStep.StepStat::loss).toArray());
        }
    }

    private static void assertSameBits(Run one, Run two) {
        assertArrayEquals(one.losses(), two.losses(), 0.0, "losses");
        assertArrayEquals(one.gradNorms(), two.gradNorms(), 0.0, "|g|");
        assertEquals(one.adapter().keySet(), two.adapter().keySet());
        one.adapter().forEach((k, v) -> assertArrayEquals(v, two.adapter().get(k), 0f, k));
    }

    @Test
    void theAdversarialStepIsTheSameOnOneAndTwoThreads() {
        VaccineSettings s = VaccineSettings.defaults();
        assertSameBits(train(s, 1), train(s, 2));
    }

    @Test
    void theRandomControlIsTheSameOnOneAndTwoThreads() {
        VaccineSettings s = VaccineSettings.defaults().withPerturbation(VaccineSettings.Perturbation.RANDOM);
        assertSameBits(train(s, 1), train(s, 2));
    }

    /** The squared norms Vaccine scales by: a plain sum of these 10^6 values differs on 1 and 2 threads. */
    @Test
    void theSquaredNormsAreTheSameOnOneAndTwoThreads() {
        Random r = new Random(1);
        float[] a = new float[1_000_000];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextGaussian();
        }
        float[] sums = new float[2];
        float[] plain = new float[2];
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(a, new Shape(1000, 1000));
            for (int n = 1; n <= 2; n++) {
                JniUtils.setNumThreads(n);
                sums[n - 1] = VaccineStep.sumsOfSquares(new NDArray[] {x})[0];
                plain[n - 1] = x.square().sum().getFloat();
            }
        }
        assertNotEquals(Float.floatToIntBits(plain[0]), Float.floatToIntBits(plain[1]), "the control: a plain sum follows the threads");
        assertEquals(Float.floatToIntBits(sums[0]), Float.floatToIntBits(sums[1]), sums[0] + " vs " + sums[1]);
        assertEquals(2, JniUtils.getNumThreads(), "the thread count is set back");
    }
}
