package io.safetune.cli;

import io.safetune.experiment.Results;
import io.safetune.grid.Grid;
import io.safetune.grid.GridFolder;
import io.safetune.grid.GridStatus;
import io.safetune.grid.Phase;
import io.safetune.grid.Plan;
import io.safetune.grid.SlurmOptions;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

@Command(name = "grid", mixinStandardHelpOptions = true,
        description = "An experiment's grid on a cluster: one Slurm job-array task per cell (defence × p × seed), the shared "
            + "stages (base and aligned models) before them, a gather job after them that writes results.json and report.html. "
            + "The stage cache on a shared filesystem is the only coordination. --local N runs the same scripts here (docs/grid.md).",
        subcommands = {GridCommand.PlanCommand.class, GridCommand.Submit.class, GridCommand.Status.class, GridCommand.Task.class,
            GridCommand.Gather.class})
final class GridCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "plan", mixinStandardHelpOptions = true,
            description = "Lists the cells of an experiment and the shared stages they depend on, in dependency order.")
    static final class PlanCommand implements Callable<Integer> {
        @Mixin
        ExperimentOptions experiment;

        @Option(names = "--runs", defaultValue = "runs", paramLabel = "DIR", description = "where runs go (default ${DEFAULT-VALUE})")
        Path runs;

        @Override
        public Integer call() {
            Plan plan = Grid.plan(experiment.load(), runs);
            System.out.printf(Locale.ROOT, "Grid %s (config hash %s): %d shared unit(s), %d cell(s), 1 gather%n", plan.name(), plan.hash(),
                    plan.of(Phase.SHARED).size(), plan.of(Phase.CELLS).size());
            for (Phase phase : List.of(Phase.SHARED, Phase.CELLS)) {
                System.out.println(phase == Phase.SHARED ? "\nShared stages: job array 1, in dependency order"
                        : "\nCells: job array 2, after array 1 (of cells that share a fine-tune, the first to start builds it, "
                        + "the others wait for it through its stage lock)");
                for (Plan.Entry e : plan.of(phase)) {
                    List<String> sharing = phase == Phase.CELLS ? plan.sharingFineTune(e) : List.of();
                    System.out.printf("  %-32s %-36s%s%s%n", e.id(), e.what(), e.needs().isEmpty() ? "" : "needs " + String.join(", ", e.needs()),
                            sharing.isEmpty() ? "" : "; shares its fine-tune with " + String.join(", ", sharing));
                }
            }
            System.out.println("\nGather: one job after array 2: results.json and report.html in " + runs.resolve(plan.name()));
            return 0;
        }
    }

    @Command(name = "submit", mixinStandardHelpOptions = true,
            description = "Writes the grid's job scripts and submits them with sbatch: one array for the shared stages, one for "
                + "the cells (after the first), one gather job (after the cells). Units already done under the same config are "
                + "skipped, so submitting again reruns what failed. --dry-run writes without submitting; --local N runs here.")
    static final class Submit implements Callable<Integer> {
        @Mixin
        ExperimentOptions experiment;

        @Option(names = "--runs", defaultValue = "runs", paramLabel = "DIR",
                description = "where runs go, on a filesystem every node sees (default ${DEFAULT-VALUE})")
        Path runs;

        @Option(names = "--partition", paramLabel = "P", description = "Slurm partition (default: the cluster's)")
        String partition;

        @Option(names = "--gpus-per-task", defaultValue = "0", paramLabel = "N", description = "GPUs each task asks for (default ${DEFAULT-VALUE})")
        int gpusPerTask;

        @Option(names = "--cpus-per-task", defaultValue = "1", paramLabel = "N",
                description = "CPUs each task asks for, also its libtorch threads (default ${DEFAULT-VALUE})")
        int cpusPerTask;

        @Option(names = "--time", paramLabel = "T", description = "time limit of each task, e.g. 4:00:00 (default: the partition's)")
        String time;

        @Option(names = "--mem", paramLabel = "M", description = "memory of each task, e.g. 16G (default: the partition's)")
        String mem;

        @Option(names = "--sbatch", paramLabel = "OPTION", description = "a further sbatch option for every job, e.g. --sbatch=--account=lab (repeatable)")
        List<String> sbatch;

        @Option(names = "--dry-run", description = "write the scripts and print the sbatch commands; submit nothing")
        boolean dryRun;

        @Option(names = "--local", paramLabel = "N", description = "no Slurm: run the same scripts here, N processes at a time")
        Integer local;

        @Override
        public Integer call() {
            SlurmOptions options = new SlurmOptions(partition, gpusPerTask, time, cpusPerTask, mem, sbatch);
            if (dryRun && local != null) {
                throw new IllegalArgumentException("--dry-run and --local: choose one");
            }
            String where = runs.toAbsolutePath().normalize().toString();
            if (where.matches(".*[\\s%'\"\\\\].*")) {
                throw new IllegalArgumentException("--runs: " + where + " has a space, %, quote or backslash, which Slurm's "
                        + "#SBATCH --output cannot carry; choose another folder");
            }
            Grid.Target target = local != null ? new Grid.ToLocal(local, options) : dryRun ? new Grid.DryRun(options) : new Grid.ToSlurm(options);
            if (target instanceof Grid.ToSlurm && !Grid.slurmHere()) {
                throw new IllegalArgumentException("sbatch is not on the PATH: on a machine without Slurm use --local N "
                        + "(or scripts/slurm-local.sh start for a one-node cluster)");
            }
            try {
                return Grid.submit(experiment.load(), runs.toAbsolutePath().normalize(), target, System.out);
            } catch (IllegalStateException e) {
                System.err.println("error: " + e.getMessage()); // sbatch or squeue refused, or the grid is still live
                return 2;
            }
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Which units of a grid are done, running, queued, failed (with the log) or not started.")
    static final class Status implements Callable<Integer> {
        @Option(names = "--runs", defaultValue = "runs", paramLabel = "DIR", description = "where runs go (default ${DEFAULT-VALUE})")
        Path runs;

        @Option(names = "--name", paramLabel = "NAME", description = "the experiment (default: the one grid under --runs)")
        String name;

        @Option(names = "--wait", description = "wait until the gather is done (exit 0) or nothing is left queued or running (exit 1)")
        boolean waitForIt;

        @Option(names = "--poll", defaultValue = "10", paramLabel = "S", description = "seconds between looks with --wait (default ${DEFAULT-VALUE})")
        double poll;

        @Override
        public Integer call() throws InterruptedException {
            GridFolder grid = GridFolder.of(runs, name == null ? onlyGrid(runs) : name);
            if (!(poll > 0)) {
                throw new IllegalArgumentException("--poll: must be > 0 seconds, got " + poll);
            }
            grid.readPlan(); // a clear error when there is no grid
            GridStatus s;
            try {
                s = GridStatus.now(grid);
                while (waitForIt && !s.finished() && !s.idle()) {
                    Thread.sleep((long) (poll * 1000));
                    s = GridStatus.now(grid);
                }
            } catch (IllegalStateException e) {
                System.err.println("error: " + e.getMessage()); // squeue did not answer
                return 2;
            }
            System.out.print(s.render());
            return waitForIt && !s.finished() ? 1 : 0;
        }

        private static String onlyGrid(Path runs) {
            try (Stream<Path> s = Files.isDirectory(runs) ? Files.list(runs) : Stream.empty()) {
                List<String> grids = s.filter(d -> Files.isRegularFile(d.resolve("grid").resolve("plan.json")))
                        .map(d -> d.getFileName().toString()).sorted().toList();
                if (grids.size() != 1) {
                    throw new IllegalArgumentException(grids.isEmpty() ? "no grid under " + runs + " (safetune grid submit makes one)"
                            : "several grids under " + runs + ": " + grids + "; name one with --name");
                }
                return grids.get(0);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + runs, e);
            }
        }
    }

    @Command(name = "task", mixinStandardHelpOptions = true, description = "Runs one unit of a grid (what a job-array task runs).")
    static final class Task implements Callable<Integer> {
        @Option(names = "--grid", required = true, paramLabel = "DIR", description = "the grid folder")
        Path grid;

        @Option(names = "--unit", required = true, paramLabel = "ID", description = "the unit (plan.json)")
        String unit;

        @Option(names = "--threads", defaultValue = "1", description = "libtorch intra-op threads (default ${DEFAULT-VALUE})")
        int threads;

        @Override
        public Integer call() {
            Grid.task(new GridFolder(grid), unit, () -> {
                ai.djl.engine.Engine.getInstance();
                ai.djl.pytorch.jni.JniUtils.setNumThreads(threads);
            }, System.out);
            return 0;
        }
    }

    @Command(name = "gather", mixinStandardHelpOptions = true, description = "Reads every unit's stages into results.json and report.html (what the gather job runs).")
    static final class Gather implements Callable<Integer> {
        @Option(names = "--grid", required = true, paramLabel = "DIR", description = "the grid folder")
        Path grid;

        @Override
        public Integer call() {
            Results r = Grid.gather(new GridFolder(grid), ai.djl.engine.Engine::getInstance, System.out);
            long met = r.targets().stream().filter(t -> t.met()).count();
            if (!r.targets().isEmpty()) {
                System.out.printf("%nTargets met: %d of %d%n", met, r.targets().size());
            }
            return 0;
        }
    }
}
