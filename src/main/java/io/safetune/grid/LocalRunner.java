package io.safetune.grid;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code grid submit --local N}: the grid's own job scripts run here, N processes at a time, phase
 * after phase as Slurm's afterok dependencies would (a phase with a failed task stops the grid; a new
 * submission reruns what is not done).
 */
final class LocalRunner {

    private LocalRunner() {
    }

    static int run(GridFolder grid, List<Submission.Job> jobs, int processes, PrintStream out) {
        ExecutorService pool = Executors.newFixedThreadPool(processes);
        try {
            Files.createDirectories(grid.logs());
            for (Submission.Job job : jobs) {
                out.printf(Locale.ROOT, "[%s] %d task(s), %d at a time%n", job.phase().word(), job.units().size(), processes);
                List<Future<Integer>> running = new ArrayList<>();
                for (int i = 0; i < job.units().size(); i++) {
                    int index = i;
                    running.add(pool.submit(() -> runTask(grid, job, index, out)));
                }
                int failed = 0;
                for (Future<Integer> f : running) {
                    failed += f.get() == 0 ? 0 : 1;
                }
                if (failed > 0) {
                    out.printf("%d task(s) of %s failed; the next phase needs every one (safetune grid status shows why; "
                            + "grid submit again reruns what is not done)%n", failed, job.phase().word());
                    return 1;
                }
            }
            return 0;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + grid.logs(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("a local task could not be started: " + e.getCause().getMessage(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    private static int runTask(GridFolder grid, Submission.Job job, int index, PrintStream out) throws Exception {
        String unit = job.units().get(index);
        ProcessBuilder pb = new ProcessBuilder("bash", grid.script(job.phase()).toString()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(grid.log(unit).toFile()));
        pb.environment().keySet().removeIf(k -> k.startsWith("SLURM_"));
        pb.environment().put("SLURM_ARRAY_TASK_ID", Integer.toString(index));
        long t0 = System.nanoTime();
        Process p = pb.start();
        int code = p.waitFor();
        synchronized (out) {
            out.printf(Locale.ROOT, "  %-6s %s (%.1f s)%s%n", code == 0 ? "done" : "FAILED", unit, (System.nanoTime() - t0) / 1e9,
                    code == 0 ? "" : " exit " + code + ", log " + grid.log(unit));
        }
        return code;
    }
}
