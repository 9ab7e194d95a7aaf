package io.safetune.kernel;

import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import java.util.zip.ZipFile;

/**
 * {@code safetune kernel install}: writes the "SafeTune (Java)" kernelspec for rapaio-jupyter-kernel (the
 * default) or IJava, pointing at this build's jars, so that notebooks start with the lab imported and
 * its results displaying themselves.
 */
@Command(name = "install",
        description = {"Writes the \"SafeTune (Java)\" Jupyter kernelspec (rapaio-jupyter-kernel by default, IJava with --ijava-jar).",
                "Its classpath holds the lab, its start-up imports the lab's API: notebooks need no set-up cells."})
public final class KernelInstall implements Callable<Integer> {

    @Option(names = "--ijava-jar", paramLabel = "PATH",
            description = "IJava's kernel jar (from its release archive: java/ijava-1.3.0.jar); without it the kernel is rapaio-jupyter-kernel")
    Path ijavaJar;

    @ArgGroup(exclusive = true)
    Where where = new Where();

    @Option(names = "--name", defaultValue = "safetune", paramLabel = "NAME",
            description = "kernelspec name, what ExecutePreprocessor.kernel_name and a notebook's metadata refer to (default: ${DEFAULT-VALUE})")
    String name;

    @Option(names = "--java", paramLabel = "PATH",
            description = "the java executable that runs the kernel (a JDK 17+: the kernels need jdk.jshell); default: the one running this command")
    Path java;

    @Option(names = "--build-dir", paramLabel = "DIR",
            description = "kernel-ext's build folder (its jar, lib/ and kernel/); default: where this command was loaded from")
    Path buildDir;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Where the spec goes; Jupyter's own {@code kernelspec install} has the same three choices. */
    static final class Where {
        @Option(names = "--user", description = "the user's Jupyter data folder (the default): ~/.local/share/jupyter/kernels on Linux")
        boolean user;

        @Option(names = "--prefix", paramLabel = "DIR", description = "DIR/share/jupyter/kernels (e.g. a virtual environment's prefix)")
        Path prefix;

        @Option(names = "--jupyter-path", paramLabel = "DIR", description = "DIR/kernels, for JUPYTER_PATH=DIR (a build folder, CI)")
        Path jupyterPath;
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Path build = buildDir != null ? buildDir : ownBuildDir();
        Path extJar = single(build, "safetune-kernel-ext-", "kernel-ext's jar (mvn -f kernel-ext/pom.xml package)");
        Path lib = build.resolve("lib");
        if (!Files.isDirectory(lib)) {
            throw new IllegalArgumentException(lib + " is missing: build kernel-ext with mvn -f kernel-ext/pom.xml package");
        }
        List<Path> libJars = KernelSpec.jarsIn(lib);
        if (libJars.stream().noneMatch(p -> p.getFileName().toString().startsWith("safetune-lab-"))) {
            throw new IllegalArgumentException(lib + " has no safetune-lab jar: build kernel-ext with mvn -f kernel-ext/pom.xml package");
        }
        KernelSpec.Kernel kernel;
        Path kernelJar;
        if (ijavaJar != null) {
            kernel = KernelSpec.Kernel.IJAVA;
            kernelJar = ijavaJar;
            requireClass(ijavaJar, "io/github/spencerpark/ijava/IJava.class", "IJava's kernel jar");
        } else {
            kernel = KernelSpec.Kernel.RAPAIO;
            kernelJar = single(build.resolve("kernel"), "rapaio-jupyter-kernel-", "rapaio-jupyter-kernel's jar");
        }
        List<Path> scanned = new ArrayList<>(libJars);
        scanned.add(extJar);
        KernelSpec ks = new KernelSpec(kernel, java != null ? java : currentJava(), kernelJar, extJar, lib,
                KernelSpec.availableImports(KernelSpec.WANTED_IMPORTS, scanned));
        Path dir = ks.writeTo(kernelsDir(), name);
        out.printf(Locale.ROOT, "Installed kernelspec '%s' (%s, %s) in %s%n", name, KernelSpec.DISPLAY_NAME,
                kernel == KernelSpec.Kernel.RAPAIO ? "rapaio-jupyter-kernel" : "IJava", dir);
        out.printf(Locale.ROOT, "  kernel jar: %s%n  imports:    %s%n", kernelJar.toAbsolutePath().normalize(),
                String.join(", ", ks.imports()));
        if (where.jupyterPath != null) {
            out.printf(Locale.ROOT, "  use it with JUPYTER_PATH=%s%n", where.jupyterPath.toAbsolutePath().normalize());
        }
        out.flush();
        return 0;
    }

    /** The {@code kernels} folder the options choose. */
    Path kernelsDir() {
        if (where.jupyterPath != null) {
            return where.jupyterPath.resolve("kernels");
        }
        if (where.prefix != null) {
            return where.prefix.resolve("share").resolve("jupyter").resolve("kernels");
        }
        return userDataDir().resolve("kernels");
    }

    /** Jupyter's per-user data folder, as jupyter_core computes it (JUPYTER_DATA_DIR first). */
    static Path userDataDir() {
        String explicit = System.getenv("JUPYTER_DATA_DIR");
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit);
        }
        Path home = Path.of(System.getProperty("user.home"));
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        if (os.contains("mac")) {
            return home.resolve("Library").resolve("Jupyter");
        }
        if (os.contains("win")) {
            String appData = System.getenv("APPDATA");
            return (appData != null ? Path.of(appData) : home).resolve("jupyter");
        }
        String xdg = System.getenv("XDG_DATA_HOME");
        return (xdg != null && !xdg.isBlank() ? Path.of(xdg) : home.resolve(".local").resolve("share")).resolve("jupyter");
    }

    /** The folder this class was loaded from: the jar's folder, or for {@code target/classes} its parent. */
    static Path ownBuildDir() {
        try {
            Path source = Path.of(KernelInstall.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return source.toAbsolutePath().getParent();
        } catch (URISyntaxException | SecurityException | NullPointerException e) {
            throw new IllegalStateException("cannot tell where kernel-ext was loaded from; pass --build-dir", e);
        }
    }

    static Path currentJava() {
        Path home = Path.of(System.getProperty("java.home"));
        return home.resolve("bin").resolve(System.getProperty("os.name", "").startsWith("Windows") ? "java.exe" : "java");
    }

    /** The one jar in {@code dir} whose name starts with {@code prefix} (not sources/javadoc/tests). */
    static Path single(Path dir, String prefix, String what) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(what + " not found: " + dir + " is missing");
        }
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> found = s.filter(p -> {
                String n = p.getFileName().toString();
                return n.startsWith(prefix) && n.endsWith(".jar") && !n.endsWith("-sources.jar")
                        && !n.endsWith("-javadoc.jar") && !n.endsWith("-tests.jar");
            }).sorted().toList();
            if (found.size() != 1) {
                throw new IllegalArgumentException(what + ": expected one " + prefix + "*.jar in " + dir + ", found "
                        + (found.isEmpty() ? "none" : found));
            }
            return found.get(0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void requireClass(Path jar, String entry, String what) {
        if (!Files.isRegularFile(jar)) {
            throw new IllegalArgumentException(what + " not found: " + jar);
        }
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            if (zip.getEntry(entry) == null) {
                throw new IllegalArgumentException(jar + " is not " + what + " (no " + entry + ")");
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(jar + " is not a readable jar: " + e.getMessage(), e);
        }
    }
}
