package io.safetune.grid;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import io.safetune.checkpoint.AtomicFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A grid's folder, {@code <runs>/<name>/grid}, beside the experiment's {@code stages/} and where
 * {@code results.json} lands:
 * <pre>
 * config.json        the experiment as submitted (tasks read it)
 * plan.json          its units in dependency order ({@link Plan})
 * shared.sbatch, cells.sbatch, gather.sbatch   the job scripts of the last submission
 * code/              the lab's own classes as submitted (a rebuild does not change a queued grid)
 * logs/&lt;unit&gt;.log   each task's output; logs/slurm-*.out Slurm's own
 * state/&lt;unit&gt;.json what each task says of itself ({@link TaskState})
 * submissions.json   every submission: when, how, which jobs ran which units
 * </pre>
 * Every file is written atomically, so a reader (status, another node) never sees half of one.
 */
public final class GridFolder {

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path dir;

    public GridFolder(Path dir) {
        this.dir = dir.toAbsolutePath().normalize();
    }

    /** The grid folder of experiment {@code name} under {@code runs}. */
    public static GridFolder of(Path runs, String name) {
        return new GridFolder(runs.resolve(name).resolve("grid"));
    }

    public Path dir() {
        return dir;
    }

    /** The runs root the experiment's folder is in (the grid is {@code <runs>/<name>/grid}). */
    public Path runsRoot() {
        return dir.getParent().getParent();
    }

    /** The experiment's folder: stages/, results.json, report.html. */
    public Path runDir() {
        return dir.getParent();
    }

    public Path config() {
        return dir.resolve("config.json");
    }

    public Path plan() {
        return dir.resolve("plan.json");
    }

    public Path script(Phase phase) {
        return dir.resolve(phase.word() + ".sbatch");
    }

    public Path logs() {
        return dir.resolve("logs");
    }

    public Path log(String unit) {
        return logs().resolve(unit + ".log");
    }

    public Path code() {
        return dir.resolve("code");
    }

    Path stateFile(String unit) {
        return dir.resolve("state").resolve(unit + ".json");
    }

    Path submissions() {
        return dir.resolve("submissions.json");
    }

    /** The plan, with an error naming the file when there is none. */
    public Plan readPlan() {
        if (!Files.isRegularFile(plan())) {
            throw new IllegalArgumentException(dir + " is not a grid: no plan.json (safetune grid submit writes it)");
        }
        return read(plan(), Plan.class);
    }

    void writePlan(Plan plan) {
        write(plan(), plan);
    }

    /** What {@code unit}'s task last wrote about itself, if anything. */
    public Optional<TaskState> state(String unit) {
        Path f = stateFile(unit);
        return Files.isRegularFile(f) ? Optional.of(read(f, TaskState.class)) : Optional.empty();
    }

    void writeState(TaskState s) {
        write(stateFile(s.unit()), s);
    }

    /** Forgets what {@code unit}'s task said (it is submitted again). */
    void clearState(String unit) {
        try {
            Files.deleteIfExists(stateFile(unit));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + stateFile(unit), e);
        }
    }

    /** Every submission so far, oldest first. */
    public List<Submission> readSubmissions() {
        if (!Files.isRegularFile(submissions())) {
            return List.of();
        }
        try {
            return JSON.readValue(submissions().toFile(), new TypeReference<List<Submission>>() { });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + submissions() + ": " + e.getMessage(), e);
        }
    }

    void addSubmission(Submission s) {
        List<Submission> all = new ArrayList<>(readSubmissions());
        all.add(s);
        write(submissions(), all);
    }

    static <T> T read(Path file, Class<T> type) {
        try {
            return JSON.readValue(file.toFile(), type);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    static void write(Path file, Object value) {
        try {
            Files.createDirectories(file.getParent());
            AtomicFiles.writeString(file, JSON.writeValueAsString(value));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
