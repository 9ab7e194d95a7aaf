package io.safetune.engine;

import com.sun.jna.Library;
import com.sun.jna.Native;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * Which instruction set libtorch computes with, pinned so that the same seed and config give the
 * same bits on every x86-64 machine.
 *
 * <p>libtorch picks its CPU kernels by the instruction set it finds: ATen's vectorised kernels
 * (reductions, softmax, norms) by {@code ATEN_CPU_CAPABILITY} (default, avx2, avx512), MKL's GEMM by its
 * own dispatch, oneDNN by its own. A wider vector sums in another order, so an AVX-512 machine and an
 * AVX2 machine round differently from the first step on, and a long training diverges (measured: task
 * accuracy moved by 0.11 on a 400-step config). {@link #pin()} sets every one of them to AVX2, which
 * every x86-64 server of the last decade has, before libtorch reads them; {@code SAFETUNE_ARITHMETIC=native}
 * leaves the machine's choice (faster on AVX-512, but other numbers).
 *
 * <p>The variables are read by libtorch, MKL and oneDNN from the C environment the first time each
 * computes, so they are set there (through libc's {@code setenv}; Java cannot change its own
 * environment) as early as possible: {@code Main} calls {@link #pin()} first thing, and so does the
 * class that loads models. The launcher, the test JVM and the notebook kernel also start with them.
 */
public final class Arithmetic {

    /** The environment variable that selects the mode: {@code pinned} (default) or {@code native}. */
    public static final String MODE_VARIABLE = "SAFETUNE_ARITHMETIC";

    /** What is pinned, and to what. */
    public static final Map<String, String> PINS = pins();

    /** CPU flags that decide which kernels run: recorded, and part of the key when unpinned. */
    private static final List<String> RELEVANT_FLAGS = List.of("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f",
            "avx512bw", "avx512vl", "avx512dq", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16");

    private static Settings current;

    private Arithmetic() {
    }

    private static Map<String, String> pins() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("ATEN_CPU_CAPABILITY", "avx2");
        p.put("MKL_CBWR", "AVX2");
        p.put("MKL_ENABLE_INSTRUCTIONS", "AVX2");
        p.put("ONEDNN_MAX_CPU_ISA", "AVX2");
        return java.util.Collections.unmodifiableMap(p); // insertion order: the key hashes the same every run
    }

    /** The two ways to compute. */
    public enum Mode {
        /** Every machine computes with AVX2 kernels: the same bits everywhere (the default). */
        PINNED,
        /** The machine's own choice: faster on AVX-512, but its numbers are its own. */
        NATIVE
    }

    /**
     * What a result was computed with (results.json and every stage's stage.json).
     *
     * @param mode        pinned or native
     * @param environment the variables libtorch, MKL and oneDNN read, as the C environment holds them
     * @param cpu         the CPU's model name
     * @param cpuFlags    its flags among those that choose kernels
     * @param key         what the stage cache keys on: equal keys compute equal bits
     */
    public record Settings(Mode mode, Map<String, String> environment, String cpu, List<String> cpuFlags, String key) {
    }

    /** Pins the arithmetic (unless SAFETUNE_ARITHMETIC=native) and returns what is in effect. Idempotent. */
    public static synchronized Settings pin() {
        if (current != null) {
            return current;
        }
        String modeText = System.getenv(MODE_VARIABLE);
        Mode mode = modeText == null || modeText.isBlank() ? Mode.PINNED : parse(modeText);
        LibC libc = libc();
        if (mode == Mode.PINNED) {
            if (libc == null) {
                // no libc to call (not Linux/macOS): the pins hold only if the process started with them
                PINS.forEach((k, v) -> {
                    if (!v.equals(System.getenv(k))) {
                        throw new IllegalStateException("cannot pin " + k + "=" + v + " on this system; start the JVM with it "
                                + "set, or set " + MODE_VARIABLE + "=native");
                    }
                });
            } else {
                PINS.forEach((k, v) -> libc.setenv(k, v, 1));
            }
        }
        Map<String, String> env = new LinkedHashMap<>();
        for (String k : PINS.keySet()) {
            String v = libc == null ? System.getenv(k) : libc.getenv(k);
            env.put(k, v == null ? "" : v);
        }
        String[] cpu = cpu();
        List<String> flags = List.of(cpu[1].split(" "));
        String key;
        if (mode == Mode.PINNED && flags.contains("avx2") && flags.contains("fma")) {
            key = "pinned-avx2";
        } else {
            // the machine's own kernels: only the same instruction set and the same variables compute the same
            key = (mode == Mode.PINNED ? "pinned-unsupported-" : "native-") + Integer.toHexString((cpu[1] + env).hashCode());
        }
        current = new Settings(mode, java.util.Collections.unmodifiableMap(env), cpu[0], flags, key);
        return current;
    }

    /** The settings in effect, pinning first if nothing has yet. */
    public static Settings current() {
        return pin();
    }

    private static Mode parse(String text) {
        try {
            return Mode.valueOf(text.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(MODE_VARIABLE + ": '" + text + "' is not pinned or native");
        }
    }

    /** [model name, the relevant flags it has, space-separated]. */
    private static String[] cpu() {
        String model = System.getProperty("os.arch");
        TreeSet<String> has = new TreeSet<>();
        Path info = Path.of("/proc/cpuinfo");
        if (Files.isReadable(info)) {
            try {
                for (String line : Files.readAllLines(info)) {
                    if (line.startsWith("model name") && line.contains(":")) {
                        model = line.substring(line.indexOf(':') + 1).strip();
                    } else if (line.startsWith("flags") && line.contains(":")) {
                        for (String f : line.substring(line.indexOf(':') + 1).strip().split("\\s+")) {
                            if (RELEVANT_FLAGS.contains(f)) {
                                has.add(f);
                            }
                        }
                        break; // every core has the same flags
                    }
                }
            } catch (IOException e) {
                model = model + " (cpuinfo unreadable)";
            }
        }
        List<String> ordered = RELEVANT_FLAGS.stream().filter(has::contains).toList();
        return new String[] {model, String.join(" ", ordered)};
    }

    /** The two libc calls we need. */
    private interface LibC extends Library {
        int setenv(String name, String value, int overwrite);

        String getenv(String name);
    }

    private static LibC libc() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        if (!os.contains("linux") && !os.contains("mac")) {
            return null;
        }
        return Native.load("c", LibC.class);
    }
}
