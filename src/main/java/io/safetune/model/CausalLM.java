package io.safetune.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.internal.NDArrayEx;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Linear;

import io.safetune.checkpoint.AtomicFolders;
import io.safetune.checkpoint.CheckpointException;
import io.safetune.checkpoint.DType;
import io.safetune.checkpoint.ModelConfig;
import io.safetune.checkpoint.SafetensorsWriter;
import io.safetune.checkpoint.TensorStore;
import io.safetune.train.TrainableModel;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * A Llama-family causal language model (llama, mistral, qwen2) over DJL's PyTorch engine:
 * embed → N × {@link DecoderLayer} → RMSNorm → lm_head. Weights keep their Hugging Face names and
 * float32 type; the model owns them in one long-lived manager. Close it when done.
 *
 * <p>Every call's intermediate arrays belong to the manager of the {@code inputIds} passed in, so a
 * caller that runs each step in its own sub-manager ({@link #newStepManager()}) keeps memory flat.
 */
public final class CausalLM implements TrainableModel, AutoCloseable {

    static {
        io.safetune.engine.Arithmetic.pin(); // the library's start-up: pinned before a model computes anything
    }

    private final ModelConfig config;
    private final NDManager manager;
    private final NDArray embedTokens;
    private final DecoderLayer[] layers;
    private final RmsNorm norm;
    private final NDArray lmHead;
    private final Rope rope;
    private final Forward.Constants constants;
    /** Every weight by its checkpoint name (lm_head omitted when tied). */
    private final Map<String, NDArray> weights;
    /** Parameters registered for training (adapters, or weights for full fine-tuning). */
    private final LinkedHashMap<String, NDArray> trainable = new LinkedHashMap<>();
    /** What the trainable parameters are (set by whoever registers them), for checkpoints and resume. */
    private final Map<String, String> trainingSettings = new TreeMap<>();

    private CausalLM(ModelConfig config, NDManager manager, Map<String, NDArray> w) {
        this.config = config;
        this.manager = manager;
        this.weights = Collections.unmodifiableMap(w);
        this.embedTokens = w.get("model.embed_tokens.weight");
        this.layers = new DecoderLayer[config.numLayers()];
        for (int i = 0; i < layers.length; i++) {
            String p = "model.layers." + i + ".";
            ModuleName.Linear[] modules = ModuleName.Linear.values();
            Projection[] proj = new Projection[modules.length];
            for (int m = 0; m < proj.length; m++) {
                String name = new ModuleName(i, modules[m]).path();
                proj[m] = new Projection(name, w.get(name + ".weight"), w.get(name + ".bias"));
            }
            layers[i] = new DecoderLayer(i, new RmsNorm(w.get(p + "input_layernorm.weight"), config.rmsNormEps()),
                    new RmsNorm(w.get(p + "post_attention_layernorm.weight"), config.rmsNormEps()), proj,
                    config.numHeads(), config.numKvHeads(), config.headDim());
        }
        this.norm = new RmsNorm(w.get("model.norm.weight"), config.rmsNormEps());
        this.lmHead = config.tieWordEmbeddings() ? embedTokens : w.get("lm_head.weight");
        this.rope = new Rope(config, manager.newSubManager());
        NDArray scale = manager.create((float) (1.0 / Math.sqrt(config.headDim())));
        this.constants = new Forward.Constants(scale);
    }

    /** Loads a Hugging Face checkpoint folder on the CPU. */
    public static CausalLM load(Path folder) {
        return load(folder, Device.cpu());
    }

    /**
     * Loads {@code config.json} and the safetensors weights (single or sharded; F32, F16 or BF16,
     * widened to float32). Either the whole model loads or an exception names the file and tensor.
     */
    public static CausalLM load(Path folder, Device device) {
        ModelConfig config = ModelConfig.load(folder);
        NDManager manager = NDManager.newBaseManager(device);
        try (TensorStore store = TensorStore.open(folder)) {
            Map<String, NDArray> w = new LinkedHashMap<>();
            for (Map.Entry<String, long[]> e : expectedShapes(config).entrySet()) {
                if (!store.contains(e.getKey())) {
                    String hint = e.getKey().equals("lm_head.weight") ? " (config.json says tie_word_embeddings=false)" : "";
                    throw new CheckpointException(folder, e.getKey(), "missing tensor" + hint);
                }
                w.put(e.getKey(), store.read(e.getKey(), manager, e.getValue()));
            }
            return new CausalLM(config, manager, w);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /**
     * A freshly initialised model (normal(0, 0.02) weights, unit norms, zero biases), as
     * transformers initialises a Llama before pretraining; deterministic in {@code seed}.
     */
    public static CausalLM initialize(ModelConfig config, long seed, Device device) {
        NDManager manager = NDManager.newBaseManager(device);
        Random rng = new Random(seed);
        Map<String, NDArray> w = new LinkedHashMap<>();
        expectedShapes(config).forEach((name, shape) -> {
            int n = Math.toIntExact(new Shape(shape).size());
            float[] v = new float[n];
            if (name.endsWith("norm.weight")) {
                java.util.Arrays.fill(v, 1f);
            } else if (!name.endsWith(".bias")) {
                for (int i = 0; i < n; i++) {
                    v[i] = (float) (rng.nextGaussian() * 0.02);
                }
            }
            w.put(name, manager.create(v, new Shape(shape)));
        });
        return new CausalLM(config, manager, w);
    }

    /** Every tensor a checkpoint of this architecture holds, with its shape, in checkpoint order. */
    static Map<String, long[]> expectedShapes(ModelConfig c) {
        Map<String, long[]> s = new LinkedHashMap<>();
        long d = c.hiddenSize();
        long q = (long) c.numHeads() * c.headDim();
        long kv = (long) c.numKvHeads() * c.headDim();
        long ffn = c.intermediateSize();
        s.put("model.embed_tokens.weight", new long[] {c.vocabSize(), d});
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            s.put(p + "input_layernorm.weight", new long[] {d});
            s.put(p + "self_attn.q_proj.weight", new long[] {q, d});
            s.put(p + "self_attn.k_proj.weight", new long[] {kv, d});
            s.put(p + "self_attn.v_proj.weight", new long[] {kv, d});
            s.put(p + "self_attn.o_proj.weight", new long[] {d, q});
            if (c.qkvBias()) {
                s.put(p + "self_attn.q_proj.bias", new long[] {q});
                s.put(p + "self_attn.k_proj.bias", new long[] {kv});
                s.put(p + "self_attn.v_proj.bias", new long[] {kv});
            }
            if (c.oBias()) {
                s.put(p + "self_attn.o_proj.bias", new long[] {d});
            }
            s.put(p + "post_attention_layernorm.weight", new long[] {d});
            s.put(p + "mlp.gate_proj.weight", new long[] {ffn, d});
            s.put(p + "mlp.up_proj.weight", new long[] {ffn, d});
            s.put(p + "mlp.down_proj.weight", new long[] {d, ffn});
            if (c.mlpBias()) {
                s.put(p + "mlp.gate_proj.bias", new long[] {ffn});
                s.put(p + "mlp.up_proj.bias", new long[] {ffn});
                s.put(p + "mlp.down_proj.bias", new long[] {d});
            }
        }
        s.put("model.norm.weight", new long[] {d});
        if (!c.tieWordEmbeddings()) {
            s.put("lm_head.weight", new long[] {c.vocabSize(), d});
        }
        return s;
    }

    public ModelConfig config() {
        return config;
    }

    public NDManager manager() {
        return manager;
    }

    public Device device() {
        return manager.getDevice();
    }

    /** A sub-manager for one step's arrays: create the step's inputs in it and close it after. */
    public NDManager newStepManager() {
        return manager.newSubManager();
    }

    public int numLayers() {
        return layers.length;
    }

    /** Every weight by checkpoint name (read-only map; the arrays are live). */
    public Map<String, NDArray> weights() {
        return weights;
    }

    /** The linear layer {@code module} (q_proj … down_proj) of {@code layer}. */
    public Projection projection(int layer, String module) {
        if (layer < 0 || layer >= layers.length) {
            throw new IllegalArgumentException("layer: " + layer + " out of range [0, " + layers.length + ")");
        }
        return layers[layer].projection(module);
    }

    /** The linear-layer names an adapter may target. */
    public static List<String> linearModules() {
        return ModuleName.Linear.hfNames();
    }

    // ---------------------------------------------------------------- forward

    /** Plain forward: logits [B, T, V] for ids [B, T] (int64), no padding. */
    public ModelOutput forward(NDArray inputIds) {
        return forward(inputIds, null, Hooks.NONE, null, false, false);
    }

    /**
     * The forward pass.
     *
     * @param inputIds      int64 [B, T] new tokens
     * @param attentionMask int64 [B, past + T], 1 = real token; null = all real
     * @param hooks         what to capture or perturb ({@link Hooks#NONE} for nothing)
     * @param cache         past keys/values, extended in place; null for none
     * @param training      enables dropout in adapters
     * @param lastOnly      compute logits for the last position only ([B, 1, V]), for decoding
     */
    public ModelOutput forward(NDArray inputIds, NDArray attentionMask, Hooks hooks, KvCache cache,
            boolean training, boolean lastOnly) {
        NDManager m = inputIds.getManager();
        int b = Math.toIntExact(inputIds.getShape().get(0));
        int t = Math.toIntExact(inputIds.getShape().get(1));
        int past = cache == null ? 0 : cache.length();
        long[][] mask = hostMask(attentionMask, b, past + t, cache);
        int[] start = cache == null || past == 0 ? null : cache.nextPosition();
        int[][] positions = Masks.positions(mask, past, t, start);
        if (cache != null) {
            cache.advance(mask, Masks.next(positions, mask, past, start));
        }
        Forward f = new Forward(hooks, training, cache, constants);
        NDArray[] cs = rope.tables(m, positions);
        f.cos = cs[0];
        f.sin = cs[1];
        f.maskBias = Masks.bias(m, mask, past, t, config.slidingWindow());

        NDArrayEx ex = inputIds.getNDArrayInternal();
        NDArray x = ex.embedding(inputIds, embedTokens, SparseFormat.DENSE).singletonOrThrow();
        for (DecoderLayer layer : layers) {
            x = layer.forward(x, f);
        }
        x = norm.apply(x);
        NDArray h = lastOnly ? x.get(":, -1:, :") : x;
        NDArray logits = Linear.linear(h, lmHead).singletonOrThrow();
        return new ModelOutput(logits, x, List.copyOf(f.attentionOutputs), Map.copyOf(f.linearInputs));
    }

    private static long[][] hostMask(NDArray attentionMask, int b, int s, KvCache cache) {
        if (attentionMask != null) {
            long[] flat = attentionMask.toType(DataType.INT64, false).toLongArray();
            if (flat.length != (long) b * s) {
                throw new IllegalArgumentException("attentionMask: shape " + attentionMask.getShape()
                        + " must be [" + b + ", " + s + "] (past + new tokens)");
            }
            long[][] mask = new long[b][s];
            for (int i = 0; i < b; i++) {
                System.arraycopy(flat, i * s, mask[i], 0, s);
            }
            return mask;
        }
        long[][] mask = new long[b][s];
        long[][] old = cache == null ? new long[0][] : cache.mask();
        for (int i = 0; i < b; i++) {
            java.util.Arrays.fill(mask[i], 1);
            if (old.length > 0) {
                System.arraycopy(old[i], 0, mask[i], 0, old[i].length);
            }
        }
        return mask;
    }

    @Override
    public NDArray logits(NDArray inputIds, NDArray attentionMask, boolean training) {
        return forward(inputIds, attentionMask, Hooks.NONE, null, training, false).logits();
    }

    // ---------------------------------------------------------------- training

    @Override
    public LinkedHashMap<String, NDArray> trainableParameters() {
        return trainable;
    }

    /** Registers an adapter's parameter (a leaf this model's manager or the adapter's owns). */
    public void registerTrainable(String name, NDArray parameter) {
        parameter.setRequiresGradient(true);
        trainable.put(name, parameter);
    }

    public void unregisterTrainable(String name) {
        NDArray p = trainable.remove(name);
        if (p != null && weights.containsValue(p)) {
            p.setRequiresGradient(false);
        }
    }

    /** Full fine-tuning: every weight becomes trainable under its checkpoint name. */
    public void unfreezeAll() {
        weights.forEach(this::registerTrainable);
        trainingSettings.put(TRAINING, "full");
    }

    /** The settings key that says what is trained ("lora" or "full"). */
    public static final String TRAINING = "training";

    @Override
    public Map<String, String> trainingSettings() {
        return Collections.unmodifiableMap(new TreeMap<>(trainingSettings));
    }

    /** Records settings of what was registered for training (an adapter's r, alpha, …). */
    public void describeTraining(Map<String, String> settings) {
        trainingSettings.putAll(settings);
    }

    /** Forgets settings recorded by {@link #describeTraining} (the adapter was detached). */
    public void forgetTraining(java.util.Collection<String> keys) {
        keys.forEach(trainingSettings::remove);
    }

    // ---------------------------------------------------------------- saving

    /**
     * Writes a Hugging Face checkpoint folder (config.json + model.safetensors) that transformers
     * loads, as one unit ({@link AtomicFolders}). Every weight file and index of an earlier save is
     * dropped (stale shards and their index would shadow the new model.safetensors); the folder's
     * other files (a tokenizer written first, logs) are kept. {@code dtype} is F32, F16 or BF16.
     */
    public void save(Path folder, DType dtype) {
        AtomicFolders.writeFolder(folder, name -> !isModelFile(name), tmp -> writeFiles(tmp, dtype));
    }

    /** Whether a file belongs to a saved model (config.json, weights, shard index): what a new save replaces. */
    public static boolean isModelFile(String name) {
        return name.equals("config.json") || name.endsWith(".safetensors") || name.equals(TensorStore.INDEX);
    }

    /**
     * Writes config.json and model.safetensors into a folder being assembled under a temporary name
     * (to add files such as a tokenizer before it is renamed into place); not atomic on its own.
     */
    public void writeFiles(Path folder, DType dtype) {
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        weights.forEach((name, w) -> entries.add(SafetensorsWriter.Entry.of(name, w, dtype)));
        SafetensorsWriter.write(folder.resolve(TensorStore.SINGLE), entries, Map.of("format", "pt"));
        String torchDtype = switch (dtype) {
            case BF16 -> "bfloat16";
            case F16 -> "float16";
            default -> "float32";
        };
        new ModelConfig(config.modelType(), config.vocabSize(), config.hiddenSize(), config.intermediateSize(),
                config.numLayers(), config.numHeads(), config.numKvHeads(), config.headDim(), config.rmsNormEps(),
                config.ropeTheta(), config.ropeScaling(), config.maxPositionEmbeddings(), config.qkvBias(),
                config.oBias(), config.mlpBias(), config.tieWordEmbeddings(), config.slidingWindow(),
                config.bosTokenId(), config.eosTokenIds(), config.padTokenId(), torchDtype).save(folder);
    }

    @Override
    public void close() {
        manager.close();
    }
}
