package io.safetune.grid;

import java.util.List;
import java.util.regex.Pattern;

/**
 * What each task asks Slurm for: written as {@code #SBATCH} lines into every job script.
 *
 * @param partition   {@code --partition}; null: the cluster's default
 * @param gpusPerTask {@code --gpus-per-task}; 0: none asked for
 * @param time        {@code --time}, e.g. 4:00:00; null: the partition's default
 * @param cpusPerTask {@code --cpus-per-task}, also the task's libtorch threads
 * @param mem         {@code --mem}, e.g. 16G; null: the partition's default
 * @param extra       further sbatch options, each one {@code --name=value} (an account, a QoS, a constraint)
 */
public record SlurmOptions(String partition, int gpusPerTask, String time, int cpusPerTask, String mem, List<String> extra) {

    private static final Pattern WORD = Pattern.compile("[A-Za-z0-9_.:,+=/-]+");

    public SlurmOptions {
        extra = extra == null ? List.of() : List.copyOf(extra);
        plain("partition", partition);
        plain("time", time);
        plain("mem", mem);
        if (gpusPerTask < 0) {
            throw new IllegalArgumentException("gpusPerTask: must be >= 0, got " + gpusPerTask);
        }
        if (cpusPerTask < 1) {
            throw new IllegalArgumentException("cpusPerTask: must be >= 1, got " + cpusPerTask);
        }
        for (String e : extra) {
            if (!e.startsWith("--") || !WORD.matcher(e.substring(2)).matches()) {
                throw new IllegalArgumentException("sbatch option: expected --name or --name=value without spaces or quotes, got '"
                        + e + "'");
            }
        }
    }

    /** One CPU a task, nothing else asked for: what the local cluster and --local use. */
    public static SlurmOptions defaults() {
        return new SlurmOptions(null, 0, null, 1, null, List.of());
    }

    private static void plain(String field, String value) {
        if (value != null && !WORD.matcher(value).matches()) {
            throw new IllegalArgumentException(field + ": expected one word without spaces or quotes, got '" + value + "'");
        }
    }

    /** The {@code #SBATCH} lines of these options. */
    List<String> lines() {
        List<String> l = new java.util.ArrayList<>();
        if (partition != null) {
            l.add("--partition=" + partition);
        }
        if (time != null) {
            l.add("--time=" + time);
        }
        l.add("--cpus-per-task=" + cpusPerTask);
        if (gpusPerTask > 0) {
            l.add("--gpus-per-task=" + gpusPerTask);
        }
        if (mem != null) {
            l.add("--mem=" + mem);
        }
        l.addAll(extra);
        return l.stream().map(s -> "#SBATCH " + s).toList();
    }
}
