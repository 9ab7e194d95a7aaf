package io.safetune.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code safetune} command line: thin sub-commands over the library. */
@Command(name = "safetune", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "SafeTune Lab: safety-preserving fine-tuning of Llama-family models (Safe LoRA, SaLoRA, Vaccine).",
        subcommands = {ReproduceCommand.class, CompareCommand.class, GridCommand.class, SafeLoraCommand.class, SaLoraExportCommand.class, ParityCommand.class, GenerateCommand.class, TrainCommand.class, BenchCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        io.safetune.engine.Arithmetic.pin(); // before anything touches libtorch
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit code (for tests). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        addKernelCommand(cl);
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            // One clear line for bad input (the exception names the file and field); a trace otherwise.
            if (e instanceof IllegalArgumentException || e instanceof io.safetune.checkpoint.CheckpointException
                    || e instanceof java.io.UncheckedIOException) {
                cmd.getErr().println("error: " + e.getMessage());
            } else {
                e.printStackTrace(cmd.getErr());
            }
            return 2;
        });
        return cl.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /**
     * {@code safetune kernel …} lives in kernel-ext, a separate module that depends on the lab; the
     * launcher puts it on the classpath for that command, and only then is the sub-command there.
     */
    static void addKernelCommand(CommandLine cl) {
        Class<?> c;
        try {
            c = Class.forName("io.safetune.kernel.KernelCommand");
        } catch (ClassNotFoundException e) {
            return;
        }
        try {
            cl.addSubcommand("kernel", c.getDeclaredConstructor().newInstance());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("kernel-ext is on the classpath but its command cannot be created", e);
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"safetune " + (v == null ? "dev" : v) + " (DJL 0.35.1, PyTorch 2.7.1)"};
        }
    }
}
