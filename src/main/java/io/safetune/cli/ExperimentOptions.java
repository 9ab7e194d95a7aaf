package io.safetune.cli;

import io.safetune.experiment.ExperimentConfig;

import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;

/** The experiment file and the command line's overrides: what `reproduce` and `grid` read the same way. */
final class ExperimentOptions {

    @Option(names = "--config", paramLabel = "FILE", description = "experiment file (.json, .yaml); default: the built-in default")
    Path config;

    @Option(names = "--name", paramLabel = "NAME", description = "run name (overrides the config's)")
    String name;

    @Option(names = "--seeds", split = ",", paramLabel = "S", description = "seeds (override the config's), e.g. 0,1,2")
    List<Long> seeds;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "real-data experiments: where the data files are (overrides real.dataDir; default $SAFETUNE_DATA_DIR, else ~/.safetune/data)")
    Path dataDir;

    @Option(names = "--allow-unpinned", description = "real-data experiments: read data files whose manifest pins no sha256 (prints it to pin)")
    boolean allowUnpinned;

    /** The experiment with the overrides laid over it; --data-dir is made absolute (a grid's tasks may run elsewhere). */
    ExperimentConfig load() {
        ExperimentConfig c = config == null ? ExperimentConfig.defaults() : ExperimentConfig.load(config);
        c = c.withNameAndSeeds(name, seeds);
        if (dataDir != null || allowUnpinned) {
            if (c.real() == null) {
                throw new IllegalArgumentException("--data-dir and --allow-unpinned apply to real-data experiments only "
                        + "(the config has no 'real' section)");
            }
            c = c.withReal(c.real().withDataDir(dataDir == null ? null : dataDir.toAbsolutePath().toString())
                    .withAllowUnpinned(c.real().allowUnpinned() || allowUnpinned));
        }
        return c;
    }
}
