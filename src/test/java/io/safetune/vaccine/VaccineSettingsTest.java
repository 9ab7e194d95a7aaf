package io.safetune.vaccine;

import io.safetune.method.AlignFlow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.safetune.experiment.Combination;
import io.safetune.experiment.ExperimentConfig;
import io.safetune.method.Slot;
import io.safetune.train.ScheduleType;
import io.safetune.train.TrainConfig;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Vaccine's settings: defaults, errors naming the field, the LORA flow's optimiser, the experiment file. */
class VaccineSettingsTest {

    @TempDir
    Path tmp;

    @Test
    void defaultsAreThePapersAndTheReferences() {
        VaccineSettings s = VaccineSettings.defaults();
        assertEquals(2.0, s.rho());
        assertEquals(VaccineSettings.Perturbation.ADVERSARIAL, s.perturbation());
        assertEquals(1, s.refreshEvery());
        assertEquals(null, s.flow(), "left out: the story's flow");
        assertEquals(AlignFlow.LORA, s.flow(AlignFlow.LORA));
        assertEquals(8, s.lora().r());
        assertEquals(4.0, s.lora().alpha());
        assertEquals(0.1, s.lora().dropout());
        assertEquals(List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"), s.lora().targetModules());
    }

    @Test
    void badValuesAreRefusedNamingTheField() {
        VaccineSettings d = VaccineSettings.defaults();
        assertEquals("rho: must be > 0, got 0.0", assertThrows(IllegalArgumentException.class, () -> d.withRho(0)).getMessage());
        assertEquals("rho: must be > 0, got -1.0", assertThrows(IllegalArgumentException.class, () -> d.withRho(-1)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> d.withRho(Double.NaN)).getMessage().startsWith("rho:"));
        assertEquals("refreshEvery: must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> d.withRefreshEvery(0)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new VaccineSettings(null, null, null, null, 0, null, null,
                null, null, null, null)).getMessage().startsWith("r: "));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new VaccineSettings(null, null, null, null, null, null, null,
                List.of("qq_proj"), null, null, null)).getMessage().startsWith("targetModules: "));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new VaccineSettings(null, null, null, null, null, null, null,
                null, null, null, 1.0)).getMessage().startsWith("warmupRatio: "));
    }

    @Test
    void theLoraFlowTakesTheReferencesOptimiserAndFullKeepsTheStorys() {
        TrainConfig story = TrainConfig.builder().learningRate(5e-5).maxSteps(20).batchSize(4).seed(3).build();
        assertEquals(story, VaccineSettings.defaults().training(AlignFlow.FULL, story));
        TrainConfig lora = VaccineSettings.defaults().training(AlignFlow.LORA, story);
        assertEquals(1e-3, lora.learningRate());
        assertEquals(0.1, lora.weightDecay());
        assertEquals(ScheduleType.COSINE, lora.schedule());
        assertEquals(0.1, lora.warmupRatio());
        assertEquals(2, lora.resolvedWarmupSteps(20));
        assertEquals(20, lora.maxSteps());
        assertEquals(4, lora.batchSize());
        assertEquals(3, lora.seed());
    }

    @Test
    void anExperimentFileSetsThemByName() throws Exception {
        Path f = tmp.resolve("v.yaml");
        Files.writeString(f, "defences:\n  - {align: {method: vaccine, rho: 1, refreshEvery: 5, flow: LORA, perturbation: RANDOM}}\n");
        Combination c = ExperimentConfig.load(f).defences().get(0);
        assertEquals(new VaccineSettings(1.0, VaccineSettings.Perturbation.RANDOM, 5, AlignFlow.LORA, null, null, null,
                null, null, null, null), c.filler(Slot.ALIGN).settings());
        Files.writeString(f, "defences:\n  - {align: {method: vaccine, rho: 0}}\n");
        Exception e = assertThrows(Exception.class, () -> ExperimentConfig.load(f));
        assertTrue(String.valueOf(e.getMessage()).contains("rho: must be > 0"), e.getMessage());
    }
}
