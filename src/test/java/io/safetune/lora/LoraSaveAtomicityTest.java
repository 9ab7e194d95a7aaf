package io.safetune.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.safetune.checkpoint.AtomicFolders;
import io.safetune.checkpoint.TensorStore;
import io.safetune.model.CausalLM;
import io.safetune.testing.Fixtures;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/** A re-run into an existing adapter folder never pairs new weights with the old config. */
class LoraSaveAtomicityTest {

    @TempDir
    Path tmp;

    /** An adapter of alpha {@code alpha} (r 8, so scaling alpha/8) whose every B value is {@code mark}. */
    private static LoraAdapter adapter(CausalLM model, double alpha, float mark) {
        LoraAdapter a = LoraAdapter.inject(model, LoraConfig.qv(8, alpha), 1);
        a.layers().values().forEach(l -> l.b().addi(mark));
        return a;
    }

    @Test
    void aSaveKilledMidwayLeavesThePreviousAdapterLoadableWithItsOwnScaling() throws Exception {
        Path out = tmp.resolve("out");
        try (CausalLM model = CausalLM.load(Fixtures.get("llama-tiny"))) {
            try (LoraAdapter first = adapter(model, 16, 1f)) {
                first.save(out);
            }
            try (LoraAdapter second = adapter(model, 64, 2f)) {
                // the body LoraAdapter.save runs, dying after the weights: where the old code had
                // renamed the new weights in beside the old config
                assertThrows(UncheckedIOException.class, () -> AtomicFolders.writeFolder(out, tmp -> {
                    second.writeFiles(tmp);
                    throw new IOException("simulated kill after adapter_model.safetensors");
                }));
            }
            try (LoraAdapter back = LoraAdapter.load(model, out)) {
                assertEquals(2.0, back.layers().values().iterator().next().scaling(), 0, "alpha 16 / r 8");
                assertEquals(1f, back.layers().values().iterator().next().b().toFloatArray()[0], 0);
            }
            try (Stream<Path> s = Files.list(tmp)) {
                assertEquals(List.of("out"), s.map(p -> p.getFileName().toString()).toList());
            }
        }
    }

    @Test
    void aStaleTemporaryOfAKilledSaveIsCleanedAndNeverRead() throws Exception {
        Path out = tmp.resolve("out");
        Process exited = new ProcessBuilder("true").start();
        exited.waitFor();
        long dead = exited.pid();
        assertTrue(ProcessHandle.of(dead).isEmpty());
        Path stale = tmp.resolve(".out.tmp-" + dead + "-abc123");
        Path live = tmp.resolve(".out.tmp-" + ProcessHandle.current().pid() + "-abc124");
        try (CausalLM model = CausalLM.load(Fixtures.get("llama-tiny"))) {
            try (LoraAdapter killed = adapter(model, 64, 2f)) {
                Files.createDirectory(stale);
                Files.copy(Path.of("pom.xml"), stale.resolve("junk"));
                Files.createDirectory(live);
                killed.writeFiles(live);
            }
            try (LoraAdapter a = adapter(model, 16, 1f)) {
                a.save(out);
            }
            assertFalse(Files.exists(stale), "the dead writer's temporary is removed");
            assertTrue(Files.isRegularFile(live.resolve(PeftFormat.WEIGHTS)), "a live writer's temporary is untouched");
            try (LoraAdapter back = LoraAdapter.load(model, out)) {
                assertEquals(2.0, back.config().scaling(), 0);
            }
        }
    }

    @Test
    void savingIntoARunFolderKeepsItsOtherEntries() throws Exception {
        Path out = tmp.resolve("run");
        Files.createDirectories(out.resolve("checkpoints/checkpoint-3"));
        Files.writeString(out.resolve("checkpoints/checkpoint-3/trainer_state.json"), "{}");
        try (CausalLM model = CausalLM.load(Fixtures.get("llama-tiny")); LoraAdapter a = adapter(model, 16, 1f)) {
            a.save(out);
        }
        assertEquals("{}", Files.readString(out.resolve("checkpoints/checkpoint-3/trainer_state.json")));
        assertTrue(Files.isRegularFile(out.resolve(PeftFormat.CONFIG)));
    }

    @Test
    void concurrentSavesOfTwoAdaptersLeaveOneWholeAdapter() throws Exception {
        Path out = tmp.resolve("out");
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (CausalLM m1 = CausalLM.load(Fixtures.get("llama-tiny"));
                CausalLM m2 = CausalLM.load(Fixtures.get("llama-tiny"));
                LoraAdapter a16 = adapter(m1, 16, 1f);
                LoraAdapter a64 = adapter(m2, 64, 2f)) {
            List<Future<?>> saves = new ArrayList<>();
            for (LoraAdapter a : List.of(a16, a64)) {
                saves.add(pool.submit(() -> {
                    for (int i = 0; i < 8; i++) {
                        a.save(out);
                    }
                    return null;
                }));
            }
            for (Future<?> f : saves) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        try (CausalLM model = CausalLM.load(Fixtures.get("llama-tiny")); LoraAdapter back = LoraAdapter.load(model, out);
                TensorStore s = TensorStore.open(out.resolve(PeftFormat.WEIGHTS))) {
            float mark = s.readFloats("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight")[0];
            // alpha 16 ↔ B = 1, alpha 64 ↔ B = 2: a mix pairs one's weights with the other's config
            assertEquals(mark == 1f ? 2.0 : 8.0, back.config().scaling(), 0, "B = " + mark);
        }
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of("out"), s.map(p -> p.getFileName().toString()).toList(), "no temporaries left");
        }
    }
}
