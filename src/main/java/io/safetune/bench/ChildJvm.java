package io.safetune.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * What the 7B benchmarks share: their working folder (new or empty, deleted afterwards) and running one
 * algorithm in a fresh JVM (same java and class path), so that its peak resident set (VmHWM) is its own.
 */
final class ChildJvm {

    private ChildJvm() {
    }

    /** What a child reported: its wall time seen from outside and the JSON report it wrote. */
    record Result(double wallSeconds, JsonNode report) {
    }

    /**
     * The benchmark's folder: {@code dir} (created, or existing and empty, since the benchmark deletes what
     * it writes there) or a new temporary one named {@code prefix}….
     */
    static Path prepare(Path dir, String prefix) {
        try {
            if (dir == null) {
                return Files.createTempDirectory(prefix);
            }
            if (Files.exists(dir)) {
                if (!Files.isDirectory(dir)) {
                    throw new IllegalArgumentException("dir: " + dir + " exists and is not a folder");
                }
                try (Stream<Path> s = Files.list(dir)) {
                    if (s.findAny().isPresent()) {
                        throw new IllegalArgumentException("dir: " + dir + " is not empty (the benchmark deletes what it"
                                + " writes there, so it wants an empty or new folder)");
                    }
                }
            }
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("dir: cannot create " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Deletes what the benchmark wrote under {@code root}, and {@code root} itself unless it was there before. */
    static void deleteTree(Path root, boolean keepRoot) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                if (!(keepRoot && p.equals(root))) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + root + ": " + e.getMessage(), e);
        }
    }

    /**
     * Runs {@code main}'s entry point with {@code args} in a fresh JVM with {@code jvmOptions} (plus offline
     * DJL and quiet logging), its output in {@code logFile}; waits for it and reads {@code report}.
     *
     * @param what names the child in errors, with the last 30 lines of its output
     */
    static Result run(String what, List<String> jvmOptions, Class<?> main, List<String> args, Path logFile, Path report)
            throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-Dai.djl.offline=true", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp", System.getProperty("java.class.path"), main.getName()));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(logFile.toFile()).start();
        long t0 = System.nanoTime();
        int rc;
        try {
            rc = p.waitFor();
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while " + what + " was running", e);
        }
        double wall = (System.nanoTime() - t0) / 1e9;
        if (rc != 0 || !Files.isRegularFile(report)) {
            List<String> lines = Files.readAllLines(logFile);
            throw new IllegalStateException(what + " failed (exit " + rc + "); its last output:\n"
                    + String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size())));
        }
        return new Result(wall, new ObjectMapper().readTree(report.toFile()));
    }
}
