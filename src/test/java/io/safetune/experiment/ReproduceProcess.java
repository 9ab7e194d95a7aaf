package io.safetune.experiment;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.safetune.engine.Arithmetic;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** {@code safetune reproduce} in a JVM of its own, as a user starts it (tests of what crosses processes). */
final class ReproduceProcess {

    private ReproduceProcess() {
    }

    /**
     * Starts {@code reproduce --config config --runs runs --report-only}, output to {@code log}. The
     * child starts without the test JVM's pins in its environment, plus {@code env}.
     */
    static Process start(Path config, Path runs, Path log, Map<String, String> env) throws IOException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new ArrayList<>(List.of(java.toString(), "-Dai.djl.offline=true", "-cp",
                System.getProperty("java.class.path"), "io.safetune.cli.Main", "reproduce", "--config", config.toString(),
                "--runs", runs.toString(), "--threads", "1", "--report-only"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        Arithmetic.PINS.keySet().forEach(pb.environment()::remove);
        pb.environment().remove(Arithmetic.MODE_VARIABLE);
        pb.environment().putAll(env);
        return pb.start();
    }

    /** Waits for the process (5 minutes at most) and fails with its log unless it exited 0. */
    static void finish(Process p, Path log) throws Exception {
        boolean done = p.waitFor(5, TimeUnit.MINUTES);
        if (!done) {
            p.destroyForcibly();
        }
        assertTrue(done && p.exitValue() == 0, "reproduce failed:\n" + Files.readString(log));
    }

    /** The results without wall times, which differ between any two runs. */
    static JsonNode withoutTimes(JsonNode n) {
        JsonNode copy = n.deepCopy();
        copy.findParents("seconds").forEach(p -> ((ObjectNode) p).remove("seconds"));
        return copy;
    }
}
