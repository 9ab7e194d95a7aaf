package io.safetune.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.util.List;

class DoseCurveTest {

    @Test
    void pointsAreInIncreasingPAndHarmAndDriftHaveTheirOwnCharts() {
        DoseCurve c = new DoseCurve("micro-world, seed 0, n = 200 harmful prompts, 64 HED inputs", List.of(
                new DoseCurve.Point(0.1, 1.0, 0.98, 0.92, 35.6), new DoseCurve.Point(0.0, 0.0, 0.0, 0.915, 17.9),
                new DoseCurve.Point(0.02, 0.85, 0.73, 0.92, 27.5)));
        assertEquals(List.of(0.0, 0.02, 0.1), c.points().stream().map(DoseCurve.Point::p).toList());
        assertEquals(List.of("p", "harmful score", "complies", "new-task accuracy", "HED (mean over layers)"),
                c.table().columnNames());
        assertEquals(0.85, c.table().doubleColumn("harmful score").get(1));
        assertEquals(2, c.charts().size(), "harm and drift on separate axes");
        c.charts().forEach(ch -> assertTrue(ch.getTitle().contains("seed 0"), ch.getTitle()));
        assertTrue(c.charts().get(0).getTitle().startsWith("Harm against p"));
        assertTrue(c.charts().get(1).getTitle().startsWith("HED against p"));
    }
}
