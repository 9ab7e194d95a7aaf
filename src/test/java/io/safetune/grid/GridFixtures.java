package io.safetune.grid;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.safetune.experiment.ExperimentConfig;
import io.safetune.experiment.Story;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The tiny grid of the grid tests (two defences × two p × one seed, toy sizes) and how results are compared. */
final class GridFixtures {

    private GridFixtures() {
    }

    /** Two defences (Safe LoRA after the fine-tune, Vaccine before it) beside the undefended story, p 0.1 and 0, seed 3. */
    static String tiny(int attackEpochs) {
        return """
                name: tiny
                seeds: [3]
                model: {hidden: 32, layers: 1, heads: 2, ffn: 48}
                base: {steps: 6, batchSize: 8, learningRate: 0.002, warmupRatio: 0}
                aligned: {steps: 4, batchSize: 8, learningRate: 0.0005, warmupRatio: 0}
                attack: {n: 40, r: 4, alpha: 8, epochs: %d, batchSize: 8}
                eval: {maxNewTokens: 6, taskPrompts: 4, harmfulPrompts: 4, hedSamples: 4, batchSize: 8}
                attackFractions: [0.1, 0.0]
                defences:
                  - post: {method: safelora, tolerance: 0.05}
                  - align: vaccine
                variantEval: {maxNewTokens: 6, taskPrompts: 4, harmfulPrompts: 4, hedSamples: 4, batchSize: 8}
                """.formatted(attackEpochs);
    }

    static ExperimentConfig config(Path dir, int attackEpochs) throws IOException {
        return ExperimentConfig.load(Files.writeString(dir.resolve("tiny.yaml"), tiny(attackEpochs)));
    }

    static PrintStream quiet() {
        return new PrintStream(OutputStream.nullOutputStream());
    }

    /** The same experiment run as `reproduce` runs it, in this JVM: the results a grid must reproduce. */
    static Path reference(ExperimentConfig c, Path runs) {
        new Story(c, runs, false, quiet()).run();
        return runs.resolve(c.name()).resolve("results.json");
    }

    /** results.json of a grid equals a local run's in everything but wall times and the list of stages run (built or reused). */
    static void assertSameResults(Path expected, Path got) throws IOException {
        ObjectMapper json = new ObjectMapper();
        JsonNode a = json.readTree(expected.toFile());
        JsonNode b = json.readTree(got.toFile());
        for (String field : List.of("config", "source", "versions", "rows", "drift", "defenceStages", "losses", "targets")) {
            assertEquals(withoutTimes(a.get(field)), withoutTimes(b.get(field)), field);
        }
    }

    private static JsonNode withoutTimes(JsonNode n) {
        JsonNode copy = n.deepCopy();
        copy.findParents("seconds").forEach(p -> ((ObjectNode) p).remove("seconds"));
        return copy;
    }
}
