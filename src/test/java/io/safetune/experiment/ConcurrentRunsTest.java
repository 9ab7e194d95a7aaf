package io.safetune.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Two {@code safetune reproduce} processes on one runs folder (a notebook beside the command line):
 * both finish, each stage is built once (the other run waits for it and reuses it), nothing is left
 * half-made, and both print the results of a run alone.
 */
class ConcurrentRunsTest {

    @TempDir
    Path tmp;

    /** StoryTest's toy experiment as a file. */
    static final String TOY = """
            name: toy
            seeds: [3]
            model: {hidden: 32, layers: 1, heads: 2, ffn: 48}
            base: {steps: 6, batchSize: 8, learningRate: 0.002, warmupRatio: 0}
            aligned: {steps: 4, batchSize: 8, learningRate: 0.0005, warmupRatio: 0}
            attack: {n: 40, r: 4, alpha: 8, epochs: 1, batchSize: 8}
            eval: {maxNewTokens: 6, taskPrompts: 4, harmfulPrompts: 4, hedSamples: 4, batchSize: 8}
            attackFractions: [0.1, 0.0]
            defences:
              - post: {method: safelora-sweep, taus: [0.5], randomRank: 2, energyTopK: 2}
                fractions: [0.1]
            variantEval: {maxNewTokens: 6, taskPrompts: 4, harmfulPrompts: 4, hedSamples: 4, batchSize: 8}
            """;

    @Test
    void twoRunsOnOneFolderBuildEachStageOnceAndAgreeWithARunAlone() throws Exception {
        Path config = tmp.resolve("toy.yaml");
        Files.writeString(config, TOY);
        Path shared = tmp.resolve("shared");
        Process a = ReproduceProcess.start(config, shared, tmp.resolve("a.log"), Map.of());
        Process b = ReproduceProcess.start(config, shared, tmp.resolve("b.log"), Map.of());
        ReproduceProcess.finish(a, tmp.resolve("a.log"));
        ReproduceProcess.finish(b, tmp.resolve("b.log"));
        Process alone = ReproduceProcess.start(config, tmp.resolve("alone"), tmp.resolve("alone.log"), Map.of());
        ReproduceProcess.finish(alone, tmp.resolve("alone.log"));

        ObjectMapper json = new ObjectMapper();
        JsonNode expected = json.readTree(tmp.resolve("alone/toy/results.json").toFile());
        // both runs wrote results.json in turn (each atomically): the last one is whole and agrees
        JsonNode got = json.readTree(shared.resolve("toy/results.json").toFile());
        for (String field : List.of("rows", "drift", "losses", "targets")) {
            assertEquals(ReproduceProcess.withoutTimes(expected.get(field)), ReproduceProcess.withoutTimes(got.get(field)), field);
        }
        // each stage was built by exactly one of the two runs: the logs say which reused it
        Map<String, Integer> built = new HashMap<>();
        for (String log : List.of("a.log", "b.log")) {
            for (String line : Files.readAllLines(tmp.resolve(log))) {
                String t = line.strip();
                if (t.startsWith("(") && t.endsWith(" s)") && !t.contains("reused")) {
                    built.merge(t.substring(1, t.indexOf(':')), 1, Integer::sum);
                }
            }
        }
        List<String> stages = new ArrayList<>();
        expected.get("stages").forEach(s -> stages.add(s.get("stage").asText()));
        for (String s : stages) {
            assertEquals(1, built.getOrDefault(s, 0), "stage " + s + " built once: " + built);
        }
        try (Stream<Path> s = Files.list(shared.resolve("toy/stages"))) {
            List<String> left = s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".tmp-") || n.startsWith(".old-"))
                    .toList();
            assertEquals(List.of(), left, "no temporary folder is left");
        }
    }
}
