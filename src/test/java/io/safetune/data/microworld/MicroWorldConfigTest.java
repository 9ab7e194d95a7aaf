package io.safetune.data.microworld;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MicroWorldConfigTest {

    @Test
    void defaultsAreThePrototypesWithTwiceTheRefusals() {
        MicroWorldConfig c = MicroWorldConfig.defaults(5);
        assertEquals(5, c.seed());
        assertEquals(20_000, c.pretrainBenign() + c.pretrainHarmful());
        assertEquals(4_000, c.alignRefusals());
        assertEquals(2_000, c.alignBenign());
        assertEquals(200, c.evalPerTask());
        assertEquals(c, MicroWorldConfig.defaults(9).withSeed(5));
    }

    @Test
    void badValuesNameTheField() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new MicroWorldConfig(1, -1, 0, 0, 0, 0, 0, 1, 1, 0.1, 0.1));
        assertEquals("pretrainBenign must be >= 0, got -1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new MicroWorldConfig(1, 0, 0, 0, 0, 0, 0, 1, 1, 0.1, 0.9));
        assertEquals("heldOutTemplateFraction must be in [0, 0.5], got 0.9", e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new MicroWorldConfig(1, 0, 0, 0, 0, 0, 0, 1, 1, Double.NaN, 0.1));
    }

    @Test
    void impossibleSizesFailWithTheField() {
        // Only about 11,500 distinct harmful training prompts exist.
        MicroWorldConfig c = new MicroWorldConfig(1, 0, 0, 14_000, 0, 0, 0, 1, 1, 0.1, 0.25);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MicroWorld.generate(c));
        assertTrue(e.getMessage().startsWith("alignRefusals = 14000"), e.getMessage());
    }
}
