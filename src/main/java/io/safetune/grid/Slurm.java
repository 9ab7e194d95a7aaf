package io.safetune.grid;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The two Slurm commands a grid needs: {@code sbatch} to submit, {@code squeue} to see what is queued or running. */
final class Slurm {

    private Slurm() {
    }

    /**
     * Submits {@code script}, after {@code afterOk} (a job id, or null) has completed successfully; a job
     * whose dependency can no longer be met is removed from the queue instead of pending forever.
     * Returns the job id.
     */
    static String submit(Path script, String afterOk) {
        List<String> cmd = new ArrayList<>(List.of("sbatch", "--parsable"));
        if (afterOk != null) {
            cmd.add("--dependency=afterok:" + afterOk);
            cmd.add("--kill-on-invalid-dep=yes");
        }
        cmd.add(script.toString());
        String out = run(cmd).strip();
        String id = out.contains(";") ? out.substring(0, out.indexOf(';')) : out; // "<id>;<cluster>" on a federation
        if (!id.matches("\\d+")) {
            throw new IllegalStateException("sbatch " + script + " printed no job id: '" + out + "'");
        }
        return id;
    }

    /** Whether {@code sbatch} is on the PATH and answers. */
    static boolean available() {
        try {
            run(List.of("sbatch", "--version"));
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Whether {@code command} is an executable on the PATH. */
    static boolean onPath(String command) {
        String path = System.getenv().getOrDefault("PATH", "");
        return java.util.stream.Stream.of(path.split(java.io.File.pathSeparator))
                .anyMatch(d -> !d.isEmpty() && java.nio.file.Files.isExecutable(Path.of(d, command)));
    }

    /**
     * The user's queued and running jobs, one entry per array task ({@code "12_3"} → RUNNING,
     * {@code "14"} → PENDING); empty when this machine has no squeue (nothing can be queued then).
     *
     * @throws IllegalStateException when squeue is there but does not answer (the controller is down)
     */
    static Map<String, Queued> queue() {
        if (!onPath("squeue")) {
            return Map.of();
        }
        String out = run(List.of("squeue", "-h", "-r", "-u", System.getProperty("user.name"), "-o", "%i|%T|%j"));
        Map<String, Queued> q = new LinkedHashMap<>();
        for (String line : out.split("\n")) {
            String[] f = line.split("\\|", 3);
            if (f.length == 3) {
                q.put(f[0].strip(), new Queued(f[1].strip(), f[2].strip()));
            }
        }
        return q;
    }

    /** A queued or running job: Slurm's state word (PENDING, RUNNING, …) and the job's name. */
    record Queued(String state, String name) {
    }

    /** Cancels one job or array task ({@code "12_3"}). */
    static void cancel(String job) {
        run(List.of("scancel", job));
    }

    private static String run(List<String> cmd) {
        Path output = null;
        try {
            output = java.nio.file.Files.createTempFile("safetune-slurm", ".out");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(output.toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", cmd) + " did not answer within 60 s");
            }
            String out = java.nio.file.Files.readString(output, StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " exited " + p.exitValue() + " (is Slurm's controller up?): "
                        + out.strip());
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(cmd.get(0) + " cannot be run: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + cmd.get(0), e);
        } finally {
            if (output != null) {
                output.toFile().delete();
            }
        }
    }
}
