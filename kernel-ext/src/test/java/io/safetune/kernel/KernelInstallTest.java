package io.safetune.kernel;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.safetune.cli.Main;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code safetune kernel install} on a build folder laid out like kernel-ext/target. */
class KernelInstallTest {

    @TempDir
    Path tmp;
    Path build;

    @BeforeEach
    void buildFolder() {
        build = tmp.resolve("build");
        Fixtures.jar(build.resolve("safetune-kernel-ext-0.1.0-SNAPSHOT.jar"), "io/safetune/kernel/KernelSpec.class");
        Fixtures.jar(build.resolve("safetune-kernel-ext-0.1.0-SNAPSHOT-sources.jar"), "io/safetune/kernel/KernelSpec.java");
        Fixtures.jar(build.resolve("lib/safetune-lab-0.1.0-SNAPSHOT.jar"), "io/safetune/display/Charts.class",
                "io/safetune/eval/HarmfulScore.class");
        Fixtures.jar(build.resolve("lib/xchart-3.8.8.jar"), "org/knowm/xchart/XYChart.class");
        Fixtures.jar(build.resolve("kernel/rapaio-jupyter-kernel-3.0.1.jar"), "org/rapaio/jupyter/kernel/MainApp.class");
    }

    private record Run(int code, String out, String err) {
    }

    /** Through the lab's own command line, which adds {@code kernel} only when kernel-ext is present. */
    private static Run main(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int code = Main.run(args);
            return new Run(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    private static JsonNode json(Path file) throws IOException {
        return new ObjectMapper().readTree(file.toFile());
    }

    @Test
    void installsForRapaioIntoAJupyterPath() throws IOException {
        Run r = main("kernel", "install", "--build-dir", build.toString(), "--jupyter-path", tmp.resolve("jp").toString());
        assertEquals(0, r.code(), r.err());
        Path dir = tmp.resolve("jp/kernels/safetune");
        JsonNode k = json(dir.resolve("kernel.json"));
        int n = k.get("argv").size();
        assertEquals(build.resolve("kernel/rapaio-jupyter-kernel-3.0.1.jar") + ":" + build.resolve("safetune-kernel-ext-0.1.0-SNAPSHOT.jar")
                + ":" + build.resolve("lib") + "/*", k.get("argv").get(n - 3).asText());
        assertEquals(Path.of(System.getProperty("java.home"), "bin", "java").toString(), k.get("argv").get(0).asText());
        assertEquals(dir.resolve("startup.jshell").toString(), k.get("env").get("RJK_INIT_SCRIPT").asText());
        String script = Files.readString(dir.resolve("startup.jshell"));
        assertTrue(script.contains("import io.safetune.display.*;") && script.contains("import io.safetune.eval.*;")
                && script.contains("import org.knowm.xchart.*;"), script);
        assertFalse(script.contains("io.safetune.lab.*") || script.contains("tech.tablesaw.api"), "absent from these jars");
        assertTrue(r.out().contains("JUPYTER_PATH=" + tmp.resolve("jp")), r.out());
    }

    @Test
    void installsForIJavaUnderAPrefixWithAName() throws IOException {
        Path ijava = Fixtures.jar(tmp.resolve("ijava/java/ijava-1.3.0.jar"), "io/github/spencerpark/ijava/IJava.class");
        Run r = main("kernel", "install", "--build-dir", build.toString(), "--ijava-jar", ijava.toString(),
                "--prefix", tmp.resolve("venv").toString(), "--name", "safetune-ijava");
        assertEquals(0, r.code(), r.err());
        JsonNode k = json(tmp.resolve("venv/share/jupyter/kernels/safetune-ijava/kernel.json"));
        assertEquals(ijava.toString(), k.get("argv").get(k.get("argv").size() - 2).asText());
        assertTrue(k.get("env").has("IJAVA_CLASSPATH"));
        assertEquals("SafeTune (Java)", k.get("display_name").asText());
    }

    @Test
    void refusesAJarThatIsNotIJava() {
        Path notIJava = Fixtures.jar(tmp.resolve("other.jar"), "foo/Bar.class");
        Run r = main("kernel", "install", "--build-dir", build.toString(), "--ijava-jar", notIJava.toString(),
                "--jupyter-path", tmp.resolve("jp").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("is not IJava's kernel jar"), r.err());
        assertFalse(Files.exists(tmp.resolve("jp/kernels/safetune")));
    }

    @Test
    void saysWhatIsMissingFromTheBuild() throws IOException {
        Files.delete(build.resolve("kernel/rapaio-jupyter-kernel-3.0.1.jar"));
        Run r = main("kernel", "install", "--build-dir", build.toString(), "--jupyter-path", tmp.resolve("jp").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("rapaio-jupyter-kernel's jar"), r.err());
    }

    @Test
    void destinationsAreExclusive() {
        StringWriter err = new StringWriter();
        int code = new CommandLine(new KernelCommand()).setErr(new PrintWriter(err))
                .execute("install", "--user", "--prefix", tmp.toString());
        assertEquals(2, code);
        assertTrue(err.toString().contains("mutually exclusive"), err.toString());
    }

    @Test
    void userInstallGoesToJupytersDataFolder() {
        KernelInstall ki = new KernelInstall();
        Path expected = KernelInstall.userDataDir().resolve("kernels");
        assertEquals(expected, ki.kernelsDir());
        String xdg = System.getenv("XDG_DATA_HOME");
        if (System.getenv("JUPYTER_DATA_DIR") == null && (xdg == null || xdg.isBlank())) {
            assertEquals(Path.of(System.getProperty("user.home"), ".local/share/jupyter/kernels"), expected);
        }
    }

    @Test
    void theLabsHelpListsKernel() {
        Run r = main("--help");
        assertTrue(r.out().contains("kernel"), r.out());
    }
}
