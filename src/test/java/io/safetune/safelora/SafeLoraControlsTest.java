package io.safetune.safelora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.safetune.checkpoint.TensorStore;
import io.safetune.testing.Fixtures;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/** The controls beside Safe LoRA: a random orthogonal projector and a uniform shrinkage to the same norm. */
class SafeLoraControlsTest {

    private static final String PREFIX = "base_model.model.";

    @TempDir
    Path tmp;

    @Test
    void orthonormalBasisIsOrthonormal() {
        int d = 50;
        int k = 8;
        double[] q = SafeLoraControls.orthonormal(d, k, new Random(3));
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
                double dot = 0;
                for (int row = 0; row < d; row++) {
                    dot += q[row * k + i] * q[row * k + j];
                }
                assertEquals(i == j ? 1 : 0, dot, 1e-12, "QᵀQ[" + i + "," + j + "]");
            }
        }
    }

    @Test
    void randomProjectionProjectsOnlyTheNamedWeightsAndIsIdempotent() {
        Path adapter = Fixtures.get("llama-tiny-lora");
        Path out = tmp.resolve("rand");
        String weight;
        List<String> keysB;
        try (TensorStore a = TensorStore.open(adapter.resolve(SafeLora.ADAPTER_WEIGHTS))) {
            keysB = a.names().stream().filter(n -> n.endsWith("lora_B.weight")).sorted().toList();
        }
        weight = keysB.get(0).substring(PREFIX.length()).replace(".lora_B.weight", ".weight");
        SafeLoraControls.randomProjection(adapter, List.of(weight), 2, 11, out);
        Path twice = tmp.resolve("twice");
        SafeLoraControls.randomProjection(out, List.of(weight), 2, 11, twice);
        try (TensorStore before = TensorStore.open(adapter.resolve(SafeLora.ADAPTER_WEIGHTS));
                TensorStore after = TensorStore.open(out.resolve(SafeLora.ADAPTER_WEIGHTS));
                TensorStore again = TensorStore.open(twice.resolve(SafeLora.ADAPTER_WEIGHTS))) {
            assertEquals(before.names(), after.names());
            for (String key : before.names()) {
                if (key.equals(keysB.get(0))) {
                    float[] b = before.readFloats(key);
                    float[] pb = after.readFloats(key);
                    assertNotEquals(norm(b), norm(pb), 1e-6);
                    assertTrue(norm(pb) < norm(b), "a projector never lengthens B");
                    assertArrayEquals(pb, again.readFloats(key), 1e-6f, "P(PB) = PB: the same Q, a true projector");
                } else {
                    assertArrayEquals(before.readFloats(key), after.readFloats(key), 0f, key + " must be untouched");
                }
            }
        }
        assertTrue(Files.exists(out.resolve(SafeLora.ADAPTER_CONFIG)));
    }

    @Test
    void uniformScaleAtTheMatchingFactorGivesSafeLorasTotalNorm() {
        Path base = Fixtures.get("llama-tiny");
        Path aligned = Fixtures.get("llama-tiny-aligned");
        Path adapter = Fixtures.get("llama-tiny-lora");
        SafeLoraResult projected = SafeLora.analyze(base, aligned, adapter, SafeLoraConfig.number(3));
        double c = SafeLoraControls.matchingScale(projected);
        assertTrue(c > 0 && c < 1, "projection shrinks the update: c = " + c);
        Path out = tmp.resolve("scaled");
        SafeLoraControls.uniformScale(adapter, c, out);
        SafeLoraResult scaled = SafeLora.analyze(base, aligned, out, SafeLoraConfig.number(3));
        double target = 0;
        double got = 0;
        for (int i = 0; i < projected.weights().size(); i++) {
            target += Math.pow(projected.weights().get(i).deltaNormAfter(), 2);
            got += Math.pow(scaled.weights().get(i).deltaNormBefore(), 2);
            // scaling leaves every cosine unchanged: the direction is the same
            assertEquals(projected.weights().get(i).cosine().orElse(9), scaled.weights().get(i).cosine().orElse(9), 1e-6);
        }
        assertEquals(Math.sqrt(target), Math.sqrt(got), 1e-5 * Math.sqrt(target));
    }

    @Test
    void badArgumentsAreNamed() {
        Path adapter = Fixtures.get("llama-tiny-lora");
        var e = assertThrows(IllegalArgumentException.class,
                () -> SafeLoraControls.randomProjection(adapter, List.of("model.layers.9.mlp.up_proj.weight"), 2, 1, tmp.resolve("x")));
        assertTrue(e.getMessage().contains("does not adapt model.layers.9.mlp.up_proj.weight"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SafeLoraControls.uniformScale(adapter, -1, tmp.resolve("y")));
        assertTrue(Files.notExists(tmp.resolve("x")) || !Files.exists(tmp.resolve("x").resolve(SafeLora.ADAPTER_WEIGHTS)));
    }

    private static double norm(float[] x) {
        double s = 0;
        for (float v : x) {
            s += (double) v * v;
        }
        return Math.sqrt(s);
    }
}
