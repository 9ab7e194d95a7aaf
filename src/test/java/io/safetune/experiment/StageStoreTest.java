package io.safetune.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

class StageStoreTest {

    @TempDir
    Path tmp;

    @Test
    void hashIsStableAndSensitiveToConfigAndUpstream() {
        String a = StageStore.hash(Map.of("lr", 1e-3, "steps", 10));
        assertEquals(a, StageStore.hash(new java.util.TreeMap<>(Map.of("steps", 10, "lr", 1e-3))));
        assertNotEquals(a, StageStore.hash(Map.of("lr", 2e-3, "steps", 10)));
        assertNotEquals(a, StageStore.hash(Map.of("lr", 1e-3, "steps", 10), "upstream"));
        assertEquals(a, StageStore.hash(ExperimentConfigTest.Cfg.of(1e-3, 10)));
    }

    @Test
    void baseIsKeyedOnWhatItsDataDependsOn() {
        var defaults = ExperimentConfig.WorldSpec.DEFAULT.world(5);
        var moreRefusals = new ExperimentConfig.WorldSpec(3000, 1000).world(5);
        // the key's premise: alignment sizes do not change the pretraining split
        assertEquals(io.safetune.data.microworld.MicroWorld.generate(defaults).pretraining(),
                io.safetune.data.microworld.MicroWorld.generate(moreRefusals).pretraining());
        assertEquals(StageStore.hash(Pipeline.pretrainingKey(defaults)), StageStore.hash(Pipeline.pretrainingKey(moreRefusals)));
        assertNotEquals(StageStore.hash(defaults), StageStore.hash(moreRefusals), "the aligned stage still sees the change");
        assertNotEquals(StageStore.hash(Pipeline.pretrainingKey(defaults)),
                StageStore.hash(Pipeline.pretrainingKey(ExperimentConfig.WorldSpec.DEFAULT.world(6))));
        assertEquals(io.safetune.data.microworld.MicroWorld.version(), Pipeline.pretrainingKey(defaults).world(),
                "a changed word or template must retrain base");
    }

    @Test
    void reusesFinishedStagesAndRedoesThemWhenFresh() {
        AtomicInteger produced = new AtomicInteger();
        StageStore.Producer p = dir -> {
            produced.incrementAndGet();
            Files.writeString(dir.resolve("w.txt"), "weights");
        };
        StageStore.Stage s1 = new StageStore(tmp, false).getOrProduce("base", List.of(1, 2), p);
        StageStore.Stage s2 = new StageStore(tmp, false).getOrProduce("base", List.of(1, 2), p);
        assertFalse(s1.reused());
        assertTrue(s2.reused());
        assertEquals(1, produced.get());
        assertTrue(Files.isRegularFile(s2.dir().resolve("w.txt")));
        assertTrue(Files.isRegularFile(s2.dir().resolve(StageStore.MARKER)));
        new StageStore(tmp, false).getOrProduce("base", List.of(1, 3), p);
        assertEquals(2, produced.get(), "a changed config is a new stage");
        assertFalse(new StageStore(tmp, true).getOrProduce("base", List.of(1, 2), p).reused());
        assertEquals(3, produced.get());
    }

    @Test
    void anInterruptedStageLeavesNothingThatLooksFinished() throws IOException {
        StageStore store = new StageStore(tmp, false);
        assertThrows(UncheckedIOException.class, () -> store.getOrProduce("aligned", "cfg", dir -> {
            Files.writeString(dir.resolve("half.safetensors"), "half");
            throw new IOException("killed");
        }));
        String hash = StageStore.hash("cfg");
        assertTrue(store.finished("aligned", hash).isEmpty());
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of(), s.toList(), "no stage folder and no temporary folder");
        }
        // a temporary folder left by a killed JVM is cleaned up by the next run
        Files.createDirectories(tmp.resolve(".tmp-aligned-" + hash));
        new StageStore(tmp, false);
        assertFalse(Files.exists(tmp.resolve(".tmp-aligned-" + hash)));
    }
}
