package io.safetune.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
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
        assertEquals(StageStore.hash(MicroWorldSource.PretrainingKey.of(defaults)), StageStore.hash(MicroWorldSource.PretrainingKey.of(moreRefusals)));
        assertNotEquals(StageStore.hash(defaults), StageStore.hash(moreRefusals), "the aligned stage still sees the change");
        assertNotEquals(StageStore.hash(MicroWorldSource.PretrainingKey.of(defaults)),
                StageStore.hash(MicroWorldSource.PretrainingKey.of(ExperimentConfig.WorldSpec.DEFAULT.world(6))));
        assertEquals(io.safetune.data.microworld.MicroWorld.version(), MicroWorldSource.PretrainingKey.of(defaults).world(),
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

    /** A named combination's products are an unnamed entry's too (e.g. its Vaccine-aligned model): built once. */
    @Test
    void aStageOfTheSameHashUnderAnotherNameIsReused() {
        AtomicInteger produced = new AtomicInteger();
        StageStore.Producer p = dir -> {
            produced.incrementAndGet();
            Files.writeString(dir.resolve("w.txt"), "weights");
        };
        StageStore.Stage first = new StageStore(tmp, false).getOrProduce("aligned-vaccine-s0", List.of(1, 2), p);
        StageStore.Stage twin = new StageStore(tmp, false).getOrProduce("aligned-named-s0", List.of(1, 2), p);
        assertEquals(1, produced.get());
        assertTrue(twin.reused());
        assertEquals(first.dir(), twin.dir());
        assertEquals("aligned-named-s0", twin.name());
        new StageStore(tmp, false).getOrProduce("aligned-named-s0", List.of(1, 3), p);
        assertEquals(2, produced.get(), "another hash is another stage, whatever the name");
        assertFalse(new StageStore(tmp, true).getOrProduce("aligned-other-s0", List.of(1, 2), p).reused(), "--fresh redoes it");
    }

    @Test
    void anInterruptedStageLeavesNothingThatLooksFinished() throws IOException {
        StageStore store = new StageStore(tmp, false);
        assertThrows(UncheckedIOException.class, () -> store.getOrProduce("aligned", "cfg", dir -> {
            Files.writeString(dir.resolve("half.safetensors"), "half");
            throw new IOException("killed");
        }));
        String hash = store.key("cfg");
        assertTrue(store.finished("aligned", hash).isEmpty());
        assertEquals(List.of(), entries(), "no stage folder and no temporary folder");
        // temporary folders left by a killed JVM (this version's and an older one's) are cleaned up
        Files.createDirectories(tmp.resolve(".tmp-aligned-" + hash + "-999999-0badf00d").resolve("sub"));
        Files.createDirectories(tmp.resolve(".old-aligned-" + hash + "-999999-0badf00d"));
        Files.createDirectories(tmp.resolve(".tmp-aligned-" + hash));
        new StageStore(tmp, false);
        assertEquals(List.of(), entries());
    }

    /** What the store holds besides its lock files. */
    private List<String> entries() throws IOException {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.equals(StageLock.FOLDER)).sorted().toList();
        }
    }

    @Test
    void aStageWithAMissingOrChangedFileIsBuiltAgain() throws IOException {
        AtomicInteger produced = new AtomicInteger();
        StageStore.Producer p = dir -> {
            produced.incrementAndGet();
            Files.writeString(dir.resolve("model.safetensors"), "weights");
            Files.createDirectories(dir.resolve("sub"));
            Files.writeString(dir.resolve("sub").resolve("tokenizer.json"), "{}");
        };
        StageStore.Stage s = new StageStore(tmp, false).getOrProduce("base", "cfg", p);
        Files.delete(s.dir().resolve("sub").resolve("tokenizer.json"));
        assertTrue(new StageStore(tmp, false).finished("base", s.hash()).isEmpty(), "a stage missing a file is not finished");
        assertFalse(new StageStore(tmp, false).getOrProduce("base", "cfg", p).reused());
        assertEquals(2, produced.get());
        Files.writeString(s.dir().resolve("model.safetensors"), "trunc");
        assertFalse(new StageStore(tmp, false).getOrProduce("base", "cfg", p).reused(), "a file of another size");
        assertEquals(3, produced.get());
        assertTrue(new StageStore(tmp, false).getOrProduce("base", "cfg", p).reused());
        // a stage.json without a file list (an older version's) cannot be verified: built again
        Files.writeString(s.dir().resolve(StageStore.MARKER), "{\"stage\": \"base\"}");
        assertFalse(new StageStore(tmp, false).getOrProduce("base", "cfg", p).reused());
        assertEquals(List.of("base-" + s.hash()), entries());
    }

    @Test
    void aSecondRunWaitsForTheStageTheFirstIsBuildingAndReusesIt() throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger produced = new AtomicInteger();
        StageStore.Producer slow = dir -> {
            produced.incrementAndGet();
            inside.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
            Files.writeString(dir.resolve("w.txt"), "weights");
        };
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<StageStore.Stage> first = pool.submit(() -> new StageStore(tmp, false).getOrProduce("base", "cfg", slow));
            assertTrue(inside.await(10, TimeUnit.SECONDS));
            // a live run's temporary folder survives another run's start-up clean-up
            List<String> during = entries();
            assertTrue(during.stream().anyMatch(n -> n.startsWith(".tmp-base-")), during.toString());
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            StageStore second = new StageStore(tmp, false, new PrintStream(log, true, StandardCharsets.UTF_8));
            assertEquals(during, entries());
            Future<StageStore.Stage> other = pool.submit(() -> second.getOrProduce("base", "cfg", slow));
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!log.toString(StandardCharsets.UTF_8).contains("waiting") && System.nanoTime() < until) {
                Thread.sleep(10);
            }
            assertTrue(log.toString(StandardCharsets.UTF_8).contains("another run is building"), log.toString());
            assertFalse(other.isDone());
            release.countDown();
            assertFalse(first.get(10, TimeUnit.SECONDS).reused());
            StageStore.Stage reused = other.get(10, TimeUnit.SECONDS);
            assertTrue(reused.reused(), "the waiting run reuses the stage instead of building it again");
            assertEquals(1, produced.get());
            assertEquals("weights", Files.readString(reused.dir().resolve("w.txt")));
            assertEquals(List.of("base-" + reused.hash()), entries());
        } finally {
            release.countDown();
            pool.shutdownNow();
        }
    }

    @Test
    void workFoldersAreMatchedToTheirStage() {
        assertEquals("eval-attacked-p0.10-s0-0123456789ab", StageStore.workStage(".tmp-eval-attacked-p0.10-s0-0123456789ab-4242-0a1b2c3d"));
        assertEquals("base-0123456789ab", StageStore.workStage(".old-base-0123456789ab-1-ffffffff"));
        assertEquals("base-0123456789ab", StageStore.workStage(".tmp-base-0123456789ab"));
        assertEquals(null, StageStore.workStage("base-0123456789ab"));
        assertEquals(null, StageStore.workStage(StageLock.FOLDER));
        // a folder AtomicFolders writes inside a stage being built
        assertEquals("base-0123456789ab", StageStore.workStage("..tmp-base-0123456789ab-4242-0a1b2c3d.tmp-4242-00ff"));
        assertEquals("base-0123456789ab", StageStore.workStage("..tmp-base-0123456789ab-4242-0a1b2c3d.old-4242-00ff"));
    }

    /** The default alignment gained a setting (flow); its default must leave every cached stage's key as it was. */
    @Test
    void theDefaultAlignmentsFlowLeavesStageKeysAsTheyWere() {
        Object before = List.of("ALIGN", "sft", new io.safetune.method.NoSettings());
        assertEquals(StageStore.hash(before), StageStore.hash(List.of("ALIGN", "sft", io.safetune.standard.SftSettings.defaults())));
        assertNotEquals(StageStore.hash(before), StageStore.hash(List.of("ALIGN", "sft",
                new io.safetune.standard.SftSettings(io.safetune.method.AlignFlow.LORA))));
    }
}
