package io.safetune.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.safetune.checkpoint.TensorStore;
import io.safetune.cli.Main;
import io.safetune.lab.MicroWorldLab;
import io.safetune.lora.PeftFormat;
import io.safetune.method.Stage;
import io.safetune.testing.HalveB;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The story end to end on a toy-sized experiment (the default one takes minutes). */
class StoryTest {

    @TempDir
    Path tmp;

    private static PrintStream quiet() {
        return new PrintStream(OutputStream.nullOutputStream());
    }

    @Test
    void runsEveryStageWritesResultsAndReportAndReusesStages() throws Exception {
        Path runs = tmp.resolve("runs");
        ExperimentConfig toy = ExperimentConfig.load(Files.writeString(tmp.resolve("toy.yaml"), ConcurrentRunsTest.TOY));
        Results first = new Story(toy, runs, false, quiet()).run();
        assertEquals(List.of("base", "aligned", "attacked p=0.10", "attacked p=0.00"),
                first.products().stream().map(Results.Row::name).toList());
        assertTrue(first.stages().stream().noneMatch(Stages.StageRun::reused));
        Path run = runs.resolve("toy");
        JsonNode results = new ObjectMapper().readTree(run.resolve("results.json").toFile());
        // 4 products, then the sweep's variants: as trained, k = 1 and all (1 layer × q, v) with both controls, τ 0.5
        assertEquals(4 + 1 + 3 * 2 + 1, results.get("rows").size());
        assertEquals(2, results.get("drift").size());
        assertEquals(1, results.get("drift").get(0).get("perLayer").size());
        assertTrue(results.get("versions").get("engine").asText().startsWith("PyTorch"));
        assertEquals(9, results.get("targets").size(), "8 of the story, 1 of the sweep");
        assertTrue(results.get("targets").toString().contains("safelora-sweep post-processed p=0.10 safe-lora k all"));
        String html = Files.readString(run.resolve("report.html"));
        assertTrue(html.contains("data:image/png;base64,") && html.contains("<table"), "report has charts and tables");
        assertTrue(html.contains("Safe LoRA sweep (p = 0.1, seeds [3]"), "the sweep reports itself");
        // each stage is a normal checkpoint folder
        Path base = run.resolve(first.stages().get(0).dir());
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "train.json", "stage.json")) {
            assertTrue(Files.isRegularFile(base.resolve(f)), f);
        }
        Path eval = run.resolve(first.stages().stream().filter(s -> s.stage().startsWith("eval-aligned")).findFirst().get().dir());
        JsonNode samples = new ObjectMapper().readTree(eval.resolve("eval.json").toFile()).get("harmful").get("samples");
        assertEquals(4, samples.size(), "per-sample records are kept");

        Results second = new Story(toy, runs, false, quiet()).run();
        assertTrue(second.stages().stream().allMatch(Stages.StageRun::reused), "a second run reuses every stage");
        assertEquals(first.rows(), second.rows());

        // the notebook API finds the very stages the story made, and trains nothing
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        MicroWorldLab lab = new MicroWorldLab(new Story(toy, runs, false, new PrintStream(log, true, StandardCharsets.UTF_8)), 3);
        assertEquals(run.resolve(first.stages().get(0).dir()), lab.base());
        lab.aligned();
        lab.attacked(0.1);
        lab.attacked(0.0);
        assertEquals(8, lab.safeLoraSweep(0.1).points().size(), "reads the cached sweep");
        String printed = log.toString(StandardCharsets.UTF_8);
        assertTrue(printed.lines().filter(l -> l.strip().startsWith("(")).allMatch(l -> l.contains("reused")), printed);
    }

    /**
     * A defence that lives only in the test sources ({@link HalveB}, registered by its service file) runs
     * from an experiment file with no main-code change: it is in results.json, the report and the lab.
     */
    @Test
    void aToyDefenceFromTheTestSourcesRunsThroughTheStory() throws Exception {
        Path config = tmp.resolve("toy.yaml");
        Files.writeString(config, ConcurrentRunsTest.TOY.replaceAll("(?s)defences:.*?(?=variantEval)",
                "defences: [{post: halve-b, fractions: [0.1]}]\n"));
        Path runs = tmp.resolve("runs");
        assertEquals(0, Main.run("reproduce", "--config", config.toString(), "--runs", runs.toString(), "--report-only"));

        JsonNode results = new ObjectMapper().readTree(runs.resolve("toy/results.json").toFile());
        JsonNode row = null;
        for (JsonNode r : results.get("rows")) {
            if (r.get("defence").asText().equals(HalveB.NAME)) {
                row = r;
            }
        }
        assertTrue(row != null, "a row of the toy defence: " + results.get("rows"));
        assertEquals(Stage.POST_PROCESSED.name(), row.get("stage").asText());
        assertEquals(0.1, row.get("p").asDouble());
        assertTrue(Files.readString(runs.resolve("toy/report.html")).contains("halve-b post-processed p=0.10"));

        ExperimentConfig c = ExperimentConfig.load(config);
        MicroWorldLab lab = new MicroWorldLab(new Story(c, runs, false, quiet()), 3);
        Path halved = lab.postProcessed(0.1, HalveB.NAME);
        try (TensorStore before = TensorStore.open(lab.attacked(0.1).resolve(PeftFormat.WEIGHTS));
                TensorStore after = TensorStore.open(halved.resolve(PeftFormat.WEIGHTS))) {
            for (String key : before.names()) {
                float[] b = before.readFloats(key);
                float[] a = after.readFloats(key);
                for (int i = 0; i < b.length; i++) {
                    assertEquals(key.contains("lora_B") ? b[i] * 0.5f : b[i], a[i], 0f, key);
                }
            }
        }
        assertEquals(row.get("scores").get("harmfulScore").asDouble(), lab.postProcessedScores(0.1, HalveB.NAME).harmfulScore());
    }

    /** SaLoRA fills the fine-tune slot: its attack is trained behind C, scored and drifted like plain LoRA's. */
    @Test
    void saLoraFillsTheFineTuneSlot() throws Exception {
        Path config = tmp.resolve("toy.yaml");
        Files.writeString(config, ConcurrentRunsTest.TOY.replaceAll("(?s)defences:.*?(?=variantEval)", """
                defences:
                  - fineTune: {method: salora, rankSafety: 4, rankTask: 4, safetySamples: 16, taskSamples: 16}
                    fractions: [0.1]
                """));
        Results r = new Story(ExperimentConfig.load(config), tmp.resolve("runs"), false, quiet()).run();
        List<String> names = r.products().stream().map(Results.Row::name).toList();
        assertEquals(List.of("base", "aligned", "attacked p=0.10", "attacked p=0.00", "salora attacked p=0.10"), names);
        assertEquals(List.of("none", "none", "salora"), r.drift().stream().map(Results.DriftRow::defence).toList());
        Path stage = tmp.resolve("runs/toy").resolve(r.stages().stream().filter(s -> s.stage().startsWith("attacked-salora"))
                .findFirst().orElseThrow().dir());
        assertTrue(Files.isRegularFile(stage.resolve("salora.json")));
        Path aligned = tmp.resolve("runs/toy").resolve(r.stages().stream().filter(s -> s.stage().equals("aligned-s3"))
                .findFirst().orElseThrow().dir());
        try (io.safetune.model.CausalLM m = io.safetune.model.CausalLM.load(aligned);
                io.safetune.lora.LoraAdapter a = io.safetune.lora.LoraAdapter.load(m, stage)) {
            assertEquals(8, a.config().r(), "the trained model as a plain LoRA on the aligned weights: rank 2r");
        }
    }
}
