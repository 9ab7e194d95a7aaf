package io.safetune.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import io.safetune.checkpoint.AtomicFolders;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Checkpoint folders {@code <root>/checkpoint-<step>/}, each holding
 * <ul>
 *   <li>{@code trainable.safetensors}: the trainable parameters by name,</li>
 *   <li>{@code optimizer.safetensors}: AdamW's moments ({@code <name>.exp_avg},
 *       {@code <name>.exp_avg_sq}),</li>
 *   <li>{@code trainer_state.json}: a {@link TrainerState},</li>
 *   <li>whatever the {@link CheckpointExporter} adds.</li>
 * </ul>
 * A folder is written as a unit by {@link AtomicFolders} (temporary name, then a rename), so a crash
 * leaves either the old set of checkpoints or the new one; only the newest {@code keep} are kept.
 */
public final class Checkpoints {

    public static final String PARAMETERS_FILE = "trainable.safetensors";
    public static final String OPTIMIZER_FILE = "optimizer.safetensors";
    public static final String STATE_FILE = "trainer_state.json";
    private static final Pattern NAME = Pattern.compile("checkpoint-(\\d+)");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Checkpoints() {
    }

    /**
     * Writes {@code <root>/checkpoint-<globalStep>} atomically (replacing one of the same step) and
     * deletes all but the newest {@code keep} checkpoints.
     *
     * @return the checkpoint's final directory
     */
    public static Path write(Path root, Map<String, NDArray> parameters, AdamW optimizer,
                             TrainerState state, CheckpointExporter exporter, int keep) {
        Path target = root.resolve("checkpoint-" + state.globalStep());
        // replaced as a whole: a same-step checkpoint of an earlier run must not lend it stale files
        AtomicFolders.writeFolder(target, temp -> {
            NamedTensors.write(temp.resolve(PARAMETERS_FILE), parameters);
            NamedTensors.write(temp.resolve(OPTIMIZER_FILE), optimizer.state());
            JSON.writeValue(temp.resolve(STATE_FILE).toFile(), state);
            if (exporter != null) {
                exporter.export(temp);
            }
        });
        try {
            prune(root, target, keep);
        } catch (IOException e) {
            throw new UncheckedIOException("wrote checkpoint " + target + " but could not prune older ones", e);
        }
        return target;
    }

    /** The checkpoints under {@code root}, oldest first (by step). */
    public static List<Path> list(Path root) {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(p -> Files.isDirectory(p) && step(p) >= 0)
                    .sorted(Comparator.comparingLong(Checkpoints::step))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The step of a checkpoint directory, or -1 if the name is not {@code checkpoint-<step>}. */
    public static long step(Path dir) {
        Matcher m = NAME.matcher(dir.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    public static TrainerState readState(Path dir) {
        try {
            return JSON.readValue(dir.resolve(STATE_FILE).toFile(), TrainerState.class);
        } catch (IOException e) {
            throw new UncheckedIOException("could not read " + dir.resolve(STATE_FILE), e);
        }
    }

    /** Copies the checkpoint's parameters into {@code parameters} in place (names must match). */
    public static void loadParameters(Path dir, Map<String, NDArray> parameters, NDManager scratch) {
        try (NDManager m = scratch.newSubManager()) {
            NDList loaded = NamedTensors.read(dir.resolve(PARAMETERS_FILE), m);
            NamedTensors.copyInto(parameters, loaded, dir.resolve(PARAMETERS_FILE).toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Restores AdamW's moments and step count from the checkpoint. */
    public static void loadOptimizer(Path dir, AdamW optimizer, long steps, NDManager scratch) {
        try (NDManager m = scratch.newSubManager()) {
            optimizer.load(NamedTensors.read(dir.resolve(OPTIMIZER_FILE), m), steps);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Keeps {@code current} and the newest {@code keep - 1} others (by step). {@code current} is
     * protected because a resumed run may write into a folder that still holds later checkpoints
     * of the run it resumed.
     */
    private static void prune(Path root, Path current, int keep) throws IOException {
        List<Path> others = new ArrayList<>(list(root));
        others.removeIf(p -> p.getFileName().equals(current.getFileName()));
        for (int i = 0; i < others.size() - (keep - 1); i++) {
            deleteTree(others.get(i));
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
