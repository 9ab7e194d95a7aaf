package io.safetune.eval;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class WilsonTest {

    @Test
    void knownValues() {
        // references: the Wilson score interval at z = 1.96 (e.g. R's binom::binom.wilson)
        Wilson none = Wilson.of(0, 200);
        assertEquals(0, none.low(), 1e-12);
        assertEquals(0.0188, none.high(), 5e-5);
        Wilson half = Wilson.of(100, 200);
        assertEquals(0.4314, half.low(), 5e-5);
        assertEquals(0.5686, half.high(), 5e-5);
        Wilson all = Wilson.of(10, 10);
        assertEquals(0.7225, all.low(), 5e-5);
        assertEquals(1, all.high(), 1e-12);
    }

    @Test
    void rateAndHalfWidth() {
        assertEquals(Wilson.of(100, 200), Wilson.ofRate(0.5, 200));
        // at 0 the interval is one-sided: the half-width covers it up to its upper bound
        assertEquals(Wilson.of(0, 200).high(), Wilson.of(0, 200).halfWidthAround(0), 1e-12);
    }

    @Test
    void rejectsImpossibleCounts() {
        assertThrows(IllegalArgumentException.class, () -> Wilson.of(1, 0));
        assertThrows(IllegalArgumentException.class, () -> Wilson.of(3, 2));
        assertThrows(IllegalArgumentException.class, () -> Wilson.of(-1, 2));
    }
}
