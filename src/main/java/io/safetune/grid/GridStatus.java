package io.safetune.grid;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Which units of a grid are done, running, queued, failed or not started: each task's own state file
 * read beside Slurm's queue. A task that says it is running but is neither in the queue nor alive
 * here was killed (or its node went down) and counts as failed.
 */
public record GridStatus(GridFolder grid, Plan plan, List<UnitStatus> units) {

    /** Where a unit stands. */
    public enum Standing { DONE, RUNNING, QUEUED, FAILED, NOT_STARTED }

    /**
     * One unit's standing.
     *
     * @param state what its task last wrote (absent: it never started under this plan)
     * @param job   its queued or running Slurm job, if any
     * @param left  for a unit not started: the Slurm job of the last submission that should have run it and left
     *              the queue without starting it (a dependency failed, or Slurm could not start it), else null
     */
    public record UnitStatus(String unit, Phase phase, Standing standing, Optional<TaskState> state, String job, String left) {
    }

    /**
     * The grid's status with {@code queue}, Slurm's queue ({@link Slurm#queue}). Only the last
     * submission's jobs can still be queued (a grid is not submitted while it has live jobs), and a
     * queue entry counts only under the job name the grid gave it, so another grid's job that got a
     * reused id is never taken for this one's.
     */
    static GridStatus of(GridFolder grid, Map<String, Slurm.Queued> queue) {
        if (!Files.isRegularFile(grid.plan())) {
            return new GridStatus(grid, new Plan("", "", List.of()), List.of());
        }
        Plan plan = grid.readPlan();
        Map<String, String> slot = new LinkedHashMap<>(); // unit → its job in the last Slurm submission
        Map<String, String> queued = new LinkedHashMap<>(); // unit → Slurm's state of that job
        List<Submission> subs = grid.readSubmissions();
        if (!subs.isEmpty() && subs.get(subs.size() - 1).how() == Submission.How.SLURM) {
            for (Submission.Job j : subs.get(subs.size() - 1).jobs()) {
                for (int i = 0; i < j.units().size(); i++) {
                    String key = j.phase() == Phase.GATHER ? j.id() : j.id() + "_" + i;
                    slot.put(j.units().get(i), key);
                    Slurm.Queued q = queue.get(key);
                    if (q != null && q.name().equals(JobScripts.jobName(plan.name(), j.phase()))) {
                        queued.put(j.units().get(i), q.state());
                    }
                }
            }
        }
        List<UnitStatus> units = new ArrayList<>();
        List<String> ids = new ArrayList<>(plan.units().stream().map(Plan.Entry::id).toList());
        ids.add(Plan.GATHER);
        String here = TaskState.thisHost();
        for (String id : ids) {
            Phase phase = id.equals(Plan.GATHER) ? Phase.GATHER
                    : plan.units().stream().filter(e -> e.id().equals(id)).findFirst().orElseThrow().phase();
            Optional<TaskState> st = grid.state(id).filter(s -> plan.hash().equals(s.plan()));
            String q = queued.get(id);
            Standing standing;
            if (st.isPresent() && st.get().state() == TaskState.State.DONE) {
                standing = Standing.DONE;
            } else if (q != null) {
                standing = q.startsWith("PENDING") || q.startsWith("CONFIGURING") ? Standing.QUEUED : Standing.RUNNING;
            } else if (st.isPresent() && st.get().state() == TaskState.State.RUNNING) {
                standing = aliveHere(st.get(), here) ? Standing.RUNNING : Standing.FAILED;
            } else if (st.isPresent()) {
                standing = Standing.FAILED;
            } else {
                standing = Standing.NOT_STARTED;
            }
            String job = q != null ? slot.get(id) : standing == Standing.RUNNING ? "local pid " + st.get().pid() : null;
            units.add(new UnitStatus(id, phase, standing, st, job, standing == Standing.NOT_STARTED ? slot.get(id) : null));
        }
        return new GridStatus(grid, plan, units);
    }

    /** A task started by --local on this host whose process is still alive. */
    private static boolean aliveHere(TaskState s, String here) {
        return s.job().equals("local") && s.host().equals(here) && ProcessHandle.of(s.pid()).map(ProcessHandle::isAlive).orElse(false);
    }

    /** The status now: Slurm's queue is asked only when the last submission went to Slurm. */
    public static GridStatus now(GridFolder grid) {
        List<Submission> subs = Files.isRegularFile(grid.plan()) ? grid.readSubmissions() : List.of();
        boolean slurm = !subs.isEmpty() && subs.get(subs.size() - 1).how() == Submission.How.SLURM;
        return of(grid, slurm ? Slurm.queue() : Map.of());
    }

    /** The gather is done: results.json and report.html are the whole grid's. */
    public boolean finished() {
        return units.stream().anyMatch(u -> u.phase() == Phase.GATHER && u.standing() == Standing.DONE);
    }

    /** Slurm jobs (and local processes) of this grid still queued or running. */
    public List<String> liveJobs() {
        return units.stream().filter(u -> u.job() != null).map(UnitStatus::job).distinct().toList();
    }

    /** Nothing of this grid is queued or running. */
    public boolean idle() {
        return units.stream().noneMatch(u -> u.standing() == Standing.RUNNING || u.standing() == Standing.QUEUED);
    }

    /** What {@code grid status} prints. */
    public String render() {
        StringBuilder sb = new StringBuilder();
        sb.append("grid ").append(plan.name()).append(": ").append(grid.dir()).append(" (plan ").append(plan.hash()).append(")\n");
        List<Submission> subs = grid.readSubmissions();
        if (!subs.isEmpty()) {
            Submission last = subs.get(subs.size() - 1);
            sb.append("last submitted ").append(last.at()).append(switch (last.how()) {
                case SLURM -> " to Slurm, jobs " + String.join(", ", last.jobs().stream().map(j -> j.phase().word() + " " + j.id()).toList());
                case LOCAL -> " as local processes";
                case DRY_RUN -> " as a dry run (scripts only)";
            }).append('\n');
        }
        for (Phase phase : Phase.values()) {
            List<UnitStatus> of = units.stream().filter(u -> u.phase() == phase).toList();
            Map<Standing, Integer> n = new LinkedHashMap<>();
            double seconds = 0;
            for (UnitStatus u : of) {
                n.merge(u.standing(), 1, Integer::sum);
                if (u.standing() == Standing.DONE && u.state().get().seconds() != null) {
                    seconds += u.state().get().seconds();
                }
            }
            List<String> parts = new ArrayList<>();
            n.forEach((k, v) -> parts.add(v + " " + k.name().toLowerCase(Locale.ROOT).replace('_', ' ')));
            sb.append(String.format(Locale.ROOT, "  %-7s %2d: %s", phase.word(), of.size(), String.join(", ", parts)));
            if (seconds > 0) {
                sb.append(String.format(Locale.ROOT, " (their work: %.0f s of task time, JVM starts not counted)", seconds));
            }
            sb.append('\n');
        }
        for (UnitStatus u : units) {
            if (u.standing() == Standing.FAILED) {
                String why = u.state().map(s -> s.state() == TaskState.State.RUNNING
                        ? "stopped without a word (killed, or its node went down) in job " + s.job() : s.error()).orElse("");
                sb.append("  failed   ").append(u.unit()).append(": ").append(why).append("\n           log ")
                        .append(grid.log(u.unit())).append('\n');
            } else if (u.standing() == Standing.RUNNING) {
                sb.append("  running  ").append(u.unit()).append(u.state().map(s -> " on " + s.host() + " since " + s.started()).orElse(""))
                        .append(u.job() == null ? "" : " (job " + u.job() + ")").append('\n');
            }
        }
        List<String> left = units.stream().filter(u -> u.left() != null).map(u -> u.unit() + " (" + u.left() + ")").toList();
        if (!left.isEmpty()) {
            sb.append("  not started, their jobs gone from the queue (a unit of an earlier job failed, or the task failed before it "
                    + "could say so: see ").append(grid.logs()).append("/<unit>.log and slurm-<job>_<task>.out): ").append(String.join(", ", left)).append('\n');
        }
        units.stream().filter(u -> u.phase() == Phase.GATHER && u.standing() == Standing.DONE).findFirst().ifPresent(g -> {
            java.time.Instant first = units.stream().flatMap(u -> u.state().stream()).map(t -> java.time.Instant.parse(t.started()))
                    .min(java.util.Comparator.naturalOrder()).orElseThrow();
            TaskState end = g.state().get();
            double wall = java.time.Duration.between(first, java.time.Instant.parse(end.started())).toMillis() / 1e3 + end.seconds();
            sb.append(String.format(Locale.ROOT, "wall time from the first task's start to the gather's end: %.0f s%n", wall));
        });
        units.stream().filter(u -> u.phase() == Phase.GATHER && u.standing() == Standing.DONE).findFirst().ifPresent(g ->
                sb.append("results: ").append(grid.runDir().resolve("results.json")).append(", ")
                        .append(grid.runDir().resolve("report.html"))
                        .append(g.state().get().note() == null ? "" : " (" + g.state().get().note() + ")").append('\n'));
        if (!finished() && idle() && units.stream().anyMatch(u -> u.standing() == Standing.FAILED || u.standing() == Standing.NOT_STARTED)) {
            sb.append("nothing is queued or running: `safetune grid submit` with the same file reruns what is not done "
                    + "(finished stages are reused)\n");
        }
        return sb.toString();
    }
}
