package io.safetune.grid;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.safetune.experiment.ExperimentConfig;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** The grid without Slurm: its plan, its scripts, and --local runs that reproduce a local run, fail and resume. */
class GridTest {

    @TempDir
    Path tmp;

    @Test
    void thePlanListsSharedStagesThenCellsInDependencyOrder() throws Exception {
        Plan plan = Grid.plan(GridFixtures.config(tmp, 1), tmp.resolve("runs"));
        assertEquals(List.of("base-s3", "aligned-s3", "aligned-vaccine-s3"), plan.of(Phase.SHARED).stream().map(Plan.Entry::id).toList());
        assertEquals(List.of("cell-none-p0.100-s3", "cell-none-p0.000-s3", "cell-safelora-p0.100-s3", "cell-safelora-p0.000-s3",
                "cell-vaccine-p0.100-s3", "cell-vaccine-p0.000-s3"), plan.of(Phase.CELLS).stream().map(Plan.Entry::id).toList());
        Plan.Entry safe = plan.of(Phase.CELLS).get(2);
        assertEquals(List.of("aligned-s3"), safe.needs());
        assertEquals(List.of("base-s3"), plan.of(Phase.SHARED).get(2).needs());
        assertEquals(List.of("aligned-vaccine-s3"), plan.of(Phase.CELLS).get(4).needs());
        // Safe LoRA post-processes the undefended fine-tune: the two cells share it
        assertEquals(List.of("cell-none-p0.100-s3"), plan.sharingFineTune(safe));
        assertEquals(List.of(), plan.sharingFineTune(plan.of(Phase.CELLS).get(4)));
    }

    @Test
    void aDryRunWritesJobScriptsWithTheRequestedResourcesAndSubmitsNothing() throws Exception {
        ExperimentConfig c = GridFixtures.config(tmp, 1);
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        SlurmOptions options = new SlurmOptions("gpu", 1, "4:00:00", 2, "16G", List.of("--account=lab"));
        assertEquals(0, Grid.submit(c, tmp.resolve("runs"), new Grid.DryRun(options), new PrintStream(printed, true, StandardCharsets.UTF_8)));
        GridFolder grid = GridFolder.of(tmp.resolve("runs"), "tiny");
        String cells = Files.readString(grid.script(Phase.CELLS));
        for (String line : List.of("#SBATCH --array=0-5", "#SBATCH --partition=gpu", "#SBATCH --time=4:00:00", "#SBATCH --cpus-per-task=2",
                "#SBATCH --gpus-per-task=1", "#SBATCH --ntasks=1", "#SBATCH --mem=16G", "#SBATCH --job-name=st-tiny-cells", "#SBATCH --account=lab", "grid task --unit \"$unit\"")) {
            assertTrue(cells.contains(line), line + " in\n" + cells);
        }
        assertTrue(Files.readString(grid.script(Phase.SHARED)).contains("#SBATCH --array=0-2"));
        String gather = Files.readString(grid.script(Phase.GATHER));
        assertTrue(gather.contains("grid gather") && !gather.contains("--array") && !gather.contains("--gpus-per-task"), gather);
        String out = printed.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("--dependency=afterok:<cells job> --kill-on-invalid-dep=yes " + grid.script(Phase.GATHER)), out);
        assertEquals(Submission.How.DRY_RUN, grid.readSubmissions().get(0).how());
        assertTrue(GridStatus.now(grid).units().stream().allMatch(u -> u.standing() == GridStatus.Standing.NOT_STARTED));
        // the lab's own classes are copied into the grid, so a rebuild does not change a queued grid
        try (Stream<Path> code = Files.list(grid.code())) {
            assertTrue(code.findAny().isPresent());
        }
        assertTrue(Files.notExists(grid.runDir().resolve("results.json")));
    }

    @Test
    void optionsThatWouldBreakTheScriptAreRefusedNamingTheField() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new SlurmOptions("a b", 0, null, 1, null, List.of()));
        assertTrue(e.getMessage().startsWith("partition:"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new SlurmOptions(null, 0, null, 0, null, List.of()));
        assertTrue(e.getMessage().startsWith("cpusPerTask:"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new SlurmOptions(null, 0, null, 1, null, List.of("--x='; rm")));
        assertTrue(e.getMessage().startsWith("sbatch option:"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Grid.ToLocal(0, SlurmOptions.defaults()));
    }

    @Test
    void aLocalGridReproducesALocalRunAndResubmittingRerunsOnlyWhatFailed() throws Exception {
        ExperimentConfig c = GridFixtures.config(tmp, 1);
        Path expected = GridFixtures.reference(c, tmp.resolve("alone"));
        Path runs = tmp.resolve("runs");
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        assertEquals(0, Grid.submit(c, runs, new Grid.ToLocal(2, SlurmOptions.defaults()), new PrintStream(printed, true, StandardCharsets.UTF_8)),
                printed.toString(StandardCharsets.UTF_8));
        GridFolder grid = GridFolder.of(runs, "tiny");
        GridStatus s = GridStatus.now(grid);
        assertTrue(s.finished() && s.idle(), s.render());
        assertTrue(s.units().stream().allMatch(u -> u.standing() == GridStatus.Standing.DONE), s.render());
        GridFixtures.assertSameResults(expected, grid.runDir().resolve("results.json"));
        assertTrue(Files.readString(grid.log("cell-safelora-p0.100-s3")).contains("[post-process safelora p=0.10]"));

        // a cell whose task died mid-way: its post-process stage is gone, its state says RUNNING, its process is dead
        Process dead = new ProcessBuilder("true").start();
        dead.waitFor();
        TaskState was = grid.state("cell-safelora-p0.100-s3").orElseThrow();
        grid.writeState(new TaskState(was.unit(), was.plan(), TaskState.State.RUNNING, was.host(), dead.pid(), "local", was.started(),
                null, null, null));
        deleteStage(grid, "post-safelora-p0.100-s3");
        s = GridStatus.now(grid);
        assertEquals(GridStatus.Standing.FAILED, s.units().stream().filter(u -> u.unit().equals("cell-safelora-p0.100-s3"))
                .findFirst().orElseThrow().standing());
        assertTrue(s.render().contains("stopped without a word"), s.render());
        // the gather cannot merge a cell that is not there: it says which stage, and computes nothing
        IllegalStateException missing = assertThrows(IllegalStateException.class, () -> Grid.gather(grid, () -> { }, GridFixtures.quiet()));
        assertTrue(missing.getMessage().contains("post-safelora-p0.100-s3") && missing.getMessage().contains("not finished"),
                missing.getMessage());
        assertEquals(TaskState.State.FAILED, grid.state(Plan.GATHER).orElseThrow().state());

        printed.reset();
        assertEquals(0, Grid.submit(c, runs, new Grid.ToLocal(2, SlurmOptions.defaults()), new PrintStream(printed, true, StandardCharsets.UTF_8)));
        String out = printed.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("0 shared unit(s) and 1 cell(s) to run of 3 and 6"), out);
        assertTrue(GridStatus.now(grid).finished());
        GridFixtures.assertSameResults(expected, grid.runDir().resolve("results.json"));

        printed.reset();
        assertEquals(0, Grid.submit(c, runs, new Grid.ToLocal(2, SlurmOptions.defaults()), new PrintStream(printed, true, StandardCharsets.UTF_8)));
        assertTrue(printed.toString(StandardCharsets.UTF_8).contains("Every unit and the gather are done"));

        // a unit whose task said DONE but whose stage was deleted since runs again: the stages are the truth
        deleteStage(grid, "eval-attacked-vaccine-p0.000-s3");
        printed.reset();
        assertEquals(0, Grid.submit(c, runs, new Grid.ToLocal(2, SlurmOptions.defaults()), new PrintStream(printed, true, StandardCharsets.UTF_8)));
        assertTrue(printed.toString(StandardCharsets.UTF_8).contains("0 shared unit(s) and 1 cell(s) to run"), printed.toString());
        GridFixtures.assertSameResults(expected, grid.runDir().resolve("results.json"));
    }

    @Test
    void aTaskRefusesAConfigThatNoLongerMatchesItsPlan() throws Exception {
        ExperimentConfig c = GridFixtures.config(tmp, 1);
        Grid.submit(c, tmp.resolve("runs"), new Grid.DryRun(SlurmOptions.defaults()), GridFixtures.quiet());
        GridFolder grid = GridFolder.of(tmp.resolve("runs"), "tiny");
        Files.writeString(grid.config(), Files.readString(grid.config()).replace("\"steps\" : 6", "\"steps\" : 7"));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Grid.task(grid, "base-s3", () -> { }, GridFixtures.quiet()));
        assertTrue(e.getMessage().contains("does not match plan.json"), e.getMessage());
        assertEquals(TaskState.State.FAILED, grid.state("base-s3").orElseThrow().state(), "the refusal is in the unit's state");
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> Grid.task(grid, "cell-x", () -> { }, GridFixtures.quiet()));
        assertTrue(unknown.getMessage().startsWith("--unit: cell-x"), unknown.getMessage());
    }

    @Test
    void theCommandLinePlansAndSaysWhenThereIsNoGrid() throws Exception {
        Path file = Files.writeString(tmp.resolve("tiny.yaml"), GridFixtures.tiny(1));
        assertEquals(0, io.safetune.cli.Main.run("grid", "plan", "--config", file.toString(), "--runs", tmp.resolve("runs").toString()));
        assertEquals(2, io.safetune.cli.Main.run("grid", "status", "--runs", tmp.resolve("nothing").toString()));
        assertEquals(2, io.safetune.cli.Main.run("grid", "submit", "--config", file.toString(), "--dry-run", "--local", "2"));
        assertEquals(0, io.safetune.cli.Main.run("grid", "submit", "--config", file.toString(), "--runs", tmp.resolve("runs").toString(),
                "--dry-run", "--partition", "gpu"));
        assertTrue(Files.readString(GridFolder.of(tmp.resolve("runs"), "tiny").script(Phase.SHARED)).contains("#SBATCH --partition=gpu"));
        assertEquals(0, io.safetune.cli.Main.run("grid", "status", "--runs", tmp.resolve("runs").toString()));
    }

    private static void deleteStage(GridFolder grid, String prefix) throws Exception {
        try (Stream<Path> s = Files.list(grid.runDir().resolve("stages"))) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith(prefix + "-")).toList()) {
                try (Stream<Path> w = Files.walk(p)) {
                    for (Path q : w.sorted(java.util.Comparator.reverseOrder()).toList()) {
                        Files.delete(q);
                    }
                }
            }
        }
    }
}
