package io.safetune.grid;

import io.safetune.checkpoint.AtomicFolders;
import io.safetune.experiment.ExperimentConfig;
import io.safetune.experiment.Results;
import io.safetune.experiment.StageStore;
import io.safetune.experiment.Story;
import io.safetune.experiment.StoryUnit;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * An experiment's grid: its plan, its submission (to Slurm, to local processes, or written only), and
 * what its tasks run. Every task builds its stages through the story's stage cache, which is the only
 * coordination: a stage a task finds finished is reused, one another task is building is waited for
 * through its lock, and a failed task's unit reruns on the next submission and reuses what finished.
 */
public final class Grid {

    private Grid() {
    }

    /** Whether this machine has Slurm's {@code sbatch}. */
    public static boolean slurmHere() {
        return Slurm.onPath("sbatch");
    }

    /** The units of {@code config} in dependency order, as {@code grid plan} prints them. */
    public static Plan plan(ExperimentConfig config, Path runs) {
        return plan(config, readOnlyStory(config, runs));
    }

    private static Plan plan(ExperimentConfig config, Story story) {
        return new Plan(config.name(), StageStore.hash(config), story.units().stream().map(Plan.Entry::of).toList());
    }

    /** The story over the experiment's stages that reads and writes nothing else (the plan, done-ness). */
    private static Story readOnlyStory(ExperimentConfig config, Path runs) {
        return Story.gathering(config, runs, new PrintStream(OutputStream.nullOutputStream()));
    }

    /** Where a submission's jobs go. */
    public sealed interface Target permits ToSlurm, ToLocal, DryRun {
    }

    /** Submitted with sbatch, with these options. */
    public record ToSlurm(SlurmOptions options) implements Target {
    }

    /** Run here as {@code processes} local processes at a time (each with {@code options}' CPUs as its threads). */
    public record ToLocal(int processes, SlurmOptions options) implements Target {
        public ToLocal {
            if (processes < 1) {
                throw new IllegalArgumentException("local: must be >= 1 processes, got " + processes);
            }
            if (options == null) {
                throw new IllegalArgumentException("options: missing");
            }
        }
    }

    /** Written, not submitted (the sbatch commands are printed). */
    public record DryRun(SlurmOptions options) implements Target {
    }

    /**
     * Writes the grid (config, plan, code, job scripts) and submits the units that are not done under
     * this plan, then the gather. Returns the exit code: 0, or 1 when a local run had a failed task.
     */
    public static int submit(ExperimentConfig config, Path runs, Target target, PrintStream out) {
        GridFolder grid = GridFolder.of(runs, config.name());
        try {
            Files.createDirectories(grid.dir());
            try (FileChannel ch = FileChannel.open(grid.dir().resolve(".submit.lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE); FileLock lock = ch.tryLock()) {
                if (lock == null) {
                    throw new IllegalStateException("another `grid submit` is writing " + grid.dir() + " now");
                }
                return submitLocked(config, runs, grid, target, out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the grid " + grid.dir() + ": " + e.getMessage(), e);
        }
    }

    private static int submitLocked(ExperimentConfig config, Path runs, GridFolder grid, Target target, PrintStream out) {
        List<String> live = GridStatus.now(grid).liveJobs(); // even a dry run would rewrite their config
        if (!live.isEmpty()) {
            throw new IllegalStateException("grid " + grid.dir() + " still has queued or running jobs (" + String.join(", ", live)
                    + "): wait for them (safetune grid status), or scancel them, then submit again");
        }
        // the config as tasks will read it, and the plan from that very file
        io.safetune.checkpoint.AtomicFiles.writeString(grid.config(), config.toJson());
        ExperimentConfig frozen = ExperimentConfig.load(grid.config());
        Story check = readOnlyStory(frozen, runs);
        Plan plan = plan(frozen, check);
        grid.writePlan(plan);

        List<String> shared = toDo(grid, plan, Phase.SHARED, check);
        List<String> cells = toDo(grid, plan, Phase.CELLS, check);
        if (shared.isEmpty() && cells.isEmpty() && done(grid, plan, Plan.GATHER)
                && Files.isRegularFile(grid.runDir().resolve("results.json"))) {
            out.println("Every unit and the gather are done under this plan: " + grid.runDir().resolve("results.json"));
            return 0;
        }
        // the states of what runs again go: status then shows the new jobs, not an earlier attempt's end
        List<String> again = new ArrayList<>(shared);
        again.addAll(cells);
        again.add(Plan.GATHER);
        again.forEach(grid::clearState);
        SlurmOptions options = target instanceof ToSlurm s ? s.options()
                : target instanceof DryRun d ? d.options() : ((ToLocal) target).options();
        try {
            Files.createDirectories(grid.logs()); // Slurm opens its output file there before the script runs
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + grid.logs(), e);
        }
        JobScripts scripts = new JobScripts(grid, plan.name(), options, javaCommand(grid));
        List<Submission.Job> jobs = new ArrayList<>();
        Submission.How how = target instanceof ToSlurm ? Submission.How.SLURM
                : target instanceof ToLocal ? Submission.How.LOCAL : Submission.How.DRY_RUN;
        String at = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        String after = null;
        try {
            for (Phase phase : Phase.values()) {
                List<String> units = switch (phase) {
                    case SHARED -> shared;
                    case CELLS -> cells;
                    case GATHER -> List.of(Plan.GATHER);
                };
                if (units.isEmpty()) {
                    continue;
                }
                Path script = scripts.write(phase, units);
                String id = null;
                if (target instanceof ToSlurm) {
                    id = Slurm.submit(script, after);
                    after = id;
                } else if (target instanceof DryRun) {
                    out.println("sbatch --parsable" + (jobs.isEmpty() ? "" : " --dependency=afterok:<" + jobs.get(jobs.size() - 1)
                            .phase().word() + " job> --kill-on-invalid-dep=yes") + " " + script);
                }
                jobs.add(new Submission.Job(phase, id, units));
            }
        } finally {
            if (!jobs.isEmpty()) { // what went into the queue before an sbatch failed is recorded too, so status sees it
                grid.addSubmission(new Submission(at, plan.hash(), how, jobs));
            }
        }
        out.printf(Locale.ROOT, "Grid %s: %d shared unit(s) and %d cell(s) to run of %d and %d, then the gather (%s)%n", plan.name(),
                shared.size(), cells.size(), plan.of(Phase.SHARED).size(), plan.of(Phase.CELLS).size(), grid.dir());
        if (target instanceof ToLocal l) {
            return LocalRunner.run(grid, jobs, l.processes(), out);
        }
        if (target instanceof ToSlurm) {
            jobs.forEach(j -> out.printf("  %-7s job %s%s%n", j.phase().word(), j.id(),
                    j.phase() == Phase.GATHER ? "" : " (array of " + j.units().size() + ")"));
            out.println("Follow it: safetune grid status --runs " + runs + " --name " + plan.name());
        } else {
            out.println("Dry run: scripts written, nothing submitted.");
        }
        return 0;
    }

    /**
     * The units of {@code phase} to run: all but those whose task said DONE under this plan and whose
     * stages are all still there (read through {@code check}, a read-only story: a stage deleted since,
     * or keyed otherwise on this machine, makes its unit run again).
     */
    private static List<String> toDo(GridFolder grid, Plan plan, Phase phase, Story check) {
        List<StoryUnit> units = check.units();
        return plan.of(phase).stream().map(Plan.Entry::id).filter(u -> !done(grid, plan, u) || !stagesThere(check, units, u)).toList();
    }

    private static boolean stagesThere(Story check, List<StoryUnit> units, String id) {
        try {
            check.make(units.stream().filter(u -> u.id().equals(id)).findFirst().orElseThrow());
            return true;
        } catch (IllegalStateException | java.io.UncheckedIOException e) {
            return false;
        }
    }

    private static boolean done(GridFolder grid, Plan plan, String unit) {
        return grid.state(unit).filter(s -> s.state() == TaskState.State.DONE && plan.hash().equals(s.plan())).isPresent();
    }

    /** The experiment a grid task reads, checked against its plan. */
    static ExperimentConfig config(GridFolder grid, Plan plan) {
        ExperimentConfig c = ExperimentConfig.load(grid.config());
        if (!StageStore.hash(c).equals(plan.hash())) {
            throw new IllegalStateException(grid.config() + " does not match plan.json (hash " + StageStore.hash(c) + ", not "
                    + plan.hash() + "): submit the grid again");
        }
        return c;
    }

    /**
     * Runs one unit of the grid (what an array task does) and records its state; {@code engine} starts
     * libtorch inside the record, so a node that cannot start it says so in the unit's state.
     */
    public static void task(GridFolder grid, String unitId, Runnable engine, PrintStream out) {
        Plan plan = grid.readPlan();
        if (plan.units().stream().noneMatch(e -> e.id().equals(unitId))) {
            throw new IllegalArgumentException("--unit: " + unitId + " is not a unit of " + grid.plan());
        }
        tracked(grid, plan, unitId, () -> {
            ExperimentConfig c = config(grid, plan);
            engine.run();
            Story story = new Story(c, grid.runsRoot(), false, out);
            StoryUnit unit = story.units().stream().filter(u -> u.id().equals(unitId)).findFirst().orElseThrow(
                    () -> new IllegalStateException("the story of " + grid.config() + " has no unit " + unitId));
            story.make(unit);
            return null;
        });
    }

    /**
     * The gather: reads every unit's stages (computing nothing: a missing one is an error naming it)
     * and writes results.json and report.html beside the stages, as a local {@code reproduce} would.
     */
    public static Results gather(GridFolder grid, Runnable engine, PrintStream out) {
        Plan plan = grid.readPlan();
        return tracked(grid, plan, Plan.GATHER, () -> {
            ExperimentConfig c = config(grid, plan);
            engine.run();
            return Story.gathering(c, grid.runsRoot(), out).run();
        });
    }

    private interface Work<T> {
        T run();
    }

    /** Runs {@code work} between a RUNNING and a DONE or FAILED state; a signal before the end leaves FAILED. */
    private static <T> T tracked(GridFolder grid, Plan plan, String unit, Work<T> work) {
        TaskState start = new TaskState(unit, plan.hash(), TaskState.State.RUNNING, TaskState.thisHost(), ProcessHandle.current().pid(), job(),
                Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(), null, null, null);
        grid.writeState(start);
        long t0 = System.nanoTime();
        Thread onSignal = new Thread(() -> grid.writeState(start.ended(TaskState.State.FAILED, (System.nanoTime() - t0) / 1e9, null,
                "stopped by a signal before it finished (scancel, a time limit, or a node going down)")));
        Runtime.getRuntime().addShutdownHook(onSignal);
        try {
            T result = work.run();
            String note = result instanceof Results r && !r.targets().isEmpty()
                    ? "targets met " + r.targets().stream().filter(t -> t.met()).count() + " of " + r.targets().size() : null;
            removeHook(onSignal);
            grid.writeState(start.ended(TaskState.State.DONE, (System.nanoTime() - t0) / 1e9, note, null));
            return result;
        } catch (RuntimeException | Error e) {
            removeHook(onSignal);
            grid.writeState(start.ended(TaskState.State.FAILED, (System.nanoTime() - t0) / 1e9, null, String.valueOf(e.getMessage())));
            throw e;
        }
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // a signal arrived as the work ended: the hook has run or will; the state written next is the last word
        }
    }

    private static String job() {
        Map<String, String> env = System.getenv();
        if (env.containsKey("SLURM_ARRAY_JOB_ID") && env.containsKey("SLURM_ARRAY_TASK_ID")) {
            return env.get("SLURM_ARRAY_JOB_ID") + "_" + env.get("SLURM_ARRAY_TASK_ID");
        }
        return env.getOrDefault("SLURM_JOB_ID", "local");
    }

    /**
     * The command that starts the lab in a task: this JVM's java, and this JVM's class path with the
     * lab's own classes copied into the grid ({@code code/}), so that rebuilding the lab while the grid
     * is queued changes nothing under it. Libraries (DJL, Jackson, …) are used where they are.
     */
    static List<String> javaCommand(GridFolder grid) {
        List<String> entries = List.of(System.getProperty("java.class.path").split(File.pathSeparator));
        List<String> cp = new ArrayList<>();
        AtomicFolders.writeFolder(grid.code(), folder -> {
            int i = 0;
            for (String e : entries) {
                Path p = Path.of(e).toAbsolutePath().normalize();
                String name = p.getFileName() == null ? "" : p.getFileName().toString();
                if (Files.isDirectory(p)) {
                    String dest = (i++) + "-" + name;
                    copyTree(p, folder.resolve(dest));
                    cp.add(grid.code().resolve(dest).toString());
                } else if (name.startsWith("safetune-") && name.endsWith(".jar") && Files.isRegularFile(p)) {
                    Files.copy(p, folder.resolve(name));
                    cp.add(grid.code().resolve(name).toString());
                } else {
                    cp.add(e.endsWith("*") ? e : p.toString());
                }
            }
        });
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        // the submitting JVM's heap, system properties and -XX options (the launcher's -Xmn8m and SAFETUNE_JAVA_OPTS)
        java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("-Xm") || a.startsWith("-Xss") || a.startsWith("-XX:") || a.startsWith("-D")).forEach(cmd::add);
        if (!cmd.contains("-Dai.djl.offline=true")) {
            cmd.add("-Dai.djl.offline=true");
        }
        cmd.addAll(List.of("-cp", String.join(File.pathSeparator, cp), "io.safetune.cli.Main"));
        return cmd;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path dest = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(dest);
                } else {
                    Files.copy(p, dest);
                }
            }
        }
    }
}
