package io.safetune.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import io.safetune.model.CausalLM;
import io.safetune.model.Projection;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Adapter layers on a model's linear layers, written once for every method (PEFT's "inject once"):
 * which layers × modules, the layers' trainable tensors registered under PEFT's key names, attach and
 * detach all or nothing, a merge that checks every update before changing any weight, and close.
 * {@link LoraAdapter} is its first user.
 *
 * @param <L> the method's layer
 */
public final class Injection<L extends AdapterLayer> implements AutoCloseable {

    /** Makes one layer's adapter for {@code target}, its arrays in {@code manager}; called in layer order. */
    @FunctionalInterface
    public interface LayerFactory<L> {
        L create(Projection target, NDManager manager);
    }

    private final CausalLM model;
    private final NDManager manager;
    private final Map<String, L> layers;
    private final Map<String, String> settings;
    private boolean attached;

    private Injection(CausalLM model, NDManager manager, Map<String, L> layers, Map<String, String> settings) {
        this.model = model;
        this.manager = manager;
        this.layers = Collections.unmodifiableMap(layers);
        this.settings = Map.copyOf(settings);
    }

    /** The model's projections of {@code modules} in the layers {@code targetsLayer} accepts, in layer then module order. */
    public static List<Projection> targets(CausalLM model, List<String> modules, java.util.function.IntPredicate targetsLayer) {
        List<Projection> out = new ArrayList<>();
        for (int l = 0; l < model.numLayers(); l++) {
            if (!targetsLayer.test(l)) {
                continue;
            }
            for (String module : CausalLM.linearModules()) {
                if (modules.contains(module)) {
                    out.add(model.projection(l, module));
                }
            }
        }
        return out;
    }

    /**
     * Builds a (detached) layer for every target in a sub-manager of the model's: the model is not
     * touched. Every trainable tensor must take a gradient, checked here so that attaching cannot fail
     * half-way on it.
     *
     * @param settings what the trainer records of this adapter (see {@link CausalLM#describeTraining})
     */
    public static <L extends AdapterLayer> Injection<L> build(CausalLM model, List<Projection> targets, LayerFactory<L> factory,
            Map<String, String> settings) {
        NDManager manager = model.manager().newSubManager();
        Map<String, L> layers = new LinkedHashMap<>();
        try {
            for (Projection target : targets) {
                layers.put(target.name(), factory.create(target, manager));
            }
            for (L l : layers.values()) {
                l.trainable().values().forEach(p -> p.setRequiresGradient(true));
            }
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
        return new Injection<>(model, manager, layers, settings);
    }

    /** PEFT's key of one trainable tensor: base_model.model.&lt;module&gt;.&lt;name&gt;.weight. */
    public static String key(String module, String name) {
        return PeftFormat.PREFIX + module + "." + name + ".weight";
    }

    /**
     * Puts every layer on the model in one step: every precondition is checked before the first change
     * (no target already adapted, no parameter name taken), and should a change still fail, the ones made
     * are undone.
     */
    public void attach() {
        if (attached) {
            throw new IllegalStateException("adapter is already attached");
        }
        for (Map.Entry<String, L> e : layers.entrySet()) {
            if (e.getValue().target().adapter() != null) {
                throw new IllegalStateException(e.getKey() + " already has an adapter; close it first (the model was not changed)");
            }
            for (String name : e.getValue().trainable().keySet()) {
                if (model.trainableParameters().containsKey(key(e.getKey(), name))) {
                    throw new IllegalStateException(key(e.getKey(), name)
                            + " is already a trainable parameter of the model (the model was not changed)");
                }
            }
        }
        List<L> done = new ArrayList<>();
        try {
            for (L layer : layers.values()) {
                done.add(layer);
                layer.target().setAdapter(layer);
                layer.trainable().forEach((name, p) -> model.registerTrainable(key(layer.target().name(), name), p));
            }
        } catch (RuntimeException e) {
            done.forEach(this::detach);
            throw e;
        }
        model.describeTraining(settings);
        attached = true;
    }

    public boolean attached() {
        return attached;
    }

    /** Undoes one layer's attachment, touching only what is this adapter's. */
    private void detach(L l) {
        if (l.target().adapter() == l) {
            l.target().setAdapter(null);
        }
        l.trainable().forEach((name, p) -> {
            String key = key(l.target().name(), name);
            if (model.trainableParameters().get(key) == p) {
                model.unregisterTrainable(key);
            }
        });
    }

    /** The layers by module path, in layer order. */
    public Map<String, L> layers() {
        return layers;
    }

    /** Every trainable tensor by PEFT key, in the order they are saved. */
    public LinkedHashMap<String, NDArray> tensors() {
        LinkedHashMap<String, NDArray> t = new LinkedHashMap<>();
        layers.forEach((module, l) -> l.trainable().forEach((name, p) -> t.put(key(module, name), p)));
        return t;
    }

    /**
     * Folds every update into its base weight and takes the side paths off (or, {@code merge} false, the
     * reverse). Safe: all updates are computed and checked finite before any weight changes.
     */
    public void merge(boolean merge) {
        if (!attached) {
            throw new IllegalStateException("adapter is not attached: attach it before merging or unmerging");
        }
        for (L l : layers.values()) {
            if (l.merged() == merge) {
                throw new IllegalStateException(l.target().name() + (merge ? " is already merged" : " is not merged"));
            }
        }
        try (NDManager tmp = manager.newSubManager()) {
            Map<L, NDArray> deltas = new LinkedHashMap<>();
            for (L l : layers.values()) {
                NDArray d = l.deltaWeight();
                d.attach(tmp);
                if (merge && (d.isNaN().any().getBoolean() || d.isInfinite().any().getBoolean())) {
                    throw new IllegalStateException("merge refused: non-finite values in the update of "
                            + l.target().name() + "; no weight was changed");
                }
                deltas.put(l, d);
            }
            deltas.forEach((l, d) -> {
                if (merge) {
                    l.target().weight().addi(d);
                    if (l.target().adapter() == l) {
                        l.target().setAdapter(null);
                    }
                } else {
                    l.target().weight().subi(d);
                    l.target().setAdapter(l);
                }
                l.setMerged(merge);
            });
        }
    }

    /** The sub-manager every layer's arrays live in. */
    public NDManager manager() {
        return manager;
    }

    /**
     * Takes the layers off the model and frees their arrays. A merged update stays in the base weights
     * (PEFT's merge_and_unload); unmerge first to get the base model back.
     */
    @Override
    public void close() {
        layers.values().forEach(this::detach);
        if (attached) {
            model.forgetTraining(settings.keySet());
        }
        attached = false;
        manager.close();
    }
}
