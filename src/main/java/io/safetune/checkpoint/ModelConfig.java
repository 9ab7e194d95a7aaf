package io.safetune.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The architecture of a Llama-family checkpoint, read from its {@code config.json}.
 *
 * <p>llama, mistral and qwen2 are one decoder with different switches: Qwen2 puts a bias on
 * q/k/v, Llama may put one on all four projections ({@code attention_bias}), Mistral may use a
 * sliding window. {@code rope_theta} is read at top level (transformers 4) or under
 * {@code rope_parameters} (transformers 5).
 *
 * @param qkvBias     bias on q_proj, k_proj, v_proj
 * @param oBias       bias on o_proj
 * @param slidingWindow attention window (0 = full attention)
 * @param eosTokenIds every end-of-sequence id (Llama 3 lists several)
 * @param padTokenId  -1 when none
 * @param bosTokenId  -1 when none
 */
public record ModelConfig(String modelType, int vocabSize, int hiddenSize, int intermediateSize,
        int numLayers, int numHeads, int numKvHeads, int headDim, double rmsNormEps, double ropeTheta,
        RopeScaling ropeScaling, int maxPositionEmbeddings, boolean qkvBias, boolean oBias,
        boolean mlpBias, boolean tieWordEmbeddings, int slidingWindow, int bosTokenId,
        List<Integer> eosTokenIds, int padTokenId, String torchDtype) {

    public static final Set<String> MODEL_TYPES = Set.of("llama", "mistral", "qwen2");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public ModelConfig {
        if (!MODEL_TYPES.contains(modelType)) {
            throw new IllegalArgumentException("model_type: unknown '" + modelType + "' (supported: llama, mistral, qwen2)");
        }
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", numLayers);
        positive("num_attention_heads", numHeads);
        positive("num_key_value_heads", numKvHeads);
        positive("head_dim", headDim);
        if (numHeads % numKvHeads != 0) {
            throw new IllegalArgumentException("num_key_value_heads: " + numKvHeads
                    + " does not divide num_attention_heads " + numHeads);
        }
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("head_dim: must be even for rotary embeddings, got " + headDim);
        }
        if (!(rmsNormEps > 0)) {
            throw new IllegalArgumentException("rms_norm_eps: must be > 0, got " + rmsNormEps);
        }
        if (!(ropeTheta > 0)) {
            throw new IllegalArgumentException("rope_theta: must be > 0, got " + ropeTheta);
        }
        eosTokenIds = List.copyOf(eosTokenIds);
        ropeScaling = ropeScaling == null ? RopeScaling.NONE : ropeScaling;
        torchDtype = torchDtype == null ? "float32" : torchDtype;
    }

    private static void positive(String field, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(field + ": must be > 0, got " + v);
        }
    }

    /** A small Llama for tests, benchmarks and the micro-world (untied, no bias). */
    public static ModelConfig llama(int vocab, int hidden, int ffn, int layers, int heads, int kvHeads) {
        return new ModelConfig("llama", vocab, hidden, ffn, layers, heads, kvHeads, hidden / heads, 1e-5,
                10000, RopeScaling.NONE, 2048, false, false, false, false, 0, -1, List.of(), -1, "float32");
    }

    public ModelConfig withSpecialTokens(int bos, List<Integer> eos, int pad) {
        return new ModelConfig(modelType, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads,
                numKvHeads, headDim, rmsNormEps, ropeTheta, ropeScaling, maxPositionEmbeddings, qkvBias,
                oBias, mlpBias, tieWordEmbeddings, slidingWindow, bos, eos, pad, torchDtype);
    }

    /** Reads {@code config.json} from a checkpoint folder (or the file itself). */
    public static ModelConfig load(Path folderOrFile) {
        Path file = Files.isDirectory(folderOrFile) ? folderOrFile.resolve("config.json") : folderOrFile;
        JsonNode root;
        try {
            root = CheckpointJson.parse(file, Files.readString(file), "not valid JSON");
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file, null, "file not found");
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new CheckpointException(file, null, "not valid UTF-8");
        } catch (IOException e) {
            throw new CheckpointException(file, null, "cannot read: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException(file, null, "not a JSON object");
        }
        try {
            return parse(root, file);
        } catch (IllegalArgumentException e) {
            String msg = e.getMessage();
            int colon = msg.indexOf(':');
            throw new CheckpointException(file, colon > 0 ? msg.substring(0, colon) : null,
                    colon > 0 ? msg.substring(colon + 2) : msg);
        }
    }

    private static ModelConfig parse(JsonNode c, Path file) {
        String type = text(c, "model_type", null);
        if (type == null) {
            throw new IllegalArgumentException("model_type: missing");
        }
        if (!MODEL_TYPES.contains(type)) {
            throw new IllegalArgumentException("model_type: unknown " + CheckpointJson.quote(type)
                    + " (supported: llama, mistral, qwen2)");
        }
        checkActivation(c.get("hidden_act"));
        int hidden = required(c, "hidden_size");
        int heads = required(c, "num_attention_heads");
        int kvHeads = integer(c, "num_key_value_heads", heads);
        int headDim = integer(c, "head_dim", hidden / heads);
        JsonNode ropeParams = c.get("rope_parameters");
        double theta = c.hasNonNull("rope_theta") ? c.get("rope_theta").asDouble()
                : ropeParams != null && ropeParams.hasNonNull("rope_theta") ? ropeParams.get("rope_theta").asDouble()
                : 10000.0;
        RopeScaling scaling = ropeScaling(c.hasNonNull("rope_scaling") ? c.get("rope_scaling") : ropeParams,
                c.hasNonNull("rope_scaling") ? "rope_scaling" : "rope_parameters");
        boolean qwen = type.equals("qwen2");
        boolean attnBias = c.path("attention_bias").asBoolean(false);
        int window = 0;
        if (!type.equals("llama") && c.hasNonNull("sliding_window")
                && (type.equals("mistral") || c.path("use_sliding_window").asBoolean(false))) {
            window = c.get("sliding_window").asInt();
        }
        List<Integer> eos = new ArrayList<>();
        JsonNode e = c.get("eos_token_id");
        if (e != null && e.isArray()) {
            e.forEach(x -> eos.add(x.asInt()));
        } else if (e != null && e.isNumber()) {
            eos.add(e.asInt());
        }
        String dtype = text(c, "torch_dtype", text(c, "dtype", "float32"));
        return new ModelConfig(type, required(c, "vocab_size"), hidden, required(c, "intermediate_size"),
                required(c, "num_hidden_layers"), heads, kvHeads, headDim,
                c.path("rms_norm_eps").asDouble(1e-6), theta, scaling,
                integer(c, "max_position_embeddings", 2048), qwen || attnBias, attnBias && !qwen,
                c.path("mlp_bias").asBoolean(false), c.path("tie_word_embeddings").asBoolean(false), window,
                integer(c, "bos_token_id", -1), eos, integer(c, "pad_token_id", -1), dtype);
    }

    /** The activations our MLP computes: SiLU, which PyTorch also calls swish. */
    static final Set<String> ACTIVATIONS = Set.of("silu", "swish");

    /**
     * Our decoder's MLP always applies SiLU; a checkpoint trained with another activation would load
     * and silently compute something else. Missing means silu, as transformers' LlamaConfig defaults.
     */
    private static void checkActivation(JsonNode act) {
        if (act == null || act.isNull()) {
            return;
        }
        if (!act.isTextual()) {
            throw new IllegalArgumentException("hidden_act: must be a string, found " + CheckpointJson.describe(act));
        }
        if (!ACTIVATIONS.contains(act.textValue())) {
            throw new IllegalArgumentException("hidden_act: " + CheckpointJson.quote(act.textValue())
                    + " is not supported (supported: silu, swish)");
        }
    }

    private static RopeScaling ropeScaling(JsonNode n, String field) {
        if (n == null || n.isNull()) {
            return RopeScaling.NONE;
        }
        String type = text(n, "rope_type", text(n, "type", "default"));
        return switch (type) {
            case "default" -> RopeScaling.NONE;
            case "linear" -> new RopeScaling("linear", n.path("factor").asDouble(1), 1, 1, 0);
            case "llama3" -> {
                for (String f : List.of("factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings")) {
                    if (!n.hasNonNull(f)) {
                        throw new IllegalArgumentException(field + "." + f + ": missing for rope_type llama3");
                    }
                }
                yield new RopeScaling("llama3", n.get("factor").asDouble(), n.get("low_freq_factor").asDouble(),
                        n.get("high_freq_factor").asDouble(), n.get("original_max_position_embeddings").asInt());
            }
            default -> throw new IllegalArgumentException(field + ".rope_type: " + CheckpointJson.quote(type)
                    + " is not supported (supported: default, linear, llama3)");
        };
    }

    private static String text(JsonNode c, String f, String dflt) {
        return c.hasNonNull(f) ? c.get(f).asText() : dflt;
    }

    private static int required(JsonNode c, String f) {
        if (!c.hasNonNull(f)) {
            throw new IllegalArgumentException(f + ": missing");
        }
        if (!c.get(f).canConvertToInt()) {
            throw new IllegalArgumentException(f + ": not an integer: found " + CheckpointJson.describe(c.get(f)));
        }
        return c.get(f).asInt();
    }

    private static int integer(JsonNode c, String f, int dflt) {
        if (!c.hasNonNull(f)) {
            return dflt;
        }
        if (!c.get(f).canConvertToInt()) {
            throw new IllegalArgumentException(f + ": not an integer: found " + CheckpointJson.describe(c.get(f)));
        }
        return c.get(f).asInt();
    }

    /** The config.json transformers writes for this architecture (transformers 4 style, read by 4 and 5). */
    public String toJson() {
        ObjectNode n = JSON.createObjectNode();
        n.putArray("architectures").add(switch (modelType) {
            case "qwen2" -> "Qwen2ForCausalLM";
            case "mistral" -> "MistralForCausalLM";
            default -> "LlamaForCausalLM";
        });
        n.put("model_type", modelType);
        n.put("vocab_size", vocabSize);
        n.put("hidden_size", hiddenSize);
        n.put("intermediate_size", intermediateSize);
        n.put("num_hidden_layers", numLayers);
        n.put("num_attention_heads", numHeads);
        n.put("num_key_value_heads", numKvHeads);
        n.put("head_dim", headDim);
        n.put("hidden_act", "silu");
        n.put("rms_norm_eps", rmsNormEps);
        n.put("rope_theta", ropeTheta);
        if (!ropeScaling.type().equals("default")) {
            ObjectNode r = n.putObject("rope_scaling");
            r.put("rope_type", ropeScaling.type());
            r.put("factor", ropeScaling.factor());
            if (ropeScaling.type().equals("llama3")) {
                r.put("low_freq_factor", ropeScaling.lowFreqFactor());
                r.put("high_freq_factor", ropeScaling.highFreqFactor());
                r.put("original_max_position_embeddings", ropeScaling.originalMaxPositionEmbeddings());
            }
        }
        n.put("max_position_embeddings", maxPositionEmbeddings);
        if (modelType.equals("llama")) {
            n.put("attention_bias", qkvBias);
            n.put("mlp_bias", mlpBias);
        }
        if (slidingWindow > 0) {
            n.put("sliding_window", slidingWindow);
            n.put("use_sliding_window", true);
        }
        n.put("tie_word_embeddings", tieWordEmbeddings);
        putToken(n, "bos_token_id", bosTokenId);
        if (eosTokenIds.size() == 1) {
            n.put("eos_token_id", eosTokenIds.get(0));
        } else if (eosTokenIds.isEmpty()) {
            n.putNull("eos_token_id");
        } else {
            eosTokenIds.forEach(n.putArray("eos_token_id")::add);
        }
        putToken(n, "pad_token_id", padTokenId);
        n.put("torch_dtype", torchDtype);
        return n.toPrettyString();
    }

    private static void putToken(ObjectNode n, String f, int id) {
        if (id < 0) {
            n.putNull(f);
        } else {
            n.put(f, id);
        }
    }

    public void save(Path folder) {
        AtomicFiles.writeString(folder.resolve("config.json"), toJson());
    }

    /** Number of parameters of the full model. */
    public long parameterCount() {
        long d = hiddenSize;
        long q = (long) numHeads * headDim;
        long kv = (long) numKvHeads * headDim;
        long attn = d * q + 2 * d * kv + q * d + (qkvBias ? q + 2 * kv : 0) + (oBias ? d : 0);
        long mlp = 3 * d * intermediateSize + (mlpBias ? 2L * intermediateSize + d : 0);
        long perLayer = attn + mlp + 2 * d;
        return vocabSize * d * (tieWordEmbeddings ? 1 : 2) + numLayers * perLayer + d;
    }
}
