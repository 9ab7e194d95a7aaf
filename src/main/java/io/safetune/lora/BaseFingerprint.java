package io.safetune.lora;

import ai.djl.ndarray.types.DataType;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.safetune.checkpoint.AtomicFiles;
import io.safetune.checkpoint.CheckpointException;
import io.safetune.model.CausalLM;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * An adapter that is only valid on one particular base (SaLoRA's, trained on the residual W′) says so in
 * {@value #FILE} beside its PEFT files: the sha256 of that base's weights it changes (float32 values,
 * in the order listed) and where that base was written. {@link LoraAdapter#load} checks it and refuses a
 * model whose weights differ, naming the base the adapter needs. PEFT ignores the file.
 *
 * @param sha256  of the listed weights' float32 values, little-endian, each preceded by its name
 * @param weights the weights fingerprinted, e.g. model.layers.0.self_attn.q_proj.weight
 * @param base    where the base was written (a hint for the error)
 */
public record BaseFingerprint(String sha256, List<String> weights, String base) {

    public static final String FILE = "base_fingerprint.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The fingerprint of {@code weights} as {@code model} holds them now. */
    public static BaseFingerprint of(CausalLM model, List<String> weights, String base) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (String w : weights) {
                var array = model.weights().get(w);
                if (array == null) {
                    throw new IllegalArgumentException("weights: the model has no " + w);
                }
                float[] v = array.toType(DataType.FLOAT32, false).toFloatArray();
                ByteBuffer bytes = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                bytes.asFloatBuffer().put(v);
                sha.update(w.getBytes(StandardCharsets.UTF_8));
                sha.update(bytes);
            }
            return new BaseFingerprint(HexFormat.of().formatHex(sha.digest()), List.copyOf(weights), base);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public void write(Path adapterDir) {
        try {
            AtomicFiles.writeString(adapterDir.resolve(FILE), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(this));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Refuses {@code model} unless its weights have the fingerprint in {@code adapterDir}'s file (none: any model). */
    static void check(CausalLM model, Path adapterDir) {
        Path file = adapterDir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return;
        }
        BaseFingerprint want;
        try {
            want = JSON.readValue(file.toFile(), BaseFingerprint.class);
        } catch (IOException e) {
            throw new CheckpointException(file, null, "cannot read: " + e.getMessage(), e);
        }
        if (want.sha256() == null || want.weights() == null || want.weights().isEmpty()) {
            throw new CheckpointException(file, want.sha256() == null ? "sha256" : "weights", "missing");
        }
        String got;
        try {
            got = of(model, want.weights(), null).sha256();
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file, "weights", e.getMessage());
        }
        if (!got.equals(want.sha256())) {
            throw new CheckpointException(file, "sha256", "this adapter belongs to the base " + (want.base() == null ? ""
                    : "written to " + want.base() + " ") + "(fingerprint " + want.sha256().substring(0, 12) + "…); the model's "
                    + want.weights().size() + " adapted weights have " + got.substring(0, 12) + "…: load it on that base");
        }
    }
}
