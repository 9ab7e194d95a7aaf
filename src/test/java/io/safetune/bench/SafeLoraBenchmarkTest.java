package io.safetune.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import io.safetune.checkpoint.AtomicFiles;
import io.safetune.checkpoint.DType;
import io.safetune.checkpoint.SafetensorsWriter;
import io.safetune.checkpoint.TensorStore;
import io.safetune.lora.PeftFormat;
import io.safetune.safelora.SafeLora;
import io.safetune.safelora.SafeLoraConfig;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Ours against the reference's dense algorithm on small shapes, and the benchmark's own plumbing. */
class SafeLoraBenchmarkTest {

    @TempDir
    Path tmp;

    /** Both algorithms on the benchmark's synthetic world (3 layers, 64 × 64 BF16, r = 4); returns the comparison. */
    private SafeLoraComparison runBoth(SafeLoraConfig cfg) {
        SafeLoraCheckpoints.Written w = SafeLoraCheckpoints.write(tmp.resolve("world"), 3, 64, 4, 7, 2);
        SafeLora.apply(w.base(), w.aligned(), w.adapter(), cfg, tmp.resolve("ours"));
        DenseSafeLora.run(w.base(), w.aligned(), w.adapter(), cfg, tmp.resolve("dense"));
        return SafeLoraComparison.of(tmp.resolve("ours"), tmp.resolve("dense"));
    }

    @Test
    void oursSelectsAndProjectsAsTheDenseAlgorithm() {
        SafeLoraComparison c = runBoth(SafeLoraConfig.number(2));
        assertTrue(c.sameSelection(), "only ours " + c.oursOnly() + ", only dense " + c.denseOnly());
        assertEquals(2, c.projected());
        assertEquals(6, c.weights());
        assertTrue(c.maxRelB() <= 1e-4, "max relative B difference " + c.maxRelB() + " at " + c.worstB());
        assertTrue(c.maxRelB() > 0, "projected B's were compared (fp32 and fp64 differ in the last bits)");
        assertTrue(c.maxCosDiff() < 1e-5, "cosine difference " + c.maxCosDiff());
        assertTrue(c.agrees(1e-4));
    }

    @Test
    void theComparisonCatchesADifferentSelectionAndADifferentB() throws Exception {
        SafeLoraConfig cfg = SafeLoraConfig.number(2);
        SafeLoraComparison same = runBoth(cfg);
        assertTrue(same.agrees(1e-4));
        // one more weight projected by ours: a different selection, and that weight's B differs wholesale
        Path world = tmp.resolve("world");
        SafeLora.apply(world.resolve("base"), world.resolve("aligned"), world.resolve("adapter"), SafeLoraConfig.number(3),
                tmp.resolve("ours3"));
        SafeLoraComparison more = SafeLoraComparison.of(tmp.resolve("ours3"), tmp.resolve("dense"));
        assertFalse(more.sameSelection());
        assertEquals(1, more.oursOnly().size());
        assertTrue(more.denseOnly().isEmpty());
        assertTrue(more.maxRelB() > 1e-2, "the extra projected B differs: " + more.maxRelB());
        assertFalse(more.agrees(1e-4));
        // the same selection, one projected B off by 1e-3 relative
        Path off = tmp.resolve("ours-off");
        Files.createDirectories(off);
        Files.copy(tmp.resolve("ours").resolve(SafeLora.REPORT_JSON), off.resolve(SafeLora.REPORT_JSON));
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        String scaled;
        try (TensorStore ours = TensorStore.open(tmp.resolve("ours").resolve(PeftFormat.WEIGHTS))) {
            scaled = ours.names().stream().filter(k -> k.contains("lora_B")).findFirst().orElseThrow();
            for (String key : ours.names()) {
                float[] v = ours.readFloats(key);
                if (key.equals(scaled)) {
                    for (int i = 0; i < v.length; i++) {
                        v[i] *= 1.001f;
                    }
                }
                entries.add(SafetensorsWriter.Entry.ofFloats(key, ours.info(key).shape(), () -> v, DType.F32));
            }
        }
        SafetensorsWriter.write(off.resolve(PeftFormat.WEIGHTS), entries, Map.of());
        SafeLoraComparison scaledB = SafeLoraComparison.of(off, tmp.resolve("dense"));
        assertTrue(scaledB.sameSelection());
        assertEquals(scaled, scaledB.worstB());
        assertEquals(1e-3, scaledB.maxRelB(), 1e-4);
        assertFalse(scaledB.agrees(1e-4));
    }

    /**
     * Rectangular weights of 300 × 1000 in F32, F16 and BF16: ours reads F32 and BF16 in blocks of rows
     * (here 131 and 262 rows a block, so blocks end inside the weight) and F16 whole; all agree with the
     * dense algorithm.
     */
    @Test
    void rectangularMultiBlockWeightsInEveryDtypeAgree() {
        int dOut = 300;
        int dIn = 1000;
        int r = 3;
        for (DType dtype : List.of(DType.F32, DType.F16, DType.BF16)) {
            Path dir = tmp.resolve(dtype.name());
            Random rng = new Random(11);
            try (NDManager m = NDManager.newBaseManager()) {
                List<SafetensorsWriter.Entry> base = new ArrayList<>();
                List<SafetensorsWriter.Entry> aligned = new ArrayList<>();
                List<SafetensorsWriter.Entry> lora = new ArrayList<>();
                for (int l = 0; l < 2; l++) {
                    String module = "model.layers." + l + ".self_attn.o_proj";
                    float[] wb = gaussian(rng, dOut * dIn, 0.02);
                    float[] wa = wb.clone();
                    float[] u = gaussian(rng, dOut, 1);
                    float[] v = gaussian(rng, dIn, 1);
                    for (int i = 0; i < dOut; i++) {
                        for (int j = 0; j < dIn; j++) {
                            wa[i * dIn + j] += 1e-3f * u[i] * v[j] + (float) (1e-4 * rng.nextGaussian());
                        }
                    }
                    base.add(entry(m, module + ".weight", wb, new long[] {dOut, dIn}, dtype));
                    aligned.add(entry(m, module + ".weight", wa, new long[] {dOut, dIn}, dtype));
                    float[] a = gaussian(rng, r * dIn, 0.03);
                    float[] b = gaussian(rng, dOut * r, 0.05);
                    lora.add(SafetensorsWriter.Entry.ofFloats(PeftFormat.key(module, 'A'), new long[] {r, dIn}, () -> a, DType.F32));
                    lora.add(SafetensorsWriter.Entry.ofFloats(PeftFormat.key(module, 'B'), new long[] {dOut, r}, () -> b, DType.F32));
                }
                SafetensorsWriter.write(dir.resolve("base").resolve(TensorStore.SINGLE), base, Map.of());
                SafetensorsWriter.write(dir.resolve("aligned").resolve(TensorStore.SINGLE), aligned, Map.of());
                SafetensorsWriter.write(dir.resolve("adapter").resolve(PeftFormat.WEIGHTS), lora, Map.of());
            }
            AtomicFiles.writeString(dir.resolve("adapter").resolve(PeftFormat.CONFIG),
                    "{\"peft_type\": \"LORA\", \"r\": " + r + ", \"lora_alpha\": 6, \"target_modules\": [\"o_proj\"]}");
            SafeLoraConfig cfg = SafeLoraConfig.threshold(1.0); // project both, so both B's are compared
            SafeLora.apply(dir.resolve("base"), dir.resolve("aligned"), dir.resolve("adapter"), cfg, dir.resolve("ours"));
            DenseSafeLora.run(dir.resolve("base"), dir.resolve("aligned"), dir.resolve("adapter"), cfg, dir.resolve("dense"));
            SafeLoraComparison c = SafeLoraComparison.of(dir.resolve("ours"), dir.resolve("dense"));
            assertEquals(2, c.projected(), dtype.name());
            assertTrue(c.agrees(1e-4), dtype + ": " + c);
            assertTrue(c.maxCosDiff() < 1e-5, dtype + ": " + c);
        }
    }

    private static SafetensorsWriter.Entry entry(NDManager m, String name, float[] x, long[] shape, DType dtype) {
        if (dtype == DType.F16) {
            NDArray a = m.create(x, new Shape(shape));
            return SafetensorsWriter.Entry.of(name, a, DType.F16);
        }
        return SafetensorsWriter.Entry.ofFloats(name, shape, () -> x, dtype);
    }

    private static float[] gaussian(Random rng, int n, double std) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (std * rng.nextGaussian());
        }
        return x;
    }

    @Test
    void theBenchmarkRunsBothInChildJvmsAndReports() {
        SafeLoraBenchmark bench = new SafeLoraBenchmark(2, 32, 2, SafeLoraConfig.number(1), 3, "256m");
        Path dir = tmp.resolve("bench");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        SafeLoraBenchmark.Report r = bench.run(dir, false, new PrintStream(log, true));
        assertTrue(r.comparison().agrees(SafeLoraBenchmark.B_TOLERANCE), r.toString());
        assertEquals(1, r.comparison().projected());
        assertTrue(r.ours().peakRssBytes() > 0 && r.dense().peakRssBytes() > 0, r.toString());
        assertTrue(r.ours().wallSeconds() >= r.ours().algorithmSeconds(), r.toString());
        assertTrue(r.comparison().sameSelection(), r.toString());
        // the verdict's time and memory targets are for 7B's shapes (a benchmark, not this test)
        assertTrue(r.toString().contains("same selection PASS"), r.toString());
        assertFalse(Files.exists(dir), "deleted without --keep");
    }

    @Test
    void badInputIsRefusedClearly() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> new SafeLoraBenchmark(0, 64, 4, SafeLoraConfig.defaults(), 0, "1g"));
        assertThrows(IllegalArgumentException.class, () -> new SafeLoraBenchmark(2, 64, 65, SafeLoraConfig.defaults(), 0, "1g"));
        assertThrows(IllegalArgumentException.class, () -> new SafeLoraBenchmark(2, 64, 4,
                SafeLoraConfig.defaults().withProjector(SafeLoraConfig.Projector.EXACT), 0, "1g"));
        assertThrows(IllegalArgumentException.class, () -> new SafeLoraBenchmark(2, 64, 4, SafeLoraConfig.defaults(), 0, "lots"));
        Path full = tmp.resolve("full");
        Files.createDirectories(full);
        Files.writeString(full.resolve("something"), "x");
        SafeLoraBenchmark bench = new SafeLoraBenchmark(1, 8, 2, SafeLoraConfig.defaults(), 0, "256m");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> bench.run(full, false, new PrintStream(new ByteArrayOutputStream())));
        assertTrue(e.getMessage().contains("not empty"), e.getMessage());
        assertTrue(Files.exists(full.resolve("something")), "a folder it did not create is left alone");
    }
}
