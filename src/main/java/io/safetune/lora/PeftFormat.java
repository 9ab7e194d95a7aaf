package io.safetune.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.safetune.checkpoint.AtomicFiles;
import io.safetune.checkpoint.AtomicFolders;
import io.safetune.checkpoint.DType;
import io.safetune.checkpoint.SafetensorsWriter;
import io.safetune.checkpoint.TensorStore;
import io.safetune.checkpoint.CheckpointException;
import io.safetune.checkpoint.CheckpointJson;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PEFT's on-disk LoRA format: {@code adapter_config.json} and {@code adapter_model.safetensors} with
 * keys {@code base_model.model.<module path>.lora_A.weight} / {@code .lora_B.weight}. Written so that
 * {@code PeftModel.from_pretrained} loads it, and read from what PEFT's {@code save_pretrained} writes.
 */
public final class PeftFormat {

    public static final String CONFIG = "adapter_config.json";
    public static final String WEIGHTS = "adapter_model.safetensors";
    static final String PREFIX = "base_model.model.";
    private static final Pattern KEY = Pattern.compile("base_model\\.model\\.(.+)\\.lora_([AB])\\.weight");
    private static final ObjectMapper JSON = new ObjectMapper();

    private PeftFormat() {
    }

    /** PEFT's key for a module path, e.g. model.layers.0.self_attn.q_proj → …q_proj.lora_A.weight. */
    public static String key(String modulePath, char which) {
        return PREFIX + modulePath + ".lora_" + which + ".weight";
    }

    /** [module path, "A" or "B"], or null if {@code key} is not a LoRA weight key. */
    static String[] parseKey(String key) {
        Matcher m = KEY.matcher(key);
        return m.matches() ? new String[] {m.group(1), m.group(2)} : null;
    }

    /** What an adapter_config.json says, with PEFT's target_modules kept as written (list or regex). */
    public record Parsed(LoraConfig config, List<String> targetList, String targetRegex, String baseModel) {
    }

    /**
     * Reads and checks {@code dir}/adapter_config.json: a plain LoRA (no DoRA, no per-module ranks or
     * alphas, no bias, no modules_to_save), so that one r and one α hold for every weight. Errors name
     * the file and the field. Every reader of adapters (loading, Safe LoRA, the benchmarks) goes through it.
     */
    public static Parsed readConfig(Path dir) {
        Path file = dir.resolve(CONFIG);
        JsonNode c;
        try {
            c = CheckpointJson.parse(file, Files.readString(file), "not valid JSON");
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file, null, "file not found (is this a PEFT adapter folder?)");
        } catch (IOException e) {
            // not Jackson's message: it quotes the file (CheckpointJson.parse reports JSON errors itself)
            throw new CheckpointException(file, null, "cannot read: " + e.getMessage(), e);
        }
        String type = c.path("peft_type").asText("");
        if (!type.equals("LORA")) {
            throw new CheckpointException(file, "peft_type", CheckpointJson.quote(type) + " is not supported (only LORA)");
        }
        unsupported(file, c, "use_dora", c.path("use_dora").asBoolean(false), "DoRA is not supported");
        unsupported(file, c, "fan_in_fan_out", c.path("fan_in_fan_out").asBoolean(false), "only Linear layers (fan_in_fan_out=false)");
        unsupported(file, c, "bias", !c.path("bias").asText("none").equals("none"), "only bias='none' is supported");
        unsupported(file, c, "modules_to_save", c.hasNonNull("modules_to_save") && !c.get("modules_to_save").isEmpty(),
                "modules_to_save is not supported");
        unsupported(file, c, "rank_pattern", c.hasNonNull("rank_pattern") && !c.get("rank_pattern").isEmpty(),
                "per-module ranks are not supported");
        unsupported(file, c, "alpha_pattern", c.hasNonNull("alpha_pattern") && !c.get("alpha_pattern").isEmpty(),
                "per-module alphas are not supported");
        if (!c.hasNonNull("r") || !c.get("r").canConvertToInt()) {
            throw new CheckpointException(file, "r", "missing or not an integer");
        }
        JsonNode tm = c.get("target_modules");
        List<String> targets = new ArrayList<>();
        String regex = null;
        if (tm != null && tm.isArray()) {
            tm.forEach(t -> targets.add(t.asText()));
        } else if (tm != null && tm.isTextual()) {
            regex = tm.asText();
            for (String m : LoraConfig.MODULES) {
                if (Pattern.compile(regex).matcher("model.layers.0.self_attn." + m).matches()
                        || Pattern.compile(regex).matcher("model.layers.0.mlp." + m).matches()) {
                    targets.add(m);
                }
            }
        } else {
            throw new CheckpointException(file, "target_modules", "missing");
        }
        List<Integer> layers = new ArrayList<>();
        JsonNode lt = c.get("layers_to_transform");
        if (lt != null && lt.isArray()) {
            lt.forEach(l -> layers.add(l.asInt()));
        } else if (lt != null && lt.isInt()) {
            layers.add(lt.asInt());
        }
        try {
            LoraConfig cfg = new LoraConfig(c.get("r").asInt(), c.path("lora_alpha").asDouble(8),
                    c.path("lora_dropout").asDouble(0), targets, layers, c.path("use_rslora").asBoolean(false));
            return new Parsed(cfg, targets, regex, c.path("base_model_name_or_path").asText(null));
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file, null, e.getMessage());
        }
    }

    /**
     * Writes a copy of the adapter in {@code adapterDir} to {@code outDir} with the tensors in
     * {@code replaced} (by PEFT key) swapped in and the rest as they were (float32), adapter_config.json
     * copied unchanged, plus whatever {@code extra} writes, all as one unit ({@link AtomicFolders}).
     * The way a post-process writes its new adapter.
     */
    public static void rewrite(Path adapterDir, Map<String, float[]> replaced, Path outDir, AtomicFolders.Body extra) {
        readConfig(adapterDir);
        try (TensorStore adapter = TensorStore.open(adapterDir.resolve(WEIGHTS))) {
            for (String key : replaced.keySet()) {
                if (!adapter.names().contains(key)) {
                    throw new IllegalArgumentException("replaced: " + key + " is not a tensor of " + adapterDir.resolve(WEIGHTS));
                }
                if (adapter.info(key).numel() != replaced.get(key).length) {
                    throw new IllegalArgumentException("replaced: " + key + " has " + replaced.get(key).length + " values, the adapter's "
                            + adapter.info(key).numel());
                }
            }
            AtomicFolders.writeFolder(outDir, name -> !name.equals(WEIGHTS) && !name.equals(CONFIG), tmp -> {
                List<SafetensorsWriter.Entry> entries = new ArrayList<>();
                for (String key : adapter.names()) {
                    float[] values = replaced.get(key);
                    entries.add(SafetensorsWriter.Entry.ofFloats(key, adapter.info(key).shape(),
                            values != null ? () -> values : () -> adapter.readFloats(key), DType.F32));
                }
                SafetensorsWriter.write(tmp.resolve(WEIGHTS), entries, Map.of("format", "pt"));
                Files.copy(adapterDir.resolve(CONFIG), tmp.resolve(CONFIG));
                extra.writeTo(tmp);
            });
        }
    }

    private static void unsupported(Path file, JsonNode c, String field, boolean bad, String why) {
        if (bad) {
            throw new CheckpointException(file, field, why + " (found " + CheckpointJson.describe(c.get(field)) + ")");
        }
    }

    /**
     * Writes a plain LoRA adapter's two files into {@code folder} (a folder being assembled under a
     * temporary name: not atomic on its own): adapter_model.safetensors from {@code entries} (PEFT keys,
     * see {@link Injection#key}) and adapter_config.json for {@code cfg}. How a method whose layer folds
     * into a plain LoRA (SaLoRA) writes the adapter any LoRA reader loads.
     */
    public static void writeFiles(Path folder, LoraConfig cfg, String baseModel, List<SafetensorsWriter.Entry> entries) {
        SafetensorsWriter.write(folder.resolve(WEIGHTS), entries, Map.of("format", "pt"));
        writeConfig(folder, cfg, baseModel);
    }

    /** The adapter_config.json PEFT 0.21 writes for a plain LoRA on a causal LM. */
    static void writeConfig(Path dir, LoraConfig cfg, String baseModel) {
        ObjectNode n = JSON.createObjectNode();
        n.put("peft_type", "LORA");
        n.put("task_type", "CAUSAL_LM");
        if (baseModel == null) {
            n.putNull("base_model_name_or_path");
        } else {
            n.put("base_model_name_or_path", baseModel);
        }
        n.put("r", cfg.r());
        if (cfg.alpha() == Math.rint(cfg.alpha())) {
            n.put("lora_alpha", (long) cfg.alpha());
        } else {
            n.put("lora_alpha", cfg.alpha());
        }
        n.put("lora_dropout", cfg.dropout());
        cfg.targetModules().forEach(n.putArray("target_modules")::add);
        if (cfg.layers().isEmpty()) {
            n.putNull("layers_to_transform");
        } else {
            cfg.layers().forEach(n.putArray("layers_to_transform")::add);
        }
        n.putNull("layers_pattern");
        n.put("use_rslora", cfg.useRslora());
        n.put("bias", "none");
        n.put("fan_in_fan_out", false);
        n.put("init_lora_weights", true);
        n.put("inference_mode", true);
        n.putNull("modules_to_save");
        n.putObject("rank_pattern");
        n.putObject("alpha_pattern");
        n.put("use_dora", false);
        n.put("lora_bias", false);
        n.putNull("revision");
        AtomicFiles.writeString(dir.resolve(CONFIG), n.toPrettyString());
    }
}
