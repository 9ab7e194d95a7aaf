package io.safetune.grid;

import java.util.List;

/**
 * One {@code grid submit}: when, how, and which job ran which units (status maps a queued array task
 * {@code <job>_<index>} back to its unit through it).
 *
 * @param at   UTC time of the submission
 * @param plan the plan's hash
 * @param how  where the jobs went
 * @param jobs the jobs submitted, in phase order (a phase with nothing to do has none)
 */
public record Submission(String at, String plan, How how, List<Job> jobs) {

    /** Where a submission's jobs went. */
    public enum How { SLURM, LOCAL, DRY_RUN }

    public Submission {
        jobs = List.copyOf(jobs);
    }

    /**
     * One job: an array of {@code units} (index i runs units[i]), or the gather.
     *
     * @param id the Slurm job id; null for local and dry runs
     */
    public record Job(Phase phase, String id, List<String> units) {
        public Job {
            units = List.copyOf(units);
        }
    }
}
