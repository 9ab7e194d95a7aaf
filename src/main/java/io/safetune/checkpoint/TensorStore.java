package io.safetune.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * All tensors of a checkpoint, across shards: a single {@code model.safetensors}, a sharded set
 * described by {@code model.safetensors.index.json}, or any one {@code .safetensors} file. Tensors
 * are read one at a time, so memory does not grow with the size of the model.
 */
public final class TensorStore implements AutoCloseable {

    public static final String SINGLE = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";

    private final Path source;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> byName;

    private TensorStore(Path source, List<SafetensorsFile> files, Map<String, SafetensorsFile> byName) {
        this.source = source;
        this.files = files;
        this.byName = byName;
    }

    /** Opens a checkpoint folder (single or sharded) or a single safetensors file. */
    public static TensorStore open(Path folderOrFile) {
        if (Files.isRegularFile(folderOrFile)) {
            return ofFiles(folderOrFile, List.of(folderOrFile));
        }
        if (!Files.isDirectory(folderOrFile)) {
            throw new CheckpointException(folderOrFile, null, "no such checkpoint folder or file");
        }
        Path index = folderOrFile.resolve(INDEX);
        if (Files.isRegularFile(index)) {
            return openSharded(index);
        }
        Path single = folderOrFile.resolve(SINGLE);
        if (Files.isRegularFile(single)) {
            return ofFiles(folderOrFile, List.of(single));
        }
        throw new CheckpointException(folderOrFile, null, "no " + SINGLE + " nor " + INDEX
                + " in this folder (only safetensors checkpoints are read; convert .bin files first)");
    }

    private static TensorStore openSharded(Path index) {
        JsonNode root;
        try {
            root = CheckpointJson.parse(index, Files.readString(index), "corrupt index");
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new CheckpointException(index, null, "corrupt index: not valid UTF-8");
        } catch (IOException e) {
            throw new CheckpointException(index, null, "cannot read: " + e.getMessage(), e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) {
            throw new CheckpointException(index, "weight_map", "missing or not an object");
        }
        Map<String, String> wanted = new LinkedHashMap<>();
        for (var it = map.fields(); it.hasNext();) {
            var e = it.next();
            if (!e.getValue().isTextual()) {
                throw new CheckpointException(index, "weight_map." + e.getKey(), "shard must be a file name, found "
                        + CheckpointJson.describe(e.getValue()));
            }
            wanted.put(e.getKey(), e.getValue().textValue());
        }
        Map<String, Path> shardPaths = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : wanted.entrySet()) {
            if (!shardPaths.containsKey(e.getValue())) {
                shardPaths.put(e.getValue(), ShardNames.resolve(index, e.getKey(), e.getValue()));
            }
        }
        TensorStore store = ofFiles(index.getParent(), List.copyOf(shardPaths.values()));
        for (Map.Entry<String, String> e : wanted.entrySet()) {
            SafetensorsFile f = store.byName.get(e.getKey());
            if (f == null || !f.path().equals(shardPaths.get(e.getValue()))) {
                store.close();
                throw new CheckpointException(shardPaths.get(e.getValue()), e.getKey(),
                        "missing tensor (the index places it in this shard)");
            }
        }
        return store;
    }

    private static TensorStore ofFiles(Path source, List<Path> paths) {
        List<SafetensorsFile> opened = new ArrayList<>();
        Map<String, SafetensorsFile> byName = new LinkedHashMap<>();
        try {
            for (Path p : paths) {
                SafetensorsFile f = SafetensorsFile.open(p);
                opened.add(f);
                for (String name : f.tensors().keySet()) {
                    SafetensorsFile prev = byName.put(name, f);
                    if (prev != null) {
                        throw new CheckpointException(p, name, "tensor also present in " + prev.path().getFileName());
                    }
                }
            }
        } catch (RuntimeException e) {
            opened.forEach(SafetensorsFile::close);
            throw e;
        }
        return new TensorStore(source, List.copyOf(opened), byName);
    }

    public Path source() {
        return source;
    }

    public Set<String> names() {
        return Collections.unmodifiableSet(byName.keySet());
    }

    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    public TensorInfo info(String name) {
        return file(name).info(name);
    }

    /** Reads a float tensor (a weight) as float32, checking its dtype and shape; errors name file and tensor. */
    public NDArray read(String name, NDManager manager, long... expectedShape) {
        SafetensorsFile f = file(name);
        TensorInfo t = f.info(name);
        // The one gate every weight passes (base model and adapters): an integer or bool tensor would
        // load, then fail inside the engine at the first forward or be used as raw numbers.
        if (!t.dtype().isFloat()) {
            throw new CheckpointException(f.path(), name, "dtype " + t.dtype()
                    + " cannot be a weight (weights must be F32, F16, BF16 or F64)");
        }
        if (expectedShape.length > 0 && !java.util.Arrays.equals(t.shape(), expectedShape)) {
            throw new CheckpointException(f.path(), name, "wrong shape " + java.util.Arrays.toString(t.shape())
                    + ", expected " + java.util.Arrays.toString(expectedShape));
        }
        return f.read(name, manager);
    }

    public float[] readFloats(String name) {
        return file(name).readFloats(name);
    }

    private SafetensorsFile file(String name) {
        SafetensorsFile f = byName.get(name);
        if (f == null) {
            throw new CheckpointException(source, name, "missing tensor");
        }
        return f;
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }
}
