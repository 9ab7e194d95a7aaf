package io.safetune.experiment;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.safetune.checkpoint.AtomicFiles;
import io.safetune.method.TrainLog;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The story's stages as this run sees them: each one got from the {@link StageStore} (reused, or made
 * under its lock), timed, printed and recorded for results.json.
 */
public final class Stages {

    static final ObjectMapper JSON = new ObjectMapper();

    /** A finished stage: a Hugging Face or PEFT folder (or a folder of scores) and its key's hash. */
    public record Product(String name, Path dir, String hash) {
    }

    /** What one stage did in this run. */
    public record StageRun(String stage, String hash, String dir, boolean reused, double seconds) {
    }

    private final StageStore store;
    private final Path runDir;
    private final PrintStream out;
    private final List<StageRun> runs = new ArrayList<>();
    private final java.util.Map<String, Product> got = new java.util.HashMap<>();
    private final boolean sayReused;

    /** @param sayReused print a line for every reused stage too (the command line does; a notebook does not) */
    Stages(StageStore store, Path runDir, PrintStream out, boolean sayReused) {
        this.store = store;
        this.runDir = runDir;
        this.out = out;
        this.sayReused = sayReused;
    }

    PrintStream out() {
        return out;
    }

    /** Gets or produces a stage, prints whether it was reused or how long it took, and records it. */
    synchronized Product get(String name, Object key, StageStore.Producer producer, String... upstream) {
        String id = name + "\u0000" + StageStore.hash(key, upstream);
        Product known = got.get(id);
        if (known != null) {
            return known; // asked again in this run (e.g. one HED stage for every attack): once in the log and the table
        }
        long t0 = System.nanoTime();
        StageStore.Stage s = store.getOrProduce(name, key, producer, upstream);
        double seconds = (System.nanoTime() - t0) / 1e9;
        String rel = runDir.relativize(s.dir()).toString();
        if (s.reused()) {
            if (sayReused) {
                out.println("   (" + name + ": reused " + rel + ")");
            }
        } else {
            out.printf("   (%s: %.1f s)%n", name, seconds);
        }
        runs.add(new StageRun(name, s.hash(), rel, s.reused(), seconds));
        Product p = new Product(name, s.dir(), s.hash());
        got.put(id, p);
        return p;
    }

    synchronized List<StageRun> runs() {
        return List.copyOf(runs);
    }

    Path runDir() {
        return runDir;
    }

    /** The loss curve of a training stage, from its train.json. */
    static List<Double> losses(Path stageDir) {
        return read(stageDir.resolve(TrainLog.FILE), TrainLog.class).losses();
    }

    static <T> T read(Path file, Class<T> type) {
        try {
            return JSON.readValue(file.toFile(), type);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void writeJson(Path file, Object value) throws IOException {
        AtomicFiles.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(value));
    }
}
