package io.safetune.engine;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How glibc's malloc keeps the memory libtorch's tensors live in. The launcher, the notebook kernel
 * and the test JVM start with {@link #KEEP} in their environment (glibc reads it once, at process
 * start, so it cannot be set from Java); this class says what is in effect.
 *
 * <p>Why: every step's arrays live in one {@code NDManager} and are freed together when it closes.
 * With glibc's adaptive defaults, the free top of the arena then exceeds the trim threshold (twice the
 * largest block freed so far, a few MB) and glibc hands it back to the kernel; the next step touches it
 * again and takes a page fault, with the page zeroed, for every 4 KiB: thousands a step, where PyTorch,
 * which frees tensors one by one during backward, takes about 140 (docs/benchmarks.md). {@link #KEEP}
 * fixes the thresholds: blocks up to 32 MiB (the most glibc allows) come from the arena, whose free
 * top is kept up to 1 GiB, and one arena serves every thread, so that the JIT's and the tensors'
 * freed memory is one pool. Where pages come from changes no arithmetic: libtorch aligns every tensor
 * to 64 bytes either way.
 *
 * <p>{@code SAFETUNE_NATIVE_HEAP=glibc} makes the launcher leave glibc's defaults (to measure the
 * difference); so does any of these variables, or a {@code glibc.malloc} tunable, already set, which are
 * the user's to choose. The kernel's {@code kernel.json} holds {@link #KEEP} as installed; edit its
 * {@code env} to change it.
 */
public final class NativeHeap {

    /** The launcher's switch: {@code keep} (default) or {@code glibc}. */
    public static final String MODE_VARIABLE = "SAFETUNE_NATIVE_HEAP";

    /** glibc's variables, as every process the lab starts has them. */
    public static final Map<String, String> KEEP = keep();

    private NativeHeap() {
    }

    private static Map<String, String> keep() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("MALLOC_ARENA_MAX", "1");
        m.put("MALLOC_MMAP_THRESHOLD_", Integer.toString(32 << 20));
        m.put("MALLOC_TRIM_THRESHOLD_", Integer.toString(1 << 30));
        return Collections.unmodifiableMap(m);
    }

    /** What this process's environment holds: {@code keep}, {@code glibc's defaults}, or the variables set. */
    public static String describe() {
        return describe(System.getenv());
    }

    static String describe(Map<String, String> env) {
        List<String> set = new ArrayList<>(); // the malloc settings in env, in KEEP's order first
        for (String v : List.of("MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_",
                "GLIBC_TUNABLES")) {
            String value = env.get(v);
            if (value != null && (!v.equals("GLIBC_TUNABLES") || value.contains("glibc.malloc."))) {
                set.add(v + "=" + value);
            }
        }
        if (set.equals(KEEP.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList())) {
            return "keep (one arena, mmap threshold 32 MiB, trim threshold 1 GiB)";
        }
        return set.isEmpty() ? "glibc's defaults" : "as set: " + String.join(" ", set);
    }
}
