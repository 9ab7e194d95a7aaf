package io.safetune.safelora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.safetune.method.PostProcessInputs;
import io.safetune.method.PostProcessOutput;
import io.safetune.method.Score;
import io.safetune.method.Scorer;
import io.safetune.testing.Fixtures;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The knob rule on the fixture, with a validation "accuracy" that is each adapter's total ‖B‖ relative to
 * the adapter as trained (it falls as k grows), and a test scorer the rule must never read.
 */
class SafeLoraTuningTest {

    @TempDir
    Path tmp;

    private static final Path BASE = Fixtures.get("llama-tiny");
    private static final Path ALIGNED = Fixtures.get("llama-tiny-aligned");
    private static final Path ADAPTER = Fixtures.get("llama-tiny-lora");

    private static double normB(Path dir) {
        return SafeLoraSweepTest.normB(dir);
    }

    private final List<Path> testScored = new ArrayList<>();

    private PostProcessInputs inputs() {
        double trained = normB(ADAPTER);
        Scorer validation = dir -> new Score(Double.NaN, Double.NaN, normB(dir) / trained, 0, 100);
        Scorer test = dir -> {
            testScored.add(dir);
            return new Score(0.5, 0.5, 0.5, 10, 10);
        };
        return new PostProcessInputs(Optional.of(BASE), ALIGNED, ADAPTER, 3, test, validation,
                new PrintStream(OutputStream.nullOutputStream()));
    }

    private static SafeLoraSelection tolerance(double t) {
        return new SafeLoraSelection(null, null, null, null, t);
    }

    @Test
    void theLargestKWithinTheToleranceIsChosenOnValidationAndItsControlsTakeTheSameK() {
        SafeLoraTuning.Record probe = SafeLoraTuning.choose(inputs(), BASE, tolerance(1.0), tmp.resolve("probe"));
        int n = probe.curve().size();
        assertTrue(n >= 2);
        assertEquals(n, probe.chosenK(), "tolerance 1: every k qualifies");
        // a tolerance between two points of the curve: the rule takes the largest k above the floor
        double accAtOne = probe.curve().get(0).validationAccuracy();
        assertTrue(accAtOne < 1);
        double tol = (1 - accAtOne) * 1.01;
        int expected = 0;
        for (SafeLoraTuning.Point p : probe.curve()) {
            if (p.validationAccuracy() >= 1 - tol) {
                expected = p.k();
            }
        }
        Path out = tmp.resolve("safe");
        PostProcessOutput o = new SafeLoraDefence().postProcess(inputs(), tolerance(tol), out);
        SafeLoraTuning.Record t = SafeLoraTuning.Record.read(out);
        assertEquals(expected, t.chosenK());
        assertTrue(o.wroteAdapter());
        Path kth = tmp.resolve("k-expected");
        SafeLora.apply(BASE, ALIGNED, ADAPTER, tolerance(tol).withK(expected).config(), kth);
        assertEquals(normB(kth), normB(out), 1e-6, "the stage's adapter is k's projection");
        assertTrue(!Files.exists(out.resolve("tuning")), "the work adapters of the other k are not kept");
        // the k curve for the chart: as trained and every k, scored by the test scorer after the rule
        assertEquals(n + 1, o.variants().size());
        assertEquals(1, o.variants().stream().filter(v -> v.parameters().get("chosen") == 1.0).count());
        assertEquals(n + 1, testScored.size());

        Path scaled = tmp.resolve("uniform");
        new SafeLoraControl(SafeLoraControl.Kind.UNIFORM_SCALE).postProcess(inputs(),
                new SafeLoraControl.Settings(tolerance(tol), null), scaled);
        assertEquals(expected, SafeLoraTuning.Record.read(scaled).chosenK());
        double factor = SafeLoraControls.matchingScale(SafeLora.analyze(BASE, ALIGNED, ADAPTER, tolerance(tol).withK(expected).config()));
        assertEquals(factor * normB(ADAPTER), normB(scaled), 1e-5 * normB(ADAPTER), "scaled to Safe LoRA's update norm at the same k");
    }

    @Test
    void whenNoKQualifiesTheAdapterStaysAsTrained() throws Exception {
        Path out = tmp.resolve("none");
        new SafeLoraDefence().postProcess(inputs(), tolerance(0.0), out);
        assertEquals(0, SafeLoraTuning.Record.read(out).chosenK());
        assertEquals(normB(ADAPTER), normB(out), 1e-9);
        assertTrue(Files.isRegularFile(out.resolve("adapter_config.json")));
    }

    @Test
    void aToleranceExcludesAFixedKAndStaysInRange() {
        assertThrows(IllegalArgumentException.class, () -> new SafeLoraSelection(null, 3, null, null, 0.05));
        assertThrows(IllegalArgumentException.class, () -> new SafeLoraSelection(SafeLoraConfig.Mode.THRESHOLD, null, null, null, 0.05));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tolerance(-0.1));
        assertTrue(e.getMessage().startsWith("tolerance"), e.getMessage());
    }
}
