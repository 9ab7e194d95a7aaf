package io.safetune.kernel;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code safetune kernel}: the Jupyter kernel for notebooks. The lab's {@code safetune} command adds it
 * when this module is on the classpath (the launcher puts it there for {@code safetune kernel …}).
 */
@Command(name = "kernel",
        description = "Jupyter kernel for the lab's notebooks.",
        subcommands = {KernelInstall.class, CommandLine.HelpCommand.class})
public final class KernelCommand implements Runnable {

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
