/**
 * The comparison grid on a cluster: one Slurm job-array task per cell of an experiment, the shared
 * stages (base and aligned models) in a job array before them, and a gather job after them that writes
 * results.json and report.html. The content-keyed stage cache on a shared filesystem is the only
 * coordination between tasks; {@code --local N} runs the same job scripts as local processes.
 * Above the story: it knows defences only through {@link io.safetune.experiment.Story}.
 */
package io.safetune.grid;
