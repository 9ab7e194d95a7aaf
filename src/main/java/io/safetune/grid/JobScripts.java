package io.safetune.grid;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Writes a grid's job scripts. Each is a bash script with {@code #SBATCH} lines: sbatch runs it as a
 * job array (task i runs {@code units[i]}), and {@code --local} runs the very same file with
 * {@code SLURM_ARRAY_TASK_ID} set, so a laptop and a cluster run identical commands. A task appends
 * its output to {@code logs/<unit>.log} and runs {@code safetune grid task} (or {@code grid gather})
 * in the JVM and with the classes the submission recorded.
 */
final class JobScripts {

    private final GridFolder grid;
    private final String name;
    private final SlurmOptions slurm;
    private final List<String> java;

    /** @param java the command that starts the lab: the java binary, JVM options, -cp and the main class */
    JobScripts(GridFolder grid, String name, SlurmOptions slurm, List<String> java) {
        this.grid = grid;
        this.name = name;
        this.slurm = slurm;
        this.java = List.copyOf(java);
    }

    /** Writes the script of {@code phase} for {@code units} (the gather's list is its one id). */
    Path write(Phase phase, List<String> units) {
        List<String> l = new ArrayList<>();
        l.add("#!/usr/bin/env bash");
        l.add("# safetune grid '" + name + "', " + phase.word() + ": written by `safetune grid submit`; plan.json lists the units.");
        l.add("# sbatch runs it as a job array (task i runs units[i]); --local runs it with SLURM_ARRAY_TASK_ID set.");
        l.add("#SBATCH --job-name=" + jobName(name, phase));
        l.add("#SBATCH --ntasks=1"); // one process a task (Slurm refuses --gpus-per-task without it)
        if (phase != Phase.GATHER) {
            l.add("#SBATCH --array=0-" + (units.size() - 1));
            l.add("#SBATCH --output=" + grid.logs() + "/slurm-%A_%a.out");
        } else {
            l.add("#SBATCH --output=" + grid.logs() + "/slurm-%j.out");
        }
        l.addAll(phase == Phase.GATHER ? new SlurmOptions(slurm.partition(), 0, slurm.time(), 1, slurm.mem(), slurm.extra()).lines()
                : slurm.lines());
        l.add("set -euo pipefail");
        l.add("units=(" + units.stream().map(JobScripts::quote).collect(Collectors.joining(" ")) + ")");
        l.add(phase == Phase.GATHER ? "unit=\"${units[0]}\""
                : "unit=\"${units[${SLURM_ARRAY_TASK_ID:?set by sbatch --array, or by --local}]}\"");
        l.add("mkdir -p " + quote(grid.logs().toString()));
        l.add("exec >>" + quote(grid.logs().toString()) + "/\"$unit.log\" 2>&1");
        l.add("echo \"== $(date -u +%FT%TZ) $unit on $(hostname) (job ${SLURM_JOB_ID:-local})\"");
        List<String> cmd = new ArrayList<>();
        java.forEach(a -> cmd.add(quote(a)));
        cmd.add("grid");
        if (phase == Phase.GATHER) {
            cmd.add("gather");
        } else {
            cmd.add("task");
            cmd.add("--unit");
            cmd.add("\"$unit\"");
            cmd.add("--threads");
            cmd.add("\"${SLURM_CPUS_PER_TASK:-" + slurm.cpusPerTask() + "}\"");
        }
        cmd.add("--grid");
        cmd.add(quote(grid.dir().toString()));
        l.add("exec " + String.join(" ", cmd));
        Path file = grid.script(phase);
        try {
            io.safetune.checkpoint.AtomicFiles.writeString(file, String.join("\n", l) + "\n");
            file.toFile().setExecutable(true);
        } catch (RuntimeException e) {
            throw new UncheckedIOException("cannot write " + file, new IOException(e.getMessage(), e));
        }
        return file;
    }

    /** The name of a grid's job of {@code phase}: status counts a queued job as the grid's only under it. */
    static String jobName(String experiment, Phase phase) {
        return "st-" + experiment + "-" + phase.word();
    }

    /** A single-quoted shell word. */
    static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
