package io.safetune.train;

import static io.safetune.train.TrainerTest.DATA;
import static io.safetune.train.TrainerTest.config;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.safetune.lora.LoraAdapter;
import io.safetune.lora.LoraConfig;
import io.safetune.model.CausalLM;
import io.safetune.testing.Fixtures;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;

/** A resume that would silently change the run is refused, naming the field and both values. */
class ResumeSettingsTest {

    @TempDir
    Path tmp;

    private static final LoraConfig LORA = new LoraConfig(4, 16, 0.1, List.of("q_proj", "v_proj"), List.of(), false);

    /** Trains 2 steps of a LoRA adapter on llama-tiny and returns checkpoint-2. */
    private Path loraCheckpoint() {
        Path dir = tmp.resolve("run");
        try (CausalLM model = CausalLM.load(Fixtures.get("llama-tiny"));
                LoraAdapter a = LoraAdapter.inject(model, LORA, 1);
                Trainer t = new Trainer(model, config().maxSteps(2).build()).withCheckpointDir(dir)) {
            t.fit(DATA, TrainListener.NONE);
        }
        return dir.resolve("checkpoint-2");
    }

    private static String refusal(Path ckpt, LoraConfig changed) {
        try (CausalLM model = CausalLM.load(Fixtures.get("llama-tiny"));
                LoraAdapter a = LoraAdapter.inject(model, changed, 1)) {
            return assertThrows(IllegalArgumentException.class, () -> Trainer.fromCheckpoint(ckpt, model)).getMessage();
        }
    }

    @Test
    void checkpointsRecordTheAdapterSettings() {
        TrainerState s = Checkpoints.readState(loraCheckpoint());
        assertEquals(2, s.formatVersion());
        assertEquals("16.0", s.settings().get("lora.alpha"));
        assertEquals("4", s.settings().get("lora.r"));
        assertEquals("lora", s.settings().get("training"));
        assertEquals("[q_proj, v_proj]", s.settings().get("lora.target_modules"));
    }

    @Test
    void aChangedLoraSettingIsRefusedByName() {
        Path ckpt = loraCheckpoint();
        String e = refusal(ckpt, new LoraConfig(4, 64, 0.1, LORA.targetModules(), List.of(), false));
        assertTrue(e.contains("lora.alpha: checkpoint has 16.0, this run has 64.0"), e);
        e = refusal(ckpt, LORA.withDropout(0.2));
        assertTrue(e.contains("lora.dropout: checkpoint has 0.1, this run has 0.2"), e);
        e = refusal(ckpt, LORA.withRslora(true));
        assertTrue(e.contains("lora.use_rslora: checkpoint has false, this run has true"), e);
        e = refusal(ckpt, LORA.withLayers(List.of(0, 1)));
        assertTrue(e.contains("lora.layers: checkpoint has all, this run has [0, 1]"), e);
        e = refusal(ckpt, new LoraConfig(4, 16, 0.1, List.of("q_proj", "k_proj", "v_proj"), List.of(), false));
        assertTrue(e.contains("lora.target_modules: checkpoint has [q_proj, v_proj], this run has [k_proj, q_proj, v_proj]"), e);
        assertTrue(e.contains(ckpt.toString()), "names the checkpoint: " + e);
    }

    @Test
    void fullFineTuningOnALoraCheckpointIsRefusedByName() {
        Path ckpt = loraCheckpoint();
        try (CausalLM model = CausalLM.load(Fixtures.get("llama-tiny"))) {
            model.unfreezeAll();
            String e = assertThrows(IllegalArgumentException.class, () -> Trainer.fromCheckpoint(ckpt, model)).getMessage();
            assertTrue(e.contains("training: checkpoint has lora, this run has full"), e);
            assertTrue(e.contains("lora.r: checkpoint has 4, this run has (not set)"), e);
        }
    }

    @Test
    void identicalSettingsResume() {
        Path ckpt = loraCheckpoint();
        try (CausalLM model = CausalLM.load(Fixtures.get("llama-tiny"));
                LoraAdapter a = LoraAdapter.inject(model, LORA, 99);
                Trainer t = Trainer.fromCheckpoint(ckpt, model, config().maxSteps(2).build())) {
            assertEquals(2, t.globalStep());
        }
    }

    @Test
    void aChangedTrainingFlagIsRefusedByNameAndBookkeepingMayChange() {
        Path dir = tmp.resolve("tiny");
        TrainConfig c = config().checkpointEvery(2).build();
        try (TinyLM model = TinyLM.small(3); Trainer t = new Trainer(model, c).withCheckpointDir(dir)) {
            t.fit(DATA, TrainListener.NONE);
        }
        Path ckpt = dir.resolve("checkpoint-8");
        List<Function<TrainConfig.Builder, TrainConfig.Builder>> changes = List.of(
                b -> b.learningRate(2e-2), b -> b.schedule(ScheduleType.LINEAR), b -> b.batchSize(3),
                b -> b.gradAccumSteps(1), b -> b.epochs(4), b -> b.maxSteps(5), b -> b.seed(8),
                b -> b.warmupSteps(0).warmupRatio(0.1), b -> b.maxLength(9), b -> b.weightDecay(0));
        List<String> fields = List.of("learningRate: checkpoint has 0.01, this run has 0.02",
                "schedule: checkpoint has COSINE, this run has LINEAR", "batchSize: checkpoint has 4, this run has 3",
                "gradAccumSteps: checkpoint has 2, this run has 1", "epochs: checkpoint has 3, this run has 4",
                "maxSteps: checkpoint has 0, this run has 5", "seed: checkpoint has 7, this run has 8",
                "warmupSteps: checkpoint has 2, this run has 0", "maxLength: checkpoint has 8, this run has 9",
                "weightDecay: checkpoint has 0.01, this run has 0.0");
        for (int i = 0; i < changes.size(); i++) {
            TrainConfig requested = changes.get(i).apply(c.toBuilder()).build();
            try (TinyLM model = TinyLM.small(3)) {
                String e = assertThrows(IllegalArgumentException.class,
                        () -> Trainer.fromCheckpoint(ckpt, model, requested)).getMessage();
                assertTrue(e.contains(fields.get(i)), e);
            }
        }
        try (TinyLM model = TinyLM.small(3);
                Trainer t = Trainer.fromCheckpoint(ckpt, model, c.toBuilder().checkpointEvery(0).keepCheckpoints(5).build())) {
            assertEquals(0, t.config().checkpointEvery());
            assertEquals(5, t.config().keepCheckpoints());
            assertEquals(c.learningRate(), t.config().learningRate());
        }
    }
}
