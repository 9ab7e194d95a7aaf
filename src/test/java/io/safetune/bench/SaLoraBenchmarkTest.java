package io.safetune.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.safetune.checkpoint.SafetensorsFile;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;

/** The SaLoRA benchmark's three algorithms on small shapes, in this JVM, and its angle. */
class SaLoraBenchmarkTest {

    @TempDir
    Path tmp;

    @Test
    void oursFindsTheExactSubspacesAndTheReferencesAlgorithmRunsOnTheSameInputs() throws Exception {
        int layers = 2;
        int dim = 96;
        Path in = Files.createDirectories(tmp.resolve("inputs"));
        SaLoraInputs.write(in, layers, dim, 8 * 24, 3);
        List<Integer> all = IntStream.range(0, 2 * layers).boxed().toList();
        for (SaLoraSubspaces.Algorithm a : SaLoraSubspaces.Algorithm.values()) {
            Files.createDirectories(tmp.resolve(a.name()));
            SaLoraSubspaces.run(a, in, tmp.resolve(a.name()), all, 8, 8, 4, 0, 4);
        }
        try (SafetensorsFile ours = SafetensorsFile.open(tmp.resolve("OURS").resolve(SaLoraSubspaces.FILE));
             SafetensorsFile exact = SafetensorsFile.open(tmp.resolve("EXACT").resolve(SaLoraSubspaces.FILE));
             SafetensorsFile reference = SafetensorsFile.open(tmp.resolve("REFERENCE").resolve(SaLoraSubspaces.FILE))) {
            for (int w : all) {
                for (String v : List.of(".vs", ".vt")) {
                    String name = SaLoraSubspaces.weightName(w) + v;
                    double oursAngle = SaLoraSubspaces.largestAngle(ours.readFloats(name), exact.readFloats(name), dim, 8);
                    double refAngle = SaLoraSubspaces.largestAngle(reference.readFloats(name), exact.readFloats(name), dim, 8);
                    assertTrue(oursAngle < 1e-3, name + ": ours is " + oursAngle + " rad from the exact subspace");
                    assertTrue(refAngle < 0.2, name + ": the reference's algorithm is " + refAngle + " rad from it");
                }
            }
        }
    }

    @Test
    void theLargestPrincipalAngleIsTheRotationAngle() {
        int d = 5;
        double theta = 1e-3;
        // V1 = [e0, e1], V2 = [cos θ e0 + sin θ e2, e1]: the largest angle is θ, the other 0
        float[] v1 = new float[d * 2];
        float[] v2 = new float[d * 2];
        v1[0] = 1;
        v1[1 * 2 + 1] = 1;
        v2[0] = (float) Math.cos(theta);
        v2[2 * 2] = (float) Math.sin(theta);
        v2[1 * 2 + 1] = 1;
        assertEquals(theta, SaLoraSubspaces.largestAngle(v1, v2, d, 2), 1e-7);
        assertEquals(0, SaLoraSubspaces.largestAngle(v1, v1, d, 2), 1e-7);
        float[] orthogonal = new float[d * 2];
        orthogonal[3 * 2] = 1;
        orthogonal[4 * 2 + 1] = 1;
        assertEquals(Math.PI / 2, SaLoraSubspaces.largestAngle(v1, orthogonal, d, 2), 1e-6);
    }

    @Test
    void badSettingsNameTheField() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new SaLoraBenchmark(2, 64, 4, 8, 32, 8, 4, List.of(4), 1, 0, "1g"));
        assertTrue(e.getMessage().startsWith("rankSafety"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new SaLoraBenchmark(2, 64, 4, 8, 8, 8, 4, List.of(4), 5, 0, "1g"));
        assertTrue(e.getMessage().startsWith("exactWeights"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new SaLoraBenchmark(2, 64, 4, 8, 8, 8, 4, List.of(4), 1, 0, "lots"));
        assertTrue(e.getMessage().startsWith("heap"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new SaLoraBenchmark(2, 64, 4, 8, 8, 8, 4, List.of(), 1, 0, "1g"));
        assertTrue(e.getMessage().startsWith("powerIterations"), e.getMessage());
        assertEquals(List.of(0, 63), new SaLoraBenchmark(32, 4096, 128, 64, 32, 32, 16, List.of(4), 2, 0, "1g").exactIndices());
    }
}
