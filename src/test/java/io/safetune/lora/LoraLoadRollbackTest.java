package io.safetune.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.safetune.checkpoint.TensorInfo;
import io.safetune.checkpoint.TensorStore;
import io.safetune.lab.LabModel;
import io.safetune.model.CausalLM;
import io.safetune.model.ParityCheck;
import io.safetune.testing.Fixtures;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A failed {@link LoraAdapter#load} is all-or-nothing: whatever is wrong with the adapter folder, the
 * model afterwards computes the base model's logits, has no trainable parameters, and accepts the
 * good adapter, which then reproduces PEFT's logits.
 */
class LoraLoadRollbackTest {

    private static final String LAST_B = "base_model.model.model.layers.2.self_attn.v_proj.lora_B.weight";

    @TempDir
    Path tmp;

    /** One way to spoil a copy of llama-tiny-lora. */
    enum Corruption {
        /** lora_B of the last target has r = 3 while the config says 4. */
        BAD_SHAPE,
        /** the last target's lora_B is missing. */
        MISSING_TENSOR,
        /** k_proj weights that adapter_config.json does not target. */
        EXTRA_TENSOR,
        /** a key for layer 7 of a 3-layer model. */
        WRONG_MODULE,
        /** adapter_config.json is not JSON. */
        CORRUPT_CONFIG,
        /** adapter_model.safetensors cut short. */
        TRUNCATED_WEIGHTS,
        /** the last target's lora_B stored as int32 (right shape, wrong type). */
        INTEGER_DTYPE,
        /** a NaN in the last target's lora_B. */
        NON_FINITE,
        /** layers_to_transform names a layer the model does not have. */
        CONFIG_LAYER_OUT_OF_RANGE,
        /** r in the config differs from every tensor's. */
        CONFIG_RANK_MISMATCH
    }

    @ParameterizedTest
    @EnumSource(Corruption.class)
    void aFailedLoadLeavesTheBaseModelIntact(Corruption kind) throws Exception {
        Path bad = corrupt(kind);
        try (CausalLM model = CausalLM.load(Fixtures.get("llama-tiny"))) {
            RuntimeException e = assertThrows(RuntimeException.class, () -> LoraAdapter.load(model, bad));
            assertTrue(e.getMessage().contains(bad.getFileName().toString()), "error names the folder: " + e.getMessage());
            assertIntactThenGoodAdapterLoads(model);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Corruption.class, names = {"INTEGER_DTYPE", "EXTRA_TENSOR", "NON_FINITE"})
    void aFailedAttachInALabModelLeavesNoAdapter(Corruption kind) throws Exception {
        Path bad = corrupt(kind);
        // LabModel needs a tokenizer.json beside the weights; llama-tiny has none, so lend it one
        Path llama = tmp.resolve("llama");
        Files.createDirectories(llama);
        for (String f : List.of("config.json", "model.safetensors")) {
            Files.copy(Fixtures.get("llama-tiny/" + f), llama.resolve(f));
        }
        Files.copy(Fixtures.get("tokenizer-bpe/tokenizer.json"), llama.resolve("tokenizer.json"));
        try (LabModel lab = LabModel.load(llama, "plain")) {
            assertThrows(RuntimeException.class, () -> lab.attach(bad));
            assertNull(lab.adapter(), "a failed attach leaves no adapter");
            assertIntactThenGoodAdapterLoads(lab.lm());
            // with an adapter attached, a failed attach keeps it, working
            lab.attach(Fixtures.get("llama-tiny-lora"));
            LoraAdapter before = lab.adapter();
            assertThrows(RuntimeException.class, () -> lab.attach(bad));
            assertSame(before, lab.adapter(), "the attached adapter survives a failed attach");
            assertEquals(12, lab.lm().trainableParameters().size());
            double d = ParityCheck.run(lab.lm(), Fixtures.get("llama-tiny-lora/expected.json")).maxAbsDiff().get("logits");
            assertTrue(d <= 1e-4, "adapter logits differ by " + d);
            lab.detach();
            assertIntactThenGoodAdapterLoads(lab.lm());
        }
    }

    private static void assertIntactThenGoodAdapterLoads(CausalLM model) {
        assertEquals(0, model.trainableParameters().size(), "no trainable parameters after a failed load");
        double base = ParityCheck.run(model, Fixtures.get("llama-tiny/expected.json")).maxAbsDiff().get("logits");
        assertTrue(base <= 1e-4, "base logits changed by " + base);
        try (LoraAdapter good = LoraAdapter.load(model, Fixtures.get("llama-tiny-lora"))) {
            double d = ParityCheck.run(model, Fixtures.get("llama-tiny-lora/expected.json")).maxAbsDiff().get("logits");
            assertTrue(d <= 1e-4, "adapter logits differ by " + d);
            assertEquals(12, model.trainableParameters().size());
        }
        assertEquals(0, model.trainableParameters().size());
    }

    // ------------------------------------------------------------------ building bad adapters

    private Path corrupt(Corruption kind) throws IOException {
        Path dir = tmp.resolve("bad-" + kind.name().toLowerCase());
        Files.createDirectories(dir);
        Path fixture = Fixtures.get("llama-tiny-lora");
        String config = Files.readString(fixture.resolve(PeftFormat.CONFIG));
        Files.writeString(dir.resolve(PeftFormat.CONFIG), config);
        Map<String, Raw> tensors = new LinkedHashMap<>();
        try (TensorStore s = TensorStore.open(fixture.resolve(PeftFormat.WEIGHTS))) {
            for (String n : s.names()) {
                TensorInfo t = s.info(n);
                tensors.put(n, Raw.f32(t.shape(), s.readFloats(n)));
            }
        }
        Path weights = dir.resolve(PeftFormat.WEIGHTS);
        switch (kind) {
            case BAD_SHAPE -> tensors.put(LAST_B, Raw.f32(new long[] {64, 3}, new float[64 * 3]));
            case MISSING_TENSOR -> tensors.remove(LAST_B);
            case EXTRA_TENSOR -> {
                tensors.put("base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight", Raw.f32(new long[] {4, 64}, new float[256]));
                tensors.put("base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight", Raw.f32(new long[] {64, 4}, new float[256]));
            }
            case WRONG_MODULE -> tensors.put("base_model.model.model.layers.7.self_attn.q_proj.lora_A.weight",
                    Raw.f32(new long[] {4, 64}, new float[256]));
            case CORRUPT_CONFIG -> Files.writeString(dir.resolve(PeftFormat.CONFIG), config.substring(0, config.length() / 2));
            case INTEGER_DTYPE -> tensors.put(LAST_B, Raw.i32(new long[] {64, 4}, new int[256]));
            case NON_FINITE -> {
                float[] v = new float[256];
                v[17] = Float.NaN;
                tensors.put(LAST_B, Raw.f32(new long[] {64, 4}, v));
            }
            case CONFIG_LAYER_OUT_OF_RANGE, CONFIG_RANK_MISMATCH -> {
                ObjectNode c = (ObjectNode) new ObjectMapper().readTree(config);
                if (kind == Corruption.CONFIG_RANK_MISMATCH) {
                    c.put("r", 8);
                } else {
                    c.putArray("layers_to_transform").add(0).add(7);
                }
                Files.writeString(dir.resolve(PeftFormat.CONFIG), c.toPrettyString());
            }
            default -> {
            }
        }
        byte[] file = safetensors(tensors);
        if (kind == Corruption.TRUNCATED_WEIGHTS) {
            file = java.util.Arrays.copyOf(file, file.length - 100);
        }
        Files.write(weights, file);
        return dir;
    }

    /** A tensor's dtype, shape and little-endian bytes. */
    private record Raw(String dtype, long[] shape, byte[] data) {
        static Raw f32(long[] shape, float[] v) {
            ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(v);
            return new Raw("F32", shape, b.array());
        }

        static Raw i32(long[] shape, int[] v) {
            ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            b.asIntBuffer().put(v);
            return new Raw("I32", shape, b.array());
        }
    }

    /** Writes the safetensors layout by hand, so that tests can store what our writer never would. */
    private static byte[] safetensors(Map<String, Raw> tensors) throws IOException {
        ObjectNode header = new ObjectMapper().createObjectNode();
        List<byte[]> parts = new ArrayList<>();
        long offset = 0;
        for (Map.Entry<String, Raw> e : tensors.entrySet()) {
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", e.getValue().dtype());
            var shape = t.putArray("shape");
            for (long d : e.getValue().shape()) {
                shape.add(d);
            }
            t.putArray("data_offsets").add(offset).add(offset + e.getValue().data().length);
            offset += e.getValue().data().length;
            parts.add(e.getValue().data());
        }
        byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
        out.write(h);
        for (byte[] p : parts) {
            out.write(p);
        }
        return out.toByteArray();
    }
}
