package io.safetune.kernel;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.safetune.display.Displayable;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KernelSpecTest {

    @TempDir
    Path tmp;

    private KernelSpec spec(KernelSpec.Kernel kernel) {
        return new KernelSpec(kernel, Path.of("/opt/jdk/bin/java"), tmp.resolve("k/kernel.jar"), tmp.resolve("ext.jar"),
                tmp.resolve("lib"), List.of("io.safetune.display", "java.util"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void rapaioSpec() {
        Path dir = tmp.resolve("kernels/safetune");
        Map<String, Object> json = spec(KernelSpec.Kernel.RAPAIO).kernelJson(dir);
        List<String> argv = (List<String>) json.get("argv");
        assertEquals("/opt/jdk/bin/java", argv.get(0));
        assertTrue(argv.containsAll(KernelSpec.JVM_OPTIONS));
        assertTrue(argv.contains("-Dai.djl.offline=true"));
        // rapaio's jar first (its logging.properties), then this module and the lab's libraries
        assertEquals(List.of("-cp", tmp.resolve("k/kernel.jar") + ":" + tmp.resolve("ext.jar") + ":" + tmp.resolve("lib") + "/*",
                "io.safetune.kernel.rapaio.RapaioKernelMain", "{connection_file}"), argv.subList(argv.size() - 4, argv.size()));
        assertEquals("SafeTune (Java)", json.get("display_name"));
        assertEquals("java", json.get("language"));
        Map<String, String> env = (Map<String, String>) json.get("env");
        assertEquals(dir.resolve("startup.jshell").toString(), env.get("RJK_INIT_SCRIPT"));
        assertFalse(env.containsKey("IJAVA_CLASSPATH"));
        // glibc's malloc as the launcher sets it: the kernel's steps reuse freed pages
        assertEquals("1", env.get("MALLOC_ARENA_MAX"));
        assertEquals("33554432", env.get("MALLOC_MMAP_THRESHOLD_"));
        assertEquals("1073741824", env.get("MALLOC_TRIM_THRESHOLD_"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void ijavaSpec() {
        Path dir = tmp.resolve("kernels/safetune");
        Map<String, Object> json = spec(KernelSpec.Kernel.IJAVA).kernelJson(dir);
        List<String> argv = (List<String>) json.get("argv");
        assertEquals(List.of("-jar", tmp.resolve("k/kernel.jar").toString(), "{connection_file}"), argv.subList(argv.size() - 3, argv.size()));
        Map<String, String> env = (Map<String, String>) json.get("env");
        assertEquals(tmp.resolve("ext.jar") + ":" + tmp.resolve("lib") + "/*", env.get("IJAVA_CLASSPATH"));
        assertEquals(dir.resolve("startup.jshell").toString(), env.get("IJAVA_STARTUP_SCRIPTS_PATH"));
        assertFalse(env.containsKey("RJK_INIT_SCRIPT"));
    }

    @Test
    void startupScriptImportsAndRegisters() {
        // rapaio evaluates its init script as one snippet: imports only, or the kernel does not start
        assertEquals("import io.safetune.display.*;\nimport java.util.*;\n", spec(KernelSpec.Kernel.RAPAIO).startupScript());
        assertEquals("import io.safetune.display.*;\nimport java.util.*;\n"
                + "io.safetune.kernel.ijava.SafeTuneDisplays.registerInIJava();\n", spec(KernelSpec.Kernel.IJAVA).startupScript());
    }

    @Test
    void javaOnPathStaysAName() {
        KernelSpec s = new KernelSpec(KernelSpec.Kernel.RAPAIO, Path.of("java"), tmp.resolve("k.jar"), tmp.resolve("e.jar"),
                tmp.resolve("lib"), List.of());
        assertEquals("java", ((List<?>) s.kernelJson(tmp).get("argv")).get(0));
    }

    @Test
    void importsOnlyPackagesThatExist() {
        Path lab = Fixtures.jar(tmp.resolve("lib/safetune-lab.jar"), "io/safetune/display/Charts.class",
                "io/safetune/train/Trainer.class", "io/safetune/train/Trainer$1.class", "META-INF/MANIFEST.MF");
        Path ts = Fixtures.jar(tmp.resolve("lib/tablesaw.jar"), "tech/tablesaw/api/Table.class");
        List<String> got = KernelSpec.availableImports(KernelSpec.WANTED_IMPORTS, List.of(lab, ts));
        assertEquals(List.of("io.safetune.display", "io.safetune.train", "tech.tablesaw.api", "java.nio.file", "java.util"), got);
    }

    @Test
    void importsFromTheRealLabJar() throws Exception {
        Path labJar = Path.of(Displayable.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> got = KernelSpec.availableImports(KernelSpec.WANTED_IMPORTS, List.of(labJar));
        assertTrue(got.containsAll(List.of("io.safetune.display", "io.safetune.safelora", "io.safetune.eval",
                "io.safetune.model", "io.safetune.lora", "io.safetune.train", "io.safetune.data.microworld",
                "io.safetune.experiment")), got.toString());
    }

    @Test
    void writesAtomicallyAndReplaces() throws IOException {
        Path kernels = tmp.resolve("jp/kernels");
        Path dir = spec(KernelSpec.Kernel.RAPAIO).writeTo(kernels, "safetune");
        assertEquals(kernels.resolve("safetune"), dir);
        JsonNode json = new ObjectMapper().readTree(dir.resolve("kernel.json").toFile());
        assertEquals("SafeTune (Java)", json.get("display_name").asText());
        assertEquals(dir.resolve("startup.jshell").toString(), json.get("env").get("RJK_INIT_SCRIPT").asText());
        assertEquals(spec(KernelSpec.Kernel.RAPAIO).startupScript(), Files.readString(dir.resolve("startup.jshell")));
        Files.writeString(dir.resolve("stale.txt"), "from an older install");

        spec(KernelSpec.Kernel.IJAVA).writeTo(kernels, "safetune");
        JsonNode again = new ObjectMapper().readTree(dir.resolve("kernel.json").toFile());
        assertTrue(again.get("env").has("IJAVA_CLASSPATH"));
        assertFalse(Files.exists(dir.resolve("stale.txt")), "the whole folder is replaced");
        try (Stream<Path> s = Files.list(kernels)) {
            assertEquals(List.of("safetune"), s.map(p -> p.getFileName().toString()).toList(), "no temporary folders left");
        }
    }

    @Test
    void aFailedWriteKeepsTheOldSpec() throws IOException {
        Path kernels = tmp.resolve("jp/kernels");
        spec(KernelSpec.Kernel.RAPAIO).writeTo(kernels, "safetune");
        String before = Files.readString(kernels.resolve("safetune/kernel.json"));
        // a kernels "folder" that is a file: nothing can be created in it
        Path notADir = Files.writeString(tmp.resolve("file"), "x");
        assertThrows(RuntimeException.class, () -> spec(KernelSpec.Kernel.IJAVA).writeTo(notADir, "safetune"));
        assertEquals(before, Files.readString(kernels.resolve("safetune/kernel.json")));
    }

    @Test
    void rejectsBadNames() {
        assertThrows(IllegalArgumentException.class, () -> spec(KernelSpec.Kernel.RAPAIO).writeTo(tmp, "../evil"));
        assertThrows(IllegalArgumentException.class, () -> spec(KernelSpec.Kernel.RAPAIO).writeTo(tmp, "a b"));
    }
}
