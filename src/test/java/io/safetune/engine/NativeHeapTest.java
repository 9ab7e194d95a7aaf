package io.safetune.engine;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NativeHeapTest {

    @Test
    void describesWhatTheEnvironmentHolds() {
        assertEquals("keep (one arena, mmap threshold 32 MiB, trim threshold 1 GiB)", NativeHeap.describe(NativeHeap.KEEP));
        assertEquals("glibc's defaults", NativeHeap.describe(Map.of("PATH", "/bin")));
        Map<String, String> user = new HashMap<>(NativeHeap.KEEP);
        user.put("MALLOC_ARENA_MAX", "2");
        assertEquals("as set: MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824",
                NativeHeap.describe(user));
        Map<String, String> cpuTunable = new HashMap<>(NativeHeap.KEEP);
        cpuTunable.put("GLIBC_TUNABLES", "glibc.cpu.hwcaps=-AVX512F");
        assertTrue(NativeHeap.describe(cpuTunable).startsWith("keep"), "a tunable of another kind leaves keep");
        cpuTunable.put("GLIBC_TUNABLES", "glibc.malloc.arena_max=4");
        assertTrue(NativeHeap.describe(cpuTunable).startsWith("as set:"), NativeHeap.describe(cpuTunable));
    }

    @Test
    void theTestJvmAndTheLauncherSetWhatKeepSays() throws Exception {
        // surefire's environment (pom.xml) is the launcher's: these tests run with the heap users get
        // (run from an IDE without it, this fails: set the three variables there too)
        assertTrue(NativeHeap.describe().startsWith("keep"), NativeHeap.describe());
        String launcher = Files.readString(Path.of("safetune"));
        NativeHeap.KEEP.forEach((k, v) -> assertTrue(launcher.contains(k + "=" + v), "safetune: " + k + "=" + v));
    }
}
