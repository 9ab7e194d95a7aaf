package io.safetune.grid;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.safetune.experiment.ExperimentConfig;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The grid on a real Slurm: {@code .ci/run} starts a one-node cluster ({@code scripts/slurm-local.sh start})
 * and sets SAFETUNE_SLURM_TEST=1; the tiny grid goes through sbatch, and a task killed with scancel in
 * the middle of a stage is resubmitted. Both must end with a local run's results.
 */
@EnabledIfEnvironmentVariable(named = "SAFETUNE_SLURM_TEST", matches = "1",
        disabledReason = "needs a running Slurm: scripts/slurm-local.sh start, then SAFETUNE_SLURM_TEST=1 (as .ci/run does)")
class SlurmGridTest {

    /** A work folder of a stage being built: {@code .tmp-<stage>-<hash>-<pid>-<random>}. */
    private static final Pattern BUILDING = Pattern.compile("\\.tmp-(attacked-.+)-(\\d+)-[0-9a-f]{8}");

    @TempDir
    Path tmp;

    @Test
    void aTinyGridThroughSbatchGivesTheResultsOfALocalRun() throws Exception {
        assertTrue(Slurm.available(), "SAFETUNE_SLURM_TEST=1 but sbatch does not answer");
        ExperimentConfig c = GridFixtures.config(tmp, 1);
        Path expected = GridFixtures.reference(c, tmp.resolve("alone"));
        Path runs = tmp.resolve("runs");
        submit(c, runs);
        GridFolder grid = GridFolder.of(runs, "tiny");
        GridStatus queued = GridStatus.now(grid);
        assertTrue(!queued.idle() && !queued.liveJobs().isEmpty(), "just submitted, the grid is queued or running: " + queued.render());
        GridStatus s = waitUntilIdle(grid);
        assertTrue(s.finished(), s.render());
        for (GridStatus.UnitStatus u : s.units()) {
            assertTrue(u.state().orElseThrow().job().matches("\\d+(_\\d+)?"), u.unit() + " ran as a Slurm job: " + u.state());
        }
        GridFixtures.assertSameResults(expected, grid.runDir().resolve("results.json"));
    }

    @Test
    void aTaskKilledMidStageAndSubmittedAgainCompletesTheGridWithTheSameResults() throws Exception {
        assertTrue(Slurm.available(), "SAFETUNE_SLURM_TEST=1 but sbatch does not answer");
        ExperimentConfig c = GridFixtures.config(tmp, 100); // fine-tunes of a few seconds, to be caught in the middle
        Path expected = GridFixtures.reference(c, tmp.resolve("alone"));
        Path runs = tmp.resolve("runs");
        submit(c, runs);
        GridFolder grid = GridFolder.of(runs, "tiny");

        String killed = killACellBuildingItsFineTune(grid);
        GridStatus s = waitUntilIdle(grid);
        assertTrue(!s.finished(), "the gather waits for every cell: " + s.render());
        GridStatus.UnitStatus k = s.units().stream().filter(u -> u.unit().equals(killed)).findFirst().orElseThrow();
        assertEquals(GridStatus.Standing.FAILED, k.standing(), s.render());
        assertTrue(k.state().orElseThrow().error().contains("stopped by a signal"), s.render());
        GridStatus.UnitStatus gather = s.units().stream().filter(u -> u.unit().equals(Plan.GATHER)).findFirst().orElseThrow();
        assertEquals(GridStatus.Standing.NOT_STARTED, gather.standing(), s.render());
        assertTrue(gather.left() != null && s.render().contains("not started, their jobs gone from the queue"),
                "the gather left the queue, its dependency never to be met: " + s.render());

        String out = submit(c, runs);
        assertTrue(out.contains("0 shared unit(s) and "), out);
        s = waitUntilIdle(grid);
        assertTrue(s.finished(), s.render());
        GridFixtures.assertSameResults(expected, grid.runDir().resolve("results.json"));
        try (Stream<Path> left = Files.list(grid.runDir().resolve("stages"))) {
            assertEquals(List.of(), left.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".tmp-")).toList(),
                    "the killed task's work folder is cleaned up");
        }
    }

    private static String submit(ExperimentConfig c, Path runs) {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        assertEquals(0, Grid.submit(c, runs, new Grid.ToSlurm(SlurmOptions.defaults()),
                new PrintStream(printed, true, StandardCharsets.UTF_8)));
        return printed.toString(StandardCharsets.UTF_8);
    }

    /** Waits for a cell's task to be in the middle of building a fine-tune, scancels it, and returns its unit. */
    private static String killACellBuildingItsFineTune(GridFolder grid) throws Exception {
        Path stages = grid.runDir().resolve("stages");
        long deadline = System.nanoTime() + 180_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (Files.isDirectory(stages)) {
                try (Stream<Path> s = Files.list(stages)) {
                    for (Path p : s.toList()) {
                        Matcher m = BUILDING.matcher(p.getFileName().toString());
                        if (!m.matches()) {
                            continue;
                        }
                        long pid = Long.parseLong(m.group(2));
                        for (Plan.Entry e : grid.readPlan().of(Phase.CELLS)) {
                            TaskState st = grid.state(e.id()).orElse(null);
                            if (st != null && st.pid() == pid && st.state() == TaskState.State.RUNNING && Files.exists(p)) {
                                try {
                                    Slurm.cancel(st.job());
                                    return e.id();
                                } catch (IllegalStateException ended) {
                                    break; // it finished between the look and the cancel: catch the next one
                                }
                            }
                        }
                    }
                }
            }
            Thread.sleep(20);
        }
        fail("no cell was seen building its fine-tune within 3 minutes:\n" + GridStatus.now(grid).render());
        return null;
    }

    private static GridStatus waitUntilIdle(GridFolder grid) throws InterruptedException {
        long deadline = System.nanoTime() + 300_000_000_000L;
        GridStatus s = GridStatus.now(grid);
        while (!s.idle()) {
            if (System.nanoTime() > deadline) {
                fail("the grid did not finish within 5 minutes:\n" + s.render());
            }
            Thread.sleep(500);
            s = GridStatus.now(grid);
        }
        return s;
    }
}
