package io.safetune.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Two {@code safetune reproduce} processes on one runs folder (a notebook beside the command line):
 * both finish, each stage is built once (the other run waits for it and reuses it), nothing is left
 * half-made, and both print the results of a run alone.
 */
class ConcurrentRunsTest {

    @TempDir
    Path tmp;

    /** PipelineTest's toy experiment as a file. */
    static final String TOY = """
            name: toy
            seeds: [3]
            model: {hidden: 32, layers: 1, heads: 2, ffn: 48}
            base: {steps: 6, batchSize: 8, learningRate: 0.002, warmupRatio: 0}
            aligned: {steps: 4, batchSize: 8, learningRate: 0.0005, warmupRatio: 0}
            attack: {n: 40, r: 4, alpha: 8, epochs: 1, batchSize: 8}
            eval: {maxNewTokens: 6, taskPrompts: 4, harmfulPrompts: 4, hedSamples: 4, batchSize: 8}
            safeLora: {fractions: [0.1], taus: [0.5], randomRank: 2, energyTopK: 2,
                       eval: {maxNewTokens: 6, taskPrompts: 4, harmfulPrompts: 4, hedSamples: 4, batchSize: 8}}
            """;

    @Test
    void twoRunsOnOneFolderBuildEachStageOnceAndAgreeWithARunAlone() throws Exception {
        Path config = tmp.resolve("toy.yaml");
        Files.writeString(config, TOY);
        Path shared = tmp.resolve("shared");
        Process a = reproduce(config, shared, tmp.resolve("a.log"));
        Process b = reproduce(config, shared, tmp.resolve("b.log"));
        finish(a, tmp.resolve("a.log"));
        finish(b, tmp.resolve("b.log"));
        Process alone = reproduce(config, tmp.resolve("alone"), tmp.resolve("alone.log"));
        finish(alone, tmp.resolve("alone.log"));

        ObjectMapper json = new ObjectMapper();
        JsonNode expected = json.readTree(tmp.resolve("alone/toy/results.json").toFile());
        // both runs wrote results.json in turn (each atomically): the last one is whole and agrees
        JsonNode got = json.readTree(shared.resolve("toy/results.json").toFile());
        for (String field : List.of("models", "drift", "safeLora", "losses", "targets")) {
            assertEquals(withoutTimes(expected.get(field)), withoutTimes(got.get(field)), field);
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

    /** The results without wall times, which differ between any two runs. */
    private static JsonNode withoutTimes(JsonNode n) {
        JsonNode copy = n.deepCopy();
        copy.findParents("seconds").forEach(p -> ((com.fasterxml.jackson.databind.node.ObjectNode) p).remove("seconds"));
        return copy;
    }

    private static Process reproduce(Path config, Path runs, Path log) throws IOException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        return new ProcessBuilder(java.toString(), "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"),
                "io.safetune.cli.Main", "reproduce", "--config", config.toString(), "--runs", runs.toString(), "--threads", "1")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static void finish(Process p, Path log) throws Exception {
        boolean done = p.waitFor(5, TimeUnit.MINUTES);
        if (!done) {
            p.destroyForcibly();
        }
        assertTrue(done && p.exitValue() == 0, "reproduce failed:\n" + Files.readString(log));
    }
}
