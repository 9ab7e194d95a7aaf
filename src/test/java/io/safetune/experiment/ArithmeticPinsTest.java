package io.safetune.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The same seed and config give the same bits whatever instruction set the machine would pick: a
 * pinned run (the default) ignores an environment that asks libtorch for other kernels, and a run
 * left to the machine's choice ({@code SAFETUNE_ARITHMETIC=native}) shows that the request would
 * otherwise change the numbers.
 */
class ArithmeticPinsTest {

    @TempDir
    Path tmp;


    @Test
    void pinnedRunsIgnoreTheCapabilityTheEnvironmentAsksFor() throws Exception {
        // 40 base steps at d = 64: long enough for the kernels' rounding to show in the losses
        Path config = Path.of("examples/short.yaml").toAbsolutePath();
        JsonNode pinned = run(config, "pinned", Map.of());
        JsonNode askedDefault = run(config, "asked-default", Map.of("ATEN_CPU_CAPABILITY", "default",
                "MKL_CBWR", "COMPATIBLE", "ONEDNN_MAX_CPU_ISA", "SSE41"));
        JsonNode nativeDefault = run(config, "native-default", Map.of("SAFETUNE_ARITHMETIC", "native",
                "ATEN_CPU_CAPABILITY", "default"));

        for (String field : List.of("losses", "rows", "drift")) {
            assertEquals(ReproduceProcess.withoutTimes(pinned.get(field)), ReproduceProcess.withoutTimes(askedDefault.get(field)),
                    field + " of a pinned run must not depend on the environment");
        }
        assertNotEquals(pinned.get("losses"), nativeDefault.get("losses"),
                "unpinned, ATEN_CPU_CAPABILITY=default computes other numbers (else this test shows nothing)");

        assertTrue(pinned.get("versions").get("arithmetic").asText().startsWith("pinned"), pinned.get("versions").toString());
        assertTrue(pinned.get("versions").get("arithmeticEnvironment").asText().contains("ATEN_CPU_CAPABILITY=avx2"));
        assertTrue(askedDefault.get("versions").get("arithmeticEnvironment").asText().contains("ATEN_CPU_CAPABILITY=avx2"));
        assertTrue(nativeDefault.get("versions").get("arithmetic").asText().startsWith("native"));
        assertTrue(nativeDefault.get("versions").get("arithmeticEnvironment").asText().contains("ATEN_CPU_CAPABILITY=default"));
        assertTrue(pinned.get("versions").has("cpu") && pinned.get("versions").has("cpuFlags"));
        // the stage cache keys on the arithmetic: a native run never reuses a pinned stage
        assertEquals(pinned.get("stages").get(0).get("dir"), askedDefault.get("stages").get(0).get("dir"));
        assertNotEquals(pinned.get("stages").get(0).get("dir"), nativeDefault.get("stages").get(0).get("dir"));
        JsonNode marker = new ObjectMapper().readTree(tmp.resolve("pinned/short").resolve(pinned.get("stages").get(0).get("dir")
                .asText()).resolve(StageStore.MARKER).toFile());
        assertEquals("PINNED", marker.get("arithmetic").get("mode").asText());
        assertEquals("avx2", marker.get("arithmetic").get("environment").get("ATEN_CPU_CAPABILITY").asText());
        assertTrue(marker.get("arithmetic").has("cpu") && marker.get("arithmetic").has("cpuFlags"), marker.toString());
        JsonNode computedWith = marker.get("computedWith");
        assertEquals(pinned.get("versions").get("threads"), computedWith.get("threads"), "stage.json records the threads");
        assertEquals(pinned.get("versions").get("djl"), computedWith.get("djl"));
        assertTrue(computedWith.get("engine").asText().startsWith("PyTorch "), computedWith.toString());
    }

    private JsonNode run(Path config, String name, Map<String, String> env) throws Exception {
        Path log = tmp.resolve(name + ".log");
        ReproduceProcess.finish(ReproduceProcess.start(config, tmp.resolve(name), log, env), log);
        return new ObjectMapper().readTree(tmp.resolve(name).resolve("short/results.json").toFile());
    }
}
