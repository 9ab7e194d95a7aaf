package io.safetune.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import io.safetune.checkpoint.AtomicFolders;
import io.safetune.checkpoint.SafetensorsWriter;
import io.safetune.model.CausalLM;
import io.safetune.model.Projection;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A LoRA adapter attached to a {@link CausalLM}: one {@link LoraLayer} per adapted linear layer,
 * keyed by module path. Its A and B are the model's trainable parameters (base weights stay frozen),
 * under PEFT's key names. Saves and loads PEFT's format; merges into and out of the base weights.
 */
public final class LoraAdapter implements AutoCloseable {

    private final LoraConfig config;
    private final Injection<LoraLayer> injection;
    private String baseModel;

    private LoraAdapter(LoraConfig config, Injection<LoraLayer> injection) {
        this.config = config;
        this.injection = injection;
    }

    /**
     * Adds a fresh adapter to {@code model}: A ~ U(-1/√d_in, 1/√d_in) (PEFT's Kaiming-uniform with
     * a = √5), B = 0, so the model's output is unchanged until training moves B. Deterministic in seed.
     */
    public static LoraAdapter inject(CausalLM model, LoraConfig config, long seed) {
        for (int l : config.layers()) {
            if (l >= model.numLayers()) {
                throw new IllegalArgumentException("layers: " + l + " but the model has " + model.numLayers() + " layers");
            }
        }
        Random rng = new Random(seed);
        LoraAdapter built = build(model, config, (target, m) -> {
            int r = config.r();
            int dIn = (int) target.inFeatures();
            float bound = (float) (1 / Math.sqrt(dIn));
            float[] a = new float[r * dIn];
            for (int i = 0; i < a.length; i++) {
                a[i] = (rng.nextFloat() * 2 - 1) * bound;
            }
            return new NDArray[] {m.create(a, new Shape(r, dIn)), m.zeros(new Shape(target.outFeatures(), r))};
        });
        try {
            return built.attach();
        } catch (RuntimeException e) {
            built.close(); // A, B and the scaling live in the adapter's sub-manager
            throw e;
        }
    }

    /**
     * Loads a PEFT adapter folder onto {@code model}, all or nothing: the whole folder is checked and
     * read first ({@link #read}), then attached in one step. Errors name the file and key: a module the
     * model does not have, a shape or dtype that does not fit, a tensor missing or left over, a
     * non-finite value. On any error the model is exactly as it was.
     */
    public static LoraAdapter load(CausalLM model, Path dir) {
        LoraAdapter adapter = read(model, dir);
        try {
            return adapter.attach();
        } catch (RuntimeException e) {
            adapter.close();
            throw e;
        }
    }

    /**
     * Reads and checks an adapter folder for {@code model} without touching the model: the result is
     * detached ({@link #attached()} is false) until {@link #attach()}. Lets a caller swap adapters
     * without a window where a bad folder has already cost it the old one.
     */
    public static LoraAdapter read(CausalLM model, Path dir) {
        AdapterCheck.Checked checked = AdapterCheck.read(model, dir);
        LoraAdapter adapter = build(model, checked.parsed().config(), (target, m) -> new NDArray[] {
            m.create(checked.values().get(PeftFormat.key(target.name(), 'A')), new Shape(checked.parsed().config().r(), target.inFeatures())),
            m.create(checked.values().get(PeftFormat.key(target.name(), 'B')), new Shape(target.outFeatures(), checked.parsed().config().r()))});
        adapter.baseModel = checked.parsed().baseModel();
        return adapter;
    }

    /** Makes A and B for one target; called in layer order. */
    private interface Factory {
        NDArray[] create(Projection target, NDManager manager);
    }

    /** The adapter's layers over fresh arrays in its own sub-manager; the model is not touched. */
    private static LoraAdapter build(CausalLM model, LoraConfig config, Factory factory) {
        NDArray[] scaling = new NDArray[1]; // one 0-d s shared by every layer, in the injection's manager
        Injection<LoraLayer> injection = Injection.build(model, AdapterCheck.targets(model, config), (target, m) -> {
            if (scaling[0] == null) {
                scaling[0] = m.create((float) config.scaling());
            }
            NDArray[] ab = factory.create(target, m);
            return new LoraLayer(target, ab[0], ab[1], scaling[0], (float) config.dropout());
        }, config.trainingSettings());
        return new LoraAdapter(config, injection);
    }

    /**
     * Puts this (detached) adapter on its model in one step ({@link Injection#attach}): nothing changes
     * unless everything can. Returns this.
     */
    public LoraAdapter attach() {
        injection.attach();
        return this;
    }

    /** Whether the adapter is on its model (side paths or merged weights, and registered parameters). */
    public boolean attached() {
        return injection.attached();
    }

    public LoraConfig config() {
        return config;
    }

    /** The adapted layers by module path, in layer order. */
    public Map<String, LoraLayer> layers() {
        return injection.layers();
    }

    /** A and B by PEFT key, in the order they are saved. */
    public LinkedHashMap<String, NDArray> tensors() {
        return injection.tensors();
    }

    /** Records which base model this adapter belongs to (written to adapter_config.json). */
    public LoraAdapter baseModel(String nameOrPath) {
        this.baseModel = nameOrPath;
        return this;
    }

    /**
     * Writes adapter_config.json and adapter_model.safetensors (float32) to {@code dir} as one unit
     * ({@link AtomicFolders}): a reader or a killed run never pairs these weights with another save's
     * config. Other entries of {@code dir} (a run's checkpoints/, reports) are kept.
     */
    public void save(Path dir) {
        AtomicFolders.writeFolder(dir, name -> !name.equals(PeftFormat.WEIGHTS) && !name.equals(PeftFormat.CONFIG),
                this::writeFiles);
    }

    /**
     * Writes the two adapter files into a folder that is itself being assembled under a temporary
     * name (a training checkpoint's {@link io.safetune.train.CheckpointExporter}); on its own this is
     * not atomic as a pair: use {@link #save}.
     */
    public void writeFiles(Path folder) {
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        tensors().forEach((k, v) -> entries.add(SafetensorsWriter.Entry.of(k, v)));
        SafetensorsWriter.write(folder.resolve(PeftFormat.WEIGHTS), entries, Map.of("format", "pt"));
        PeftFormat.writeConfig(folder, config, baseModel);
    }

    /**
     * Folds s·B·A into every base weight and detaches the side paths (inference without the extra
     * matmuls). Safe: all deltas are computed and checked finite before any weight changes.
     */
    public void merge() {
        injection.merge(true);
    }

    /** Subtracts what {@link #merge()} added and re-attaches the side paths. */
    public void unmerge() {
        injection.merge(false);
    }

    /**
     * Detaches the adapter from the model and frees A and B. A merged adapter stays in the base
     * weights (PEFT's merge_and_unload); unmerge first to get the base model back.
     */
    @Override
    public void close() {
        injection.close();
    }
}
