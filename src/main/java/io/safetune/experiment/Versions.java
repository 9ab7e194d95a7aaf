package io.safetune.experiment;

import io.safetune.engine.Arithmetic;

import java.util.LinkedHashMap;
import java.util.Map;

/** The software, machine and arithmetic a result was produced with: results.json's {@code versions}, stage.json's too. */
final class Versions {

    private Versions() {
    }

    static Map<String, String> all() {
        Map<String, String> v = new LinkedHashMap<>(software());
        Arithmetic.Settings a = Arithmetic.current();
        v.put("cpu", a.cpu());
        v.put("cpuFlags", String.join(" ", a.cpuFlags()));
        v.put("arithmetic", a.mode().name().toLowerCase(java.util.Locale.ROOT) + " (" + a.key() + ")");
        v.put("arithmeticEnvironment", a.environment().entrySet().stream().sorted(Map.Entry.comparingByKey())
                .map(e -> e.getKey() + "=" + e.getValue()).collect(java.util.stream.Collectors.joining(" ")));
        return v;
    }

    /** The lab, Java, DJL and libtorch versions, the OS, the CPUs and libtorch's thread pools (stage.json's computedWith). */
    static Map<String, String> software() {
        Map<String, String> v = new LinkedHashMap<>();
        String lab = Versions.class.getPackage().getImplementationVersion();
        v.put("safetune", lab == null ? "dev" : lab);
        v.put("java", System.getProperty("java.version"));
        v.put("djl", ai.djl.engine.Engine.getDjlVersion());
        v.put("engine", ai.djl.engine.Engine.getInstance().getEngineName() + " " + ai.djl.engine.Engine.getInstance().getVersion());
        v.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        v.put("cpus", Integer.toString(Runtime.getRuntime().availableProcessors()));
        v.put("threads", ai.djl.pytorch.jni.JniUtils.getNumThreads() + " intra-op, "
                + ai.djl.pytorch.jni.JniUtils.getNumInteropThreads() + " inter-op");
        return v;
    }
}
