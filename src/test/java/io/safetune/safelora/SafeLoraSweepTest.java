package io.safetune.safelora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.safetune.checkpoint.TensorStore;
import io.safetune.testing.Fixtures;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The sweep's bookkeeping on the fixture, with a scorer that measures each adapter's total ‖B‖. */
class SafeLoraSweepTest {

    @TempDir
    Path tmp;

    /** Total ‖B‖ of an adapter folder. */
    static double normB(Path dir) {
        try (TensorStore s = TensorStore.open(dir.resolve(SafeLora.ADAPTER_WEIGHTS))) {
            double sum = 0;
            for (String k : s.names()) {
                if (k.endsWith("lora_B.weight")) {
                    for (float v : s.readFloats(k)) {
                        sum += (double) v * v;
                    }
                }
            }
            return Math.sqrt(sum);
        }
    }

    @Test
    void everyKHasSafeLoraAndBothControlsAndRepeatedSelectionsAreScoredOnce() {
        Path base = Fixtures.get("llama-tiny");
        Path aligned = Fixtures.get("llama-tiny-aligned");
        Path adapter = Fixtures.get("llama-tiny-lora");
        List<Path> scored = new ArrayList<>();
        SafeLoraSweep.Scorer scorer = dir -> {
            scored.add(dir);
            return new SafeLoraSweep.Score(normB(dir), 0, 1);
        };
        SafeLoraSweep.Config cfg = SafeLoraSweep.Config.defaults().withTaus(List.of(-1.0, 1.0));
        SafeLoraSweep.Result r = SafeLoraSweep.run(base, aligned, adapter, cfg, scorer, tmp);
        int n = (int) r.analysis().weights().stream().filter(w -> w.cosine().isPresent()).count();
        assertTrue(n >= 2);
        assertEquals(n, r.of(SafeLoraSweep.Method.SAFE_LORA).size());
        assertEquals(n, r.of(SafeLoraSweep.Method.RANDOM_PROJECTION).size());
        assertEquals(n, r.of(SafeLoraSweep.Method.UNIFORM_SCALE).size());
        // tau = -1 projects nothing new; tau = 1 projects all, the same selection as k = n: reused
        assertEquals(1 + 3 * n + 1, scored.size(), "tau = 1 must reuse k = all; tau = -1 selects nothing (one score)");
        double trained = normB(adapter);
        assertEquals(trained, r.of(SafeLoraSweep.Method.NONE).get(0).harmfulScore(), 1e-9);
        for (int i = 0; i < n; i++) {
            SafeLoraSweep.Point safe = r.of(SafeLoraSweep.Method.SAFE_LORA).get(i);
            SafeLoraSweep.Point rand = r.of(SafeLoraSweep.Method.RANDOM_PROJECTION).get(i);
            SafeLoraSweep.Point scale = r.of(SafeLoraSweep.Method.UNIFORM_SCALE).get(i);
            assertEquals(i + 1, safe.k());
            assertEquals(safe.projected(), rand.projected(), "the random control projects the same weights");
            assertEquals(safe.normRatio(), scale.normRatio(), 1e-12, "uniform scale matches Safe LoRA's norm");
            // the scorer saw ‖B‖ of the scaled adapter: exactly the factor times the original
            assertEquals(scale.normRatio() * trained, scale.harmfulScore(), 1e-5 * trained);
            assertTrue(rand.normRatio() < 1 && safe.normRatio() < 1);
        }
        SafeLoraSweep.Point all = r.of(SafeLoraSweep.Method.SAFE_LORA).get(n - 1);
        SafeLoraSweep.Point tauAll = r.of(SafeLoraSweep.Method.SAFE_LORA_TAU).get(1);
        assertEquals(all.projected(), tauAll.projected());
        assertEquals(all.harmfulScore(), tauAll.harmfulScore());
        assertEquals(0, r.of(SafeLoraSweep.Method.SAFE_LORA_TAU).get(0).numProjected());
        assertEquals(r.points().size(), r.table().rowCount());
        assertEquals(4, r.charts().size()); // harm vs k, accuracy vs k, safety against utility, cosines
    }
}
