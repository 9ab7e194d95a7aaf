package io.safetune.cli;

import io.safetune.experiment.ExperimentConfig;
import io.safetune.experiment.Results;
import io.safetune.experiment.Story;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "reproduce", mixinStandardHelpOptions = true,
        description = {"Runs the story: a tiny Llama pretrained (base), aligned, attacked with a LoRA fine-tune",
            "(p = 0.1 and the benign control p = 0), and each defence of the experiment in its slot (align, fine-tune,",
            "post-process; default: the Safe LoRA sweep); every product evaluated (harmful score, compliance, task",
            "accuracy) and Harmful Embedding Drift measured. Writes runs/<name>/results.json and report.html.",
            "Finished stages are reused (keyed by a hash of their configuration); --fresh redoes them.",
            "Exits " + ReproduceCommand.TARGET_MISSED + " when a micro-world target is missed, unless --report-only.",
            "A config with a `real:` section runs the attack on a real checkpoint and real datasets instead (docs/configuration.md)."})
final class ReproduceCommand implements Callable<Integer> {

    @Mixin
    ExperimentOptions experiment;

    @Option(names = "--runs", defaultValue = "runs", paramLabel = "DIR", description = "where runs go (default ${DEFAULT-VALUE})")
    Path runs;

    @Option(names = "--fresh", description = "redo every stage")
    boolean fresh;

    @Option(names = "--threads", defaultValue = "2", description = "libtorch intra-op threads (default ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--report-only", description = "exit 0 even when a target is missed (default: exit " + TARGET_MISSED
            + ", so that CI fails on a broken testbed)")
    boolean reportOnly;

    /** The exit code of a run that missed a target (errors exit 2). */
    static final int TARGET_MISSED = 3;

    @Override
    public Integer call() {
        ai.djl.engine.Engine.getInstance();
        ai.djl.pytorch.jni.JniUtils.setNumThreads(threads);
        ExperimentConfig c = experiment.load();
        Story story = new Story(c, runs, fresh, System.out);
        Results r = story.run();
        long met = r.targets().stream().filter(t -> t.met()).count();
        if (!r.targets().isEmpty()) {
            System.out.printf("%nTargets met: %d of %d%n", met, r.targets().size());
        }
        r.targets().stream().filter(t -> !t.met()).forEach(t -> System.out.printf("  not met: seed %d %s %s = %.3f (target %s)%n",
                t.seed(), t.model(), t.metric(), t.value(), t.target()));
        System.out.printf("Wall time %.0f s. Wrote %s and %s%n", r.wallSeconds(), story.runDir().resolve("results.json"),
                story.runDir().resolve("report.html"));
        if (met < r.targets().size() && !reportOnly) {
            System.out.printf("Exit %d: %d target(s) missed (--report-only to exit 0)%n", TARGET_MISSED, r.targets().size() - met);
            return TARGET_MISSED;
        }
        return 0;
    }
}
