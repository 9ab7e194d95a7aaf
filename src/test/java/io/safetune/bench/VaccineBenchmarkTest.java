package io.safetune.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;

import io.safetune.bench.VaccineBenchReport.ShapeResult;
import io.safetune.bench.VaccineBenchReport.VariantResult;
import io.safetune.bench.VaccineBenchmark.Kind;
import io.safetune.bench.VaccineBenchmark.ModelShape;
import io.safetune.bench.VaccineBenchmark.Preset;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The plumbing of {@code safetune bench vaccine} on a tiny shape (no timing is asserted): every variant
 * runs its steps in turns, K = 10 runs two passes on exactly ceil(steps/10) steps, plain's two runs do
 * the same work, the window holds whole refresh cycles, and bad settings are refused naming the field.
 */
class VaccineBenchmarkTest {

    /** d = 32, 2 layers of 2 heads, FFN 64, vocab 64, seq 16, batch 4. */
    static final ModelShape TINY = new ModelShape("tiny", 64, 32, 2, 2, 64, 16, 4);

    static VaccineBenchmark bench(int steps, int warmup, int chunk, List<Integer> refresh) {
        return new VaccineBenchmark(List.of(TINY), steps, warmup, chunk, 1, refresh, 2.0, true, 0, Device.cpu());
    }

    @Test
    void everyVariantRunsAndRefreshesOnSchedule() {
        VaccineBenchmark b = bench(25, 10, 7, List.of(10));
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        VaccineBenchReport r = b.run(new PrintStream(log, true));
        assertEquals(1, r.shapes().size());
        ShapeResult s = r.shapes().get(0);
        assertEquals(16, s.windowFirst(), "last floor((25 - 10)/10)*10 = 10 steps");
        assertEquals(25, s.windowLast());
        assertEquals(List.of("plain", "Vaccine (K=1)", "cheaper, K=10", "random control", "plain (again)"),
                s.variants().stream().map(v -> v.variant().label()).toList());
        for (VariantResult v : s.variants()) {
            assertTrue(v.medianMs() > 0 && v.meanMs() > 0, v.variant().label());
            assertTrue(Double.isFinite(v.finalLoss()), v.variant().label());
        }
        assertEquals(0, s.variant(Kind.PLAIN, 0).twoPassSteps());
        assertEquals(25, s.variant(Kind.VACCINE, 1).twoPassSteps());
        VariantResult k10 = s.variant(Kind.VACCINE, 10);
        assertEquals((25 + 9) / 10, k10.twoPassSteps(), "steps 0, 10 and 20 (0-based)");
        assertEquals(1, k10.twoPassInWindow(), "step 20 only");
        assertEquals(0, s.variant(Kind.RANDOM, 0).twoPassSteps());
        // same model, data and seeds: plain's two runs did the same work; Vaccine's step did other work
        List<VariantResult> plains = s.variants().stream().filter(v -> v.variant().kind() == Kind.PLAIN).toList();
        assertEquals(plains.get(0).finalLoss(), plains.get(1).finalLoss());
        assertNotEquals(plains.get(0).finalLoss(), s.variant(Kind.VACCINE, 1).finalLoss());
        // one Vaccine target, no K=100 target (100 not asked), an RSS target per variant
        assertEquals(1 + 5, r.targets().size());
        String text = r.toString();
        assertTrue(text.contains("Vaccine (K=1): mean step <= 1.90x plain's"), text);
        // turns of 7 steps: each variant reported steps 7, 14, 21 and 25
        assertTrue(log.toString().contains("tiny cheaper, K=10: step 14/25"), log.toString());
    }

    @Test
    void backToBackRunsEachVariantToItsEnd() {
        VaccineBenchReport r = new VaccineBenchmark(List.of(TINY), 12, 10, 0, 1, List.of(2), 2.0, false, 0, Device.cpu())
                .run(new PrintStream(new ByteArrayOutputStream()));
        ShapeResult s = r.shapes().get(0);
        assertEquals(4, s.variants().size());
        assertEquals(6, s.variant(Kind.VACCINE, 2).twoPassSteps());
        assertEquals(11, s.windowFirst());
    }

    @Test
    void windowHoldsWholeRefreshCycles() {
        assertEquals(100, VaccineBenchmark.cycle(List.of(10, 100)));
        assertEquals(60, VaccineBenchmark.cycle(List.of(4, 6, 10)));
        assertEquals(1, VaccineBenchmark.cycle(List.of()));
        assertEquals(101, bench(500, 20, 50, List.of(10, 100)).windowFirst(), "steps 101-500: 4 cycles of 100");
        assertEquals(21, bench(500, 20, 50, List.of()).windowFirst());
    }

    @Test
    void presetsHaveTheIssuesShapes() {
        ModelShape micro = Preset.parse("micro-world").shape();
        assertEquals(128, micro.hidden());
        assertEquals(4, micro.layers());
        assertEquals(40, micro.seqLen());
        ModelShape big = Preset.parse("d512").shape();
        assertEquals(List.of(512, 8, 128), List.of(big.hidden(), big.layers(), big.seqLen()));
        assertEquals(0, big.hidden() % big.heads());
    }

    @Test
    void badSettingsNameTheField() {
        assertField("steps", () -> bench(119, 20, 50, List.of(10, 100)));
        assertField("warmup", () -> bench(500, 9, 50, List.of(10)));
        assertField("refresh", () -> bench(500, 20, 50, List.of(1)));
        assertField("refresh", () -> bench(500, 20, 50, List.of(10, 10)));
        assertField("chunk", () -> bench(500, 20, -1, List.of(10)));
        assertField("threads", () -> new VaccineBenchmark(List.of(TINY), 500, 20, 50, 0, List.of(), 2.0, false, 0, Device.cpu()));
        assertField("rho", () -> new VaccineBenchmark(List.of(TINY), 500, 20, 50, 1, List.of(), 0.0, false, 0, Device.cpu()));
        assertField("shapes", () -> new VaccineBenchmark(List.of(), 500, 20, 50, 1, List.of(), 2.0, false, 0, Device.cpu()));
        assertField("shapes", () -> Preset.parse("d1024"));
        assertField("heads", () -> new ModelShape("x", 64, 30, 2, 4, 64, 16, 4));
        assertField("seqLen", () -> new ModelShape("x", 64, 32, 2, 2, 64, 1, 4));
        assertField("batch", () -> TINY.withBatch(0));
    }

    @Test
    void turnsAlternateAndAFailureStopsTheOthers() {
        List<String> order = Collections.synchronizedList(new ArrayList<>());
        List<Turns.Task> tasks = new ArrayList<>();
        for (String name : List.of("a", "b")) {
            tasks.add(turn -> {
                for (int i = 0; i < 3; i++) {
                    order.add(name + i);
                    if (i < 2) {
                        turn.pass();
                    }
                }
            });
        }
        Turns.run(tasks, List.of("a", "b"));
        assertEquals(List.of("a0", "b0", "a1", "b1", "a2", "b2"), order);

        boolean[] closed = {false};
        Turns.Task waits = turn -> {
            try {
                turn.pass();
                turn.pass();
            } finally {
                closed[0] = true;
            }
        };
        Turns.Task fails = turn -> {
            throw new IllegalArgumentException("boom");
        };
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Turns.run(List.of(waits, fails),
                List.of("waits", "fails")));
        assertEquals("boom", e.getMessage());
        assertTrue(closed[0], "the waiting task was interrupted and unwound");
    }

    private static void assertField(String field, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertNotNull(e.getMessage());
        assertTrue(e.getMessage().startsWith(field + ":"), e.getMessage());
    }
}
