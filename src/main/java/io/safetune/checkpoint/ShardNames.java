package io.safetune.checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * Where a shard named by {@code model.safetensors.index.json} lives: in the checkpoint folder and
 * nowhere else. An index is data from whoever published the checkpoint; without this check its
 * {@code weight_map} could make us open {@code /etc/passwd} or {@code ../../secret}.
 */
final class ShardNames {

    private ShardNames() {
    }

    /**
     * The path of shard {@code name}, which the index lists for {@code tensor}. Errors name the index
     * and the weight_map entry; a refused name is not quoted back (it may be a private path).
     */
    static Path resolve(Path index, String tensor, String name) {
        String field = "weight_map." + tensor;
        Path folder = index.toAbsolutePath().normalize().getParent();
        if (!plainFileName(name)) {
            throw new CheckpointException(index, field, "shard must be a plain file name inside the checkpoint folder"
                    + " (no absolute path, no '..', no separator)");
        }
        Path p = folder.resolve(name).normalize();
        if (!folder.equals(p.getParent())) {
            throw new CheckpointException(index, field, "shard must be a file inside the checkpoint folder");
        }
        if (!Files.isRegularFile(p)) {
            throw new CheckpointException(index, field, "shard '" + name + "' is missing");
        }
        // The name is plain, but the file may be a symbolic link out of the folder.
        try {
            Path real = p.toRealPath();
            Path realFolder = folder.toRealPath();
            if (!realFolder.equals(real.getParent()) && !inHubBlobs(realFolder, real)) {
                throw new CheckpointException(index, field, "shard '" + name
                        + "' is a link to a file outside the checkpoint folder");
            }
        } catch (IOException e) {
            throw new CheckpointException(index, field, "cannot resolve shard '" + name + "': " + e.getMessage(), e);
        }
        return p;
    }

    private static boolean plainFileName(String name) {
        if (name.isEmpty() || name.equals(".") || name.equals("..") || name.indexOf('/') >= 0
                || name.indexOf('\\') >= 0 || name.indexOf('\0') >= 0 || name.indexOf(':') >= 0) {
            return false;
        }
        try {
            Path p = Path.of(name);
            return !p.isAbsolute() && p.getNameCount() == 1;
        } catch (InvalidPathException e) {
            return false;
        }
    }

    /**
     * The Hugging Face hub cache keeps a checkpoint at {@code <repo>/snapshots/<revision>/} as links to
     * {@code <repo>/blobs/<sha>}; a link into that repository's own blob store is where a shard
     * downloaded by {@code huggingface_hub} really lives, not an escape.
     */
    private static boolean inHubBlobs(Path realFolder, Path real) {
        Path snapshots = realFolder.getParent();
        if (snapshots == null || snapshots.getFileName() == null
                || !snapshots.getFileName().toString().equals("snapshots") || snapshots.getParent() == null) {
            return false;
        }
        return snapshots.getParent().resolve("blobs").equals(real.getParent());
    }
}
