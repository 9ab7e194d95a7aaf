package io.safetune.experiment;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.MapperFeature;

import io.safetune.checkpoint.AtomicFiles;
import io.safetune.engine.Arithmetic;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Finished pipeline stages on disk, keyed by a hash of their configuration (and of the stages they
 * build on): a second run reuses what is done, a changed setting redoes only what it affects.
 *
 * <p>Every stage's key also holds the arithmetic it is computed with ({@link #key}), and its
 * {@code stage.json} records it (mode, pins, CPU) beside the software and threads that computed it
 * ({@link Versions#software}).
 *
 * <p>Safe against interruption and against other runs on the same folder (a notebook beside
 * {@code reproduce}, two terminals):
 * <ul>
 * <li>a stage is built under a lock of its own ({@link StageLock}): a second run that needs the same
 *     stage waits for the first and then reuses what it built, instead of building it twice;</li>
 * <li>it is built in a temporary folder named for this process ({@code .tmp-<stage>-<pid>-<random>})
 *     and renamed into place only when complete, with its {@code stage.json} written last, listing
 *     every file and its size;</li>
 * <li>a finished stage is reused only when every listed file is there with its size; otherwise it is
 *     built again;</li>
 * <li>temporary folders are deleted only when nobody holds their stage's lock: a killed run's are
 *     cleaned up, a live run's are never touched.</li>
 * </ul>
 * A finished stage is read without a lock, so {@code --fresh}, which replaces finished stages, must not
 * run while another run or a notebook reads the same stages.
 */
public final class StageStore {

    /** Sorted keys: the same configuration always hashes the same. */
    static final ObjectMapper CANONICAL = JsonMapper.builder()
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY).build();
    public static final String MARKER = "stage.json";
    /** {@code .tmp-<id>-<pid>-<hex>} (being built) and {@code .old-<id>-<pid>-<hex>} (being replaced). */
    private static final Pattern WORK = Pattern.compile("\\.(tmp|old)-(.+)-(\\d+)-([0-9a-f]{8})");
    private static final Pattern NESTED = Pattern.compile("\\.(\\.(?:tmp|old)-.+)\\.(?:tmp|old)-\\d+-[0-9a-f]+");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path root;
    private final boolean fresh;
    private final boolean reuseOnly;
    private final PrintStream log;
    private final Arithmetic.Settings arithmetic = Arithmetic.current();

    /** @param fresh redo every stage that was finished before this run started */
    public StageStore(Path root, boolean fresh) {
        this(root, fresh, System.err);
    }

    /** @param log where waiting for another run and redoing an incomplete stage are reported */
    public StageStore(Path root, boolean fresh, PrintStream log) {
        this(root, fresh, false, log);
    }

    /**
     * A store that only reads: a stage that is not finished is an error naming it, never built (a
     * grid's gather job, which must merge what the cells made and compute nothing of its own).
     */
    public static StageStore readOnly(Path root, PrintStream log) {
        return new StageStore(root, false, true, log);
    }

    private StageStore(Path root, boolean fresh, boolean reuseOnly, PrintStream log) {
        this.root = root;
        this.fresh = fresh;
        this.reuseOnly = reuseOnly;
        this.log = log;
        if (reuseOnly) {
            return; // reads only: creates nothing, deletes nothing
        }
        try {
            Files.createDirectories(root);
            cleanAbandonedWork();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare stage folder " + root, e);
        }
    }

    /** Produces the stage's files into the folder it is given (any failure leaves no stage behind). */
    @FunctionalInterface
    public interface Producer {
        void produce(Path dir) throws Exception;
    }

    /** A stage's folder and whether this run made it. */
    public record Stage(String name, String hash, Path dir, boolean reused) {
    }

    /** The key of a stage: its name and the hash of (config, upstream hashes). */
    public static String hash(Object config, String... upstream) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(CANONICAL.writeValueAsBytes(config));
            for (String u : upstream) {
                sha.update(u.getBytes(StandardCharsets.UTF_8));
            }
            return HexFormat.of().formatHex(sha.digest()).substring(0, 12);
        } catch (NoSuchAlgorithmException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The hash this store files a stage under: {@link #hash} of its config and upstream hashes, and of
     * the arithmetic it is computed with ({@link Arithmetic}), so that a stage computed with other
     * kernels is never reused as if it were the same.
     */
    public String key(Object config, String... upstream) {
        String[] all = java.util.Arrays.copyOf(upstream, upstream.length + 1);
        all[upstream.length] = "arithmetic:" + arithmetic.key();
        return hash(config, all);
    }

    /** The stage's folder if it is finished and whole (every file its stage.json lists, at its size). */
    public Optional<Path> finished(String name, String hash) {
        Path dir = root.resolve(name + "-" + hash);
        return whole(dir) == null ? Optional.of(dir) : Optional.empty();
    }

    /**
     * Returns the finished stage for (name, config, upstream), producing it first if needed.
     * {@code config} is recorded in the stage's {@code stage.json}.
     */
    public Stage getOrProduce(String name, Object config, Producer producer, String... upstream) {
        String hash = key(config, upstream);
        String id = name + "-" + hash;
        Path dir = root.resolve(id);
        if (!fresh && whole(dir) == null) {
            return new Stage(name, hash, dir, true); // the common case: no lock needed to read a finished stage
        }
        if (!fresh) {
            Path twin = twin(hash);
            if (twin != null) {
                return new Stage(name, hash, twin, true); // the same stage under another product's name
            }
        }
        if (reuseOnly) {
            throw new IllegalStateException("stage " + id + " in " + root + ": " + whole(dir) + " (the task that makes it has not "
                    + "run or has failed, or it was computed with other arithmetic pins)");
        }
        try (StageLock lock = StageLock.acquire(root, id, () -> log.println("   (" + id
                + ": another run is building this stage; waiting for it)"))) {
            // --fresh redoes stages finished before this run; one another run finished while we waited is fresh
            if (!fresh || lock.waited()) {
                String missing = whole(dir);
                if (missing == null) {
                    return new Stage(name, hash, dir, true);
                }
                if (Files.exists(dir)) {
                    log.println("   (" + id + ": " + missing + "; building it again)");
                }
            }
            deleteWork(id); // we hold the lock, so any work folder of this stage is a dead run's
            return new Stage(name, hash, build(name, hash, dir, config, producer), false);
        } catch (IOException e) {
            throw new UncheckedIOException("stage " + name + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * A finished stage of the same hash under another name (e.g. a named combination's aligned model, which
     * is an unnamed entry's too): the hash covers everything the stage is computed from, never the name.
     */
    private Path twin(String hash) {
        if (!Files.isDirectory(root)) {
            return null;
        }
        try (java.util.stream.Stream<Path> dirs = Files.list(root)) {
            return dirs.filter(d -> d.getFileName().toString().endsWith("-" + hash) && Files.isDirectory(d)
                    && !d.getFileName().toString().startsWith(".")).sorted().filter(d -> whole(d) == null)
                    .findFirst().orElse(null);
        } catch (IOException e) {
            return null; // no twin found: the stage is built under its own name
        }
    }

    private Path build(String name, String hash, Path dir, Object config, Producer producer) throws IOException {
        String id = name + "-" + hash;
        Path tmp = root.resolve(workName("tmp", id));
        try {
            Files.createDirectories(tmp);
            try {
                producer.produce(tmp);
            } catch (IOException | RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException("stage " + name + ": " + e.getMessage(), e);
            }
            List<FileEntry> files = list(tmp);
            AtomicFiles.writeString(tmp.resolve(MARKER), CANONICAL.writerWithDefaultPrettyPrinter()
                    .writeValueAsString(new Marker(name, hash, config, arithmetic, Versions.software(), files)));
            if (Files.exists(dir)) {
                // a directory cannot be replaced by one rename: move the old one aside first (it is
                // deleted below, or by the next run if this one is killed in between)
                Path old = root.resolve(workName("old", id));
                Files.move(dir, old, StandardCopyOption.ATOMIC_MOVE);
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
                deleteTree(old);
            } else {
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            }
            return dir;
        } finally {
            try {
                deleteTree(tmp);
            } catch (IOException ignored) {
                // the stage's own error matters more
            }
        }
    }

    /** One produced file: its path inside the stage folder ('/'-separated) and its size in bytes. */
    record FileEntry(String path, long size) {
    }

    /** stage.json: what the stage is, what computed it (arithmetic; software and threads), and its files. */
    record Marker(String stage, String hash, Object config, Arithmetic.Settings arithmetic, Map<String, String> computedWith,
                  List<FileEntry> files) {
    }

    private static List<FileEntry> list(Path dir) throws IOException {
        List<FileEntry> files = new ArrayList<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).sorted().toList()) {
                String rel = dir.relativize(p).toString().replace('\\', '/');
                if (!rel.equals(MARKER)) {
                    files.add(new FileEntry(rel, Files.size(p)));
                }
            }
        }
        return files;
    }

    /** Null when {@code dir} is a whole finished stage, else what is wrong with it. */
    private static String whole(Path dir) {
        Path marker = dir.resolve(MARKER);
        if (!Files.isRegularFile(marker)) {
            return "not finished";
        }
        com.fasterxml.jackson.databind.JsonNode m;
        try {
            m = CANONICAL.readTree(marker.toFile());
        } catch (IOException e) {
            return "its " + MARKER + " is unreadable";
        }
        com.fasterxml.jackson.databind.JsonNode files = m == null ? null : m.get("files");
        if (files == null || !files.isArray()) {
            return "its " + MARKER + " lists no files (written by an older version)";
        }
        for (com.fasterxml.jackson.databind.JsonNode f : files) {
            Path p = dir.resolve(f.path("path").asText(""));
            try {
                if (!p.normalize().startsWith(dir.normalize()) || !Files.isRegularFile(p)) {
                    return f.path("path").asText() + " is missing";
                }
                if (Files.size(p) != f.path("size").asLong(-1)) {
                    return f.path("path").asText() + " has " + Files.size(p) + " bytes, not " + f.path("size").asLong();
                }
            } catch (IOException e) {
                return f.path("path").asText() + " is unreadable";
            }
        }
        return null;
    }

    private static String workName(String kind, String id) {
        return "." + kind + "-" + id + "-" + ProcessHandle.current().pid() + "-"
                + String.format("%08x", RANDOM.nextInt());
    }

    /** The stage id a work folder belongs to (its lock's name), or null for any other file. */
    static String workStage(String fileName) {
        // a folder written atomically inside a stage being built (AtomicFolders names it
        // ".<stage work folder>.tmp-<pid>-<token>"): it belongs to that stage's work
        Matcher nested = NESTED.matcher(fileName);
        if (nested.matches()) {
            return workStage(nested.group(1));
        }
        Matcher m = WORK.matcher(fileName);
        if (m.matches()) {
            return m.group(2);
        }
        // a temporary folder of an older version: .tmp-<stage>-<hash>
        return fileName.startsWith(".tmp-") ? fileName.substring(".tmp-".length()) : null;
    }

    /** Deletes the work folders of killed runs: those whose stage lock nobody holds. */
    private void cleanAbandonedWork() throws IOException {
        List<Path> work;
        try (Stream<Path> s = Files.list(root)) {
            work = s.filter(p -> workStage(p.getFileName().toString()) != null).toList();
        }
        for (Path p : work) {
            String id = workStage(p.getFileName().toString());
            try (StageLock lock = StageLock.tryAcquire(root, id)) {
                if (lock != null) {
                    deleteTree(p);
                }
            }
        }
    }

    /** Deletes this stage's work folders; the caller holds its lock. */
    private void deleteWork(String id) throws IOException {
        List<Path> work;
        try (Stream<Path> s = Files.list(root)) {
            work = s.filter(p -> id.equals(workStage(p.getFileName().toString()))).toList();
        }
        for (Path p : work) {
            deleteTree(p);
        }
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }
}
