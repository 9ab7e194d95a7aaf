package io.safetune.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.safetune.experiment.ExperimentConfig.AttackSpec;
import io.safetune.experiment.ExperimentConfig.EvalSpec;
import io.safetune.experiment.ExperimentConfig.ModelSpec;
import io.safetune.experiment.ExperimentConfig.TrainingSpec;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The reproduce pipeline end to end on a toy-sized configuration (the real one takes minutes). */
class PipelineTest {

    @TempDir
    Path runs;

    static ExperimentConfig toy() {
        return new ExperimentConfig("toy", List.of(3L), new ModelSpec(32, 1, 2, 48),
                new TrainingSpec(6, 8, 2e-3, 0, 0), new TrainingSpec(4, 8, 5e-4, 0, 0),
                new AttackSpec("new_task", 40, 4, 8, 0.05, List.of("q_proj", "v_proj"), 1e-3, 1, 8),
                List.of(0.1, 0.0), List.of(), new EvalSpec(6, 4, 4, 4, 8), null, null,
                new ExperimentConfig.SafeLoraSpec(List.of(0.1), List.of(0.5), 2, 2, null, new EvalSpec(6, 4, 4, 4, 8)));
    }

    @Test
    void runsEveryStageWritesResultsAndReportAndReusesStages() throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Pipeline.Results first = new Pipeline(toy(), runs, false, new PrintStream(log, true, StandardCharsets.UTF_8)).run();
        assertEquals(List.of("base", "aligned", "attacked p=0.10", "attacked p=0.00"),
                first.models().stream().map(Pipeline.ModelRow::model).toList());
        assertTrue(first.stages().stream().noneMatch(Pipeline.StageRun::reused));
        Path run = runs.resolve("toy");
        JsonNode results = new ObjectMapper().readTree(run.resolve("results.json").toFile());
        assertEquals(4, results.get("models").size());
        assertEquals(2, results.get("drift").size());
        assertEquals(1, results.get("drift").get(0).get("perLayer").size());
        assertTrue(results.get("versions").get("engine").asText().startsWith("PyTorch"));
        assertTrue(results.get("targets").size() >= 7);
        String html = Files.readString(run.resolve("report.html"));
        assertTrue(html.contains("data:image/png;base64,") && html.contains("<table"), "report has charts and tables");
        // each stage is a normal checkpoint folder
        Path base = run.resolve(first.stages().get(0).dir());
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "train.json", "stage.json")) {
            assertTrue(Files.isRegularFile(base.resolve(f)), f);
        }
        Path eval = run.resolve(first.stages().stream().filter(s -> s.stage().startsWith("eval-aligned")).findFirst().get().dir());
        JsonNode samples = new ObjectMapper().readTree(eval.resolve("eval.json").toFile()).get("harmful").get("samples");
        assertEquals(4, samples.size(), "per-sample records are kept");

        Pipeline.Results second = new Pipeline(toy(), runs, false, new PrintStream(new ByteArrayOutputStream())).run();
        assertTrue(second.stages().stream().allMatch(Pipeline.StageRun::reused), "a second run reuses every stage");
        assertEquals(first.models(), second.models());

        // the Safe LoRA stage: k = 1 … all adapted weights (1 layer × q, v), both controls, the τ point
        JsonNode sweep = results.get("safeLora");
        assertEquals(1, sweep.size(), "only p = 0.1 was asked for");
        JsonNode points = sweep.get(0).get("points");
        assertEquals(1 + 3 * 2 + 1, points.size());
        assertEquals(2, sweep.get(0).get("cosines").size());
        assertEquals(2, sweep.get(0).get("energy").size());
        assertTrue(results.get("targets").toString().contains("safe lora k=all p=0.10"));
        assertTrue(html.contains("Safe LoRA on the attacked adapters"));

        // the notebook API finds the very stages the pipeline made, and trains nothing
        List<String> produced = new java.util.ArrayList<>();
        StageStore store = new StageStore(run.resolve("stages"), false);
        io.safetune.lab.MicroWorldLab lab = new io.safetune.lab.MicroWorldLab(toy(), 3, (name, cfg, producer, upstream) -> {
            StageStore.Stage st = store.getOrProduce(name, cfg, producer, upstream);
            if (!st.reused()) {
                produced.add(name);
            }
            return st;
        }, new PrintStream(new ByteArrayOutputStream()));
        assertEquals(run.resolve(first.stages().get(0).dir()), lab.base());
        lab.aligned();
        lab.attacked(0.1);
        lab.attacked(0.0);
        assertEquals(points.size(), lab.safeLoraSweep(0.1).points().size(), "reads the cached sweep");
        assertEquals(List.of(), produced, "every stage is reused");
    }
}
