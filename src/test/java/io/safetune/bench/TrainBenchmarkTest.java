package io.safetune.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;

import org.junit.jupiter.api.Test;

/** The training benchmark's report: its RSS readings and windows (figures, not timed targets). */
class TrainBenchmarkTest {

    @Test
    void aShortRunReportsRssReadingsAndWindowMedians() {
        TrainBenchmark.Result r = new TrainBenchmark(TrainBenchmark.Mode.LORA, 60, 16, 4, 0.05, Device.cpu(), null).run();
        assertEquals(60, r.lastStep());
        assertEquals(25, r.window(), "(60 - 9) / 2 steps per window when 100 do not fit twice");
        assertTrue(r.rssStep10Bytes() > 0 && r.rssFirstWindowBytes() > 0 && r.rssLastWindowBytes() > 0, r.toString());
        assertTrue(r.rssPeakBytes() >= r.rssLastWindowBytes() && r.rssPeakBytes() >= r.rssFirstWindowBytes(), r.toString());
        assertEquals(60, r.stepMs().size(), "one time per step"); 
        assertTrue(r.toString().contains("median RSS of steps 10-34"), r.toString());
        assertTrue(r.toString().contains("of steps 36-60"), r.toString());
    }

    @Test
    void theMedianOfAWindowIsTheMiddleReading() {
        long[] x = {0, 9, 5, 1, 7, 3};
        assertEquals(5, TrainBenchmark.median(x, 1, 4)); // {9, 5, 1} → 5
        assertEquals(7, TrainBenchmark.median(x, 1, 5)); // {9, 5, 1, 7} → the upper middle, 7
    }

    @Test
    void tooFewStepsAreRefusedNamingTheField() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> new TrainBenchmark(TrainBenchmark.Mode.FULL, 49, 48, 64, 0, Device.cpu(), null));
        assertTrue(e.getMessage().startsWith("steps:"), e.getMessage());
    }

    @Test
    void readsMinorFaultsPastACommandNameWithParentheses() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt ...
        String stat = "4242 (java (x) y) S 1 4242 4242 0 -1 4194560 123456 0 7 0 50 10";
        assertEquals(123456, TrainBenchmark.minorFaults(stat));
    }
}
