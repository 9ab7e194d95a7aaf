package io.safetune.kernel;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipFile;

/**
 * The "SafeTune (Java)" kernelspec: a folder {@code <kernels>/<name>/} with {@code kernel.json} (how
 * Jupyter starts the kernel: which JVM, which kernel jar, the lab on the classpath, quiet logging) and
 * {@code startup.jshell} (the lab's imports and the display registration), so notebooks need no set-up
 * cells. Written atomically: Jupyter never sees a half-written spec, and a failed write keeps the old one.
 */
public final class KernelSpec {

    public static final String DISPLAY_NAME = "SafeTune (Java)";
    public static final String KERNEL_JSON = "kernel.json";
    public static final String STARTUP_SCRIPT = "startup.jshell";

    /** Packages the start-up script imports, in order, when the classpath has them. */
    public static final List<String> WANTED_IMPORTS = List.of(
            "io.safetune.lab", "io.safetune.display", "io.safetune.safelora", "io.safetune.salora", "io.safetune.vaccine",
            "io.safetune.eval",
            "io.safetune.model", "io.safetune.lora", "io.safetune.train", "io.safetune.data.microworld",
            "io.safetune.experiment", "tech.tablesaw.api", "org.knowm.xchart", "java.nio.file", "java.util");

    /**
     * JVM options of the kernel: DJL never downloads; AWT headless for chart rendering; SLF4J at
     * warn, and DJL's "Failed to detect GPU count" warning (every CPU-only machine) off, because the
     * kernel forwards stderr into the cell's output.
     */
    public static final List<String> JVM_OPTIONS = List.of(
            "-Dai.djl.offline=true",
            "-Djava.awt.headless=true",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
            "-Dorg.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils=error");

    /** rapaio-jupyter-kernel's {@code MainApp} behind a start-up check (see {@code RapaioKernelMain}). */
    public static final String RAPAIO_MAIN = "io.safetune.kernel.rapaio.RapaioKernelMain";

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]+");

    /** The Jupyter kernel the spec runs. */
    public enum Kernel {
        /** rapaio-jupyter-kernel (from Maven Central): the default. */
        RAPAIO,
        /** IJava (from its GitHub release archive), through {@code --ijava-jar}. */
        IJAVA
    }

    private final Kernel kernel;
    private final String javaExe;
    private final Path kernelJar;
    private final Path extJar;
    private final Path libDir;
    private final List<String> imports;

    /**
     * @param kernel    which kernel
     * @param java      the {@code java} executable that runs the kernel (a path, or a name looked up on PATH)
     * @param kernelJar rapaio-jupyter-kernel's or IJava's jar
     * @param extJar    this module's jar
     * @param libDir    the lab jar and its runtime libraries (every jar in it goes on the classpath)
     * @param imports   packages to import at start-up ({@link #availableImports} finds them)
     */
    public KernelSpec(Kernel kernel, Path java, Path kernelJar, Path extJar, Path libDir, List<String> imports) {
        this.kernel = kernel;
        // A bare command name ("java") is looked up on the kernel's PATH; a path is made absolute.
        this.javaExe = java.getParent() == null ? java.toString() : java.toAbsolutePath().normalize().toString();
        this.kernelJar = kernelJar.toAbsolutePath().normalize();
        this.extJar = extJar.toAbsolutePath().normalize();
        this.libDir = libDir.toAbsolutePath().normalize();
        this.imports = List.copyOf(imports);
    }

    public Kernel kernel() {
        return kernel;
    }

    public List<String> imports() {
        return imports;
    }

    /**
     * The content of {@code kernel.json} for a spec that lives in {@code specDir}.
     * <p>
     * rapaio: the lab, its libraries and this jar go on the JVM's class path (rapaio's jar first; the
     * main class runs rapaio's {@code MainApp}), not only on {@code RJK_CLASSPATH}: rapaio finds display
     * services with a {@code ServiceLoader} bound to the context loader of the thread that first renders,
     * which does not see JShell's loader, and its init script is evaluated as a single snippet, so it
     * can hold imports but no registration call. JShell compiles against the JVM's class path, so cells
     * see the lab all the same. IJava: its documented {@code IJAVA_CLASSPATH} and a start-up script
     * that registers the renderers.
     */
    public Map<String, Object> kernelJson(Path specDir) {
        List<String> argv = new ArrayList<>();
        argv.add(javaExe);
        argv.addAll(JVM_OPTIONS);
        Map<String, String> env = new LinkedHashMap<>();
        String script = specDir.toAbsolutePath().normalize().resolve(STARTUP_SCRIPT).toString();
        if (kernel == Kernel.RAPAIO) {
            argv.add("-cp");
            argv.add(String.join(File.pathSeparator, kernelJar.toString(), extJar.toString(), libDir.resolve("*").toString()));
            argv.add(RAPAIO_MAIN);
            env.put("RJK_INIT_SCRIPT", script);
            env.put("RJK_TIMEOUT_MILLIS", "-1");
        } else {
            argv.add("-jar");
            argv.add(kernelJar.toString());
            // IJava splits IJAVA_CLASSPATH on the path separator and expands each entry as a glob.
            env.put("IJAVA_CLASSPATH", extJar + File.pathSeparator + libDir.resolve("*"));
            env.put("IJAVA_STARTUP_SCRIPTS_PATH", script);
        }
        argv.add("{connection_file}");
        env.put("DJL_OFFLINE", "true");
        env.putAll(io.safetune.engine.NativeHeap.KEEP); // glibc reads them at start: freed pages stay for the next cell's step

        Map<String, Object> json = new LinkedHashMap<>();
        json.put("argv", argv);
        json.put("display_name", DISPLAY_NAME);
        json.put("language", "java");
        json.put("interrupt_mode", "message");
        json.put("env", env);
        json.put("metadata", Map.of("safetune", Map.of("kernel", kernel.name().toLowerCase(Locale.ROOT),
                "kernel_jar", kernelJar.toString())));
        return json;
    }

    /**
     * The start-up script: the imports (for rapaio, whose script must be one snippet, nothing else; its
     * renderers are found as a service), and for IJava the renderer registration.
     */
    public String startupScript() {
        StringBuilder s = new StringBuilder();
        for (String p : imports) {
            s.append("import ").append(p).append(".*;\n");
        }
        if (kernel == Kernel.IJAVA) {
            s.append("io.safetune.kernel.ijava.SafeTuneDisplays.registerInIJava();\n");
        }
        return s.toString();
    }

    /**
     * Writes the spec to {@code kernelsDir/name}, replacing an existing one: both files go into a
     * temporary folder beside it that is then renamed into place.
     *
     * @return the spec folder
     */
    public Path writeTo(Path kernelsDir, String name) {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("kernel name: letters, digits, '.', '_' and '-' only, got '" + name + "'");
        }
        Path dir = kernelsDir.toAbsolutePath().normalize();
        Path target = dir.resolve(name);
        Path tmp = null;
        Path old = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempDirectory(dir, "." + name + ".tmp-");
            ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            Files.writeString(tmp.resolve(KERNEL_JSON), json.writeValueAsString(kernelJson(target)) + "\n",
                    StandardCharsets.UTF_8);
            Files.writeString(tmp.resolve(STARTUP_SCRIPT), startupScript(), StandardCharsets.UTF_8);
            // Temporary folders are created 0700; Jupyter may run as another user of a shared prefix.
            tmp.toFile().setReadable(true, false);
            tmp.toFile().setExecutable(true, false);
            if (Files.exists(target)) {
                old = dir.resolve("." + name + ".old-" + UUID.randomUUID());
                move(target, old);
            }
            move(tmp, target);
            tmp = null;
            if (old != null) {
                deleteTree(old);
                old = null;
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the kernelspec " + target + ": " + e.getMessage(), e);
        } finally {
            if (old != null && !Files.exists(target)) {
                try {
                    move(old, target); // put the previous spec back
                } catch (IOException ignored) {
                    // the exception being thrown says what failed
                }
            }
            if (tmp != null) {
                deleteTree(tmp);
            }
        }
    }

    /**
     * The packages of {@code wanted} that exist: {@code java.*} always, others when a jar of
     * {@code jars} has a class in them. Importing a package that does not exist would stop the kernel
     * at start-up, and the lab's packages change between versions.
     */
    public static List<String> availableImports(List<String> wanted, List<Path> jars) {
        Set<String> present = new LinkedHashSet<>();
        for (Path jar : jars) {
            try (ZipFile zip = new ZipFile(jar.toFile())) {
                zip.stream().map(e -> e.getName())
                        .filter(n -> n.endsWith(".class") && n.lastIndexOf('/') > 0)
                        .map(n -> n.substring(0, n.lastIndexOf('/')).replace('/', '.'))
                        .forEach(present::add);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + jar + ": " + e.getMessage(), e);
            }
        }
        return wanted.stream().filter(p -> p.startsWith("java.") || present.contains(p)).toList();
    }

    /** The jars directly in {@code dir}, sorted by name. */
    public static List<Path> jarsIn(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".jar") && Files.isRegularFile(p)).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> s = Files.walk(root)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a leftover hidden folder only costs disk space; the spec itself is in place
        }
    }
}
