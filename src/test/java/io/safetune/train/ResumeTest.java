package io.safetune.train;

import io.safetune.data.TrainingExample;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static io.safetune.train.TrainerTest.DATA;
import static io.safetune.train.TrainerTest.assertBitIdentical;
import static io.safetune.train.TrainerTest.config;
import static io.safetune.train.TrainerTest.snapshot;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Checkpoint layout, atomicity, pruning, and bit-exact resume (dropout on: the RNG matters). */
class ResumeTest {

    /** 24 examples, 3 steps per epoch, 3 epochs = 9 steps, checkpoints at 2, 4, 6, 8 and 9. */
    private static TrainConfig checkpointing() {
        return config().checkpointEvery(2).keepCheckpoints(10).build();
    }

    private static TrainerTest.Run fullRun(Path dir) {
        try (TinyLM model = TinyLM.small(3);
             Trainer t = new Trainer(model, checkpointing()).withCheckpointDir(dir)) {
            return new TrainerTest.Run(t.fit(DATA, TrainListener.NONE), snapshot(model));
        }
    }

    @Test
    void resumedRunIsBitIdenticalToTheUninterruptedOne(@TempDir Path tmp) throws IOException {
        TrainerTest.Run full = fullRun(tmp.resolve("a"));
        assertEquals(List.of(2L, 4L, 6L, 8L, 9L),
                Checkpoints.list(tmp.resolve("a")).stream().map(Checkpoints::step).toList());
        // resume from a copy, into a model initialised differently (its weights must be overwritten)
        Path copy = copyTree(tmp.resolve("a/checkpoint-4"), tmp.resolve("b/checkpoint-4"));
        try (TinyLM other = TinyLM.small(99)) {
            Map<String, NDArray> before = new java.util.LinkedHashMap<>(other.trainableParameters());
            TrainerTest.Recorder rec = new TrainerTest.Recorder();
            TrainResult resumed = Trainer.resume(copy, other, DATA, rec);
            assertEquals(4, resumed.startStep());
            assertEquals(4, rec.start.startStep());
            assertEquals(5, rec.steps.size());
            assertBitIdentical(full, new TrainerTest.Run(resumed, snapshot(other)));
            assertEquals(full.result().learningRates(), resumed.learningRates());
            before.forEach((name, p) -> {
                assertSame(p, other.trainableParameters().get(name), "loaded in place");
                assertTrue(p.hasGradient(), name + " still requires a gradient");
            });
            assertEquals(List.of(6L, 8L, 9L), rec.checkpoints);
        }
    }

    @Test
    void stopRequestedMidRunThenResumedMatches(@TempDir Path tmp) {
        TrainerTest.Run full = fullRun(tmp.resolve("full"));
        Path dir = tmp.resolve("stopped");
        TrainConfig c = config().build();   // no periodic checkpoints: only the one at the stop
        TrainResult first;
        try (TinyLM model = TinyLM.small(3); Trainer t = new Trainer(model, c).withCheckpointDir(dir)) {
            first = t.fit(DATA, new TrainListener() {
                @Override
                public void onStep(StepEvent e) {
                    if (e.step() == 5) {
                        t.requestStop();
                    }
                }
            });
        }
        assertTrue(first.stoppedEarly());
        assertEquals(5, first.finalStep());
        assertEquals(List.of(dir.resolve("checkpoint-5").toString()), first.checkpoints());
        try (TinyLM model = TinyLM.small(3)) {
            TrainResult rest = Trainer.resume(dir.resolve("checkpoint-5"), model, DATA, TrainListener.NONE);
            assertFalse(rest.stoppedEarly());
            assertBitIdentical(full, new TrainerTest.Run(rest, snapshot(model)));
        }
    }

    @Test
    void checkpointHoldsNamedTensorsStateAndExports(@TempDir Path tmp) throws IOException {
        List<Path> exportedInto = new ArrayList<>();
        TrainConfig c = config().checkpointEvery(2).keepCheckpoints(2).build();
        List<float[]> finalParams;
        List<String> names;
        try (TinyLM model = TinyLM.small(3);
             Trainer t = new Trainer(model, c).withCheckpointDir(tmp).withExporter(d -> {
                 exportedInto.add(d);
                 Files.writeString(d.resolve("adapter_config.json"), "{}");
             })) {
            t.fit(DATA, TrainListener.NONE);
            finalParams = snapshot(model);
            names = new ArrayList<>(model.trainableParameters().keySet());
        }
        // kept: the newest two; nothing temporary left behind
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of("checkpoint-8", "checkpoint-9"),
                    s.map(p -> p.getFileName().toString()).sorted().toList());
        }
        assertEquals(5, exportedInto.size());
        // AtomicFolders' temporary name: .checkpoint-<step>.tmp-<pid>-<random>
        assertTrue(exportedInto.stream().allMatch(p -> p.getFileName().toString().matches("\\.checkpoint-\\d+\\.tmp-\\d+-\\w+")),
                "the exporter writes before the rename: " + exportedInto);
        Path last = tmp.resolve("checkpoint-9");
        assertTrue(Files.exists(last.resolve("adapter_config.json")));

        TrainerState state = Checkpoints.readState(last);
        assertEquals(9, state.globalStep());
        assertEquals(9, state.optimizerSteps());
        assertEquals(3.0, state.epoch());
        assertEquals(c, state.config());
        assertEquals(9, state.losses().size());
        assertEquals(names, state.parameterNames());
        assertTrue(state.rng().contains("Seeds.mix"));

        try (NDManager m = NDManager.newBaseManager()) {
            NDList params = NamedTensors.read(last.resolve(Checkpoints.PARAMETERS_FILE), m);
            assertEquals(names.size(), params.size());
            for (int i = 0; i < names.size(); i++) {
                assertArrayEquals(finalParams.get(i), params.get(names.get(i)).toFloatArray(), names.get(i));
            }
            NDList opt = NamedTensors.read(last.resolve(Checkpoints.OPTIMIZER_FILE), m);
            assertEquals(2 * names.size(), opt.size());
            assertTrue(opt.contains("lm_head.weight.exp_avg") && opt.contains("lm_head.weight.exp_avg_sq"));
        }
    }

    @Test
    void refusesOtherDataOrAnotherModel(@TempDir Path tmp) {
        fullRun(tmp);
        Path ck = tmp.resolve("checkpoint-4");
        List<TrainingExample> other = new ArrayList<>(DATA);
        other.set(3, new TrainingExample(new int[] {1}, new int[] {2}));
        try (TinyLM model = TinyLM.small(3)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Trainer.resume(ck, model, other, TrainListener.NONE));
            assertTrue(e.getMessage().contains("examples differ"));
        }
        try (TinyLM frozen = new TinyLM(24, 16, 32, 0.1f, 3, true)) {
            assertThrows(IllegalArgumentException.class, () -> Trainer.fromCheckpoint(ck, frozen));
        }
    }

    private static Path copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.sorted(Comparator.naturalOrder()).toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
        return to;
    }
}
