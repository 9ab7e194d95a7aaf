package io.safetune.vaccine;

import io.safetune.method.AlignFlow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.safetune.data.TrainingExample;
import io.safetune.experiment.Defences;
import io.safetune.method.AlignInputs;
import io.safetune.method.Json;
import io.safetune.method.Slot;
import io.safetune.method.TrainLog;
import io.safetune.model.CausalLM;
import io.safetune.testing.Fixtures;
import io.safetune.train.TrainConfig;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Both flows of {@code align} on a tiny BPE checkpoint (d = 32, 2 layers): a loadable aligned checkpoint
 * with the base's tokenizer, train.json and vaccine.json; the weights moved.
 */
class VaccineDefenceTest {

    @TempDir
    Path tmp;

    private AlignInputs inputs(Path base) {
        Random r = new Random(3);
        List<TrainingExample> data = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            data.add(new TrainingExample(r.ints(1 + r.nextInt(4), 0, 157).toArray(), r.ints(2 + r.nextInt(4), 0, 157).toArray()));
        }
        TrainConfig t = TrainConfig.builder().learningRate(1e-2).maxSteps(3).batchSize(2).seed(1).maxLength(16).build();
        return new AlignInputs(base, data, t, AlignFlow.FULL, new PrintStream(OutputStream.nullOutputStream()));
    }

    private VaccineDefence.Report align(VaccineSettings s, String name) throws Exception {
        Path base = Fixtures.tinyBpeCheckpoint(tmp.resolve("base"), 1);
        Path out = Files.createDirectories(tmp.resolve(name));
        new VaccineDefence().align(inputs(base), s, out);
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", TrainLog.FILE, VaccineDefence.REPORT)) {
            assertTrue(Files.exists(out.resolve(f)), f);
        }
        assertEquals(3, Json.read(out.resolve(TrainLog.FILE), TrainLog.class).steps());
        try (CausalLM before = CausalLM.load(base); CausalLM after = CausalLM.load(out)) {
            String w = "model.layers.0.self_attn.q_proj.weight";
            assertFalse(Arrays.equals(before.weights().get(w).toFloatArray(), after.weights().get(w).toFloatArray()), "q_proj moved");
        }
        return VaccineDefence.Report.read(out);
    }

    @Test
    void fullFlowWritesALoadableCheckpointAndItsReport() throws Exception {
        VaccineDefence.Report r = align(VaccineSettings.defaults(), "full");
        assertEquals(AlignFlow.FULL, r.flow());
        assertEquals(3, r.steps());
        assertEquals(3, r.twoPassSteps());
        assertEquals(2.0, r.rho());
        assertTrue(r.meanGradNorm() > 0);
        assertTrue(r.perStep().stream().allMatch(s -> s.gradNorm() != null && s.gradNorm() > 0));
        assertEquals(3, r.table().rowCount());
    }

    @Test
    void loraFlowMergesTheAlignmentAdapter() throws Exception {
        VaccineDefence.Report r = align(VaccineSettings.defaults().withFlow(AlignFlow.LORA).withRefreshEvery(2), "lora");
        assertEquals(AlignFlow.LORA, r.flow());
        assertEquals(2, r.refreshEvery());
        assertEquals(List.of(true, false, true), r.perStep().stream().map(VaccineDefence.StepReport::twoPass).toList());
        assertEquals(null, r.perStep().get(1).gradNorm());
    }

    @Test
    void theRegistryKnowsVaccineAsAnAlignDefence() {
        assertTrue(Defences.names(Slot.ALIGN).contains(VaccineDefence.NAME));
        assertEquals(VaccineSettings.defaults(), Defences.get(Slot.ALIGN, "vaccine").defaultConfig());
    }
}
