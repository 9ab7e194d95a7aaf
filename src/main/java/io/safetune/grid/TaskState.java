package io.safetune.grid;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * What a task wrote about itself ({@code state/<unit>.json}): started, finished or failed, where, in
 * which job, under which plan. Status reads it beside the queue; the stages are the results.
 *
 * @param plan    the plan's hash: a state written under another plan (the config changed) does not count
 * @param job     the Slurm job ({@code <array job>_<task>}, or the job id) or "local"
 * @param seconds the task's wall time, once it ended
 * @param note    what the task found (the gather's targets)
 * @param error   why it failed
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TaskState(String unit, String plan, State state, String host, long pid, String job, String started,
        Double seconds, String note, String error) {

    /** A task's life. */
    public enum State { RUNNING, DONE, FAILED }

    public TaskState {
        if (unit == null || unit.isBlank()) {
            throw new IllegalArgumentException("unit: missing");
        }
        if (state == null) {
            throw new IllegalArgumentException("state: missing");
        }
        for (String[] f : new String[][] {{"plan", plan}, {"host", host}, {"job", job}, {"started", started}}) {
            if (f[1] == null || f[1].isBlank()) {
                throw new IllegalArgumentException(f[0] + ": missing");
            }
        }
    }

    /** This machine's host name, as tasks record it. */
    static String thisHost() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }

    /** The same task, ended. */
    TaskState ended(State end, double wallSeconds, String endNote, String endError) {
        return new TaskState(unit, plan, end, host, pid, job, started, wallSeconds, endNote, endError);
    }
}
