package io.safetune.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.safetune.checkpoint.CheckpointException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

class ExperimentConfigTest {

    @TempDir
    Path tmp;

    /** A record hashes like the map of its fields (StageStoreTest). */
    record Cfg(double lr, int steps) {
        static Cfg of(double lr, int steps) {
            return new Cfg(lr, steps);
        }
    }

    @Test
    void emptyFileIsTheDefaultAndJsonRoundTrips() throws Exception {
        Path empty = tmp.resolve("e.yaml");
        Files.writeString(empty, "");
        ExperimentConfig d = ExperimentConfig.load(empty);
        assertEquals(ExperimentConfig.defaults(), d);
        assertEquals(List.of(0.1, 0.0), d.attackFractions());
        assertEquals(2000, d.base().steps());
        Path json = tmp.resolve("c.json");
        Files.writeString(json, d.toJson());
        assertEquals(d, ExperimentConfig.load(json));
    }

    @Test
    void yamlOverridesOnlyWhatItNames() throws Exception {
        Path yaml = tmp.resolve("dose.yaml");
        Files.writeString(yaml, """
                name: dose
                seeds: [0, 1, 2]
                dose: [0.01, 0.02, 0.05]
                attack: {task: sentiment, n: 500, r: 4, alpha: 8, dropout: 0.05, learningRate: 0.001, epochs: 3, batchSize: 16}
                """);
        ExperimentConfig c = ExperimentConfig.load(yaml);
        assertEquals("dose", c.name());
        assertEquals(List.of(0L, 1L, 2L), c.seeds());
        assertEquals("sentiment", c.attack().task());
        assertEquals(List.of("q_proj", "v_proj"), c.attack().targets());
        assertEquals(ExperimentConfig.TrainingSpec.BASE, c.base());
    }

    @Test
    void errorsNameTheFileAndTheField() throws Exception {
        Path bad = tmp.resolve("bad.yaml");
        Files.writeString(bad, "eval: {maxNewTokens: 0, taskPrompts: 1, harmfulPrompts: 0, hedSamples: 1, batchSize: 1}\n");
        CheckpointException e = assertThrows(CheckpointException.class, () -> ExperimentConfig.load(bad));
        assertTrue(e.getMessage().contains("bad.yaml") && e.getMessage().contains("eval.maxNewTokens"), e.getMessage());
        Files.writeString(bad, "dose: [1.5]\n");
        e = assertThrows(CheckpointException.class, () -> ExperimentConfig.load(bad));
        assertTrue(e.getMessage().contains("dose"), e.getMessage());
        Files.writeString(bad, "learningrate: 3\n");
        e = assertThrows(CheckpointException.class, () -> ExperimentConfig.load(bad));
        assertTrue(e.getMessage().contains("learningrate"), e.getMessage());
    }
}
