package io.safetune.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;

import io.safetune.lora.LoraAdapter;
import io.safetune.model.CausalLM;
import io.safetune.model.ParityCheck;
import io.safetune.testing.Fixtures;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Checkpoints from elsewhere: non-float weights, foreign dtypes, hostile shard indexes, leaky errors, activations. */
class UntrustedCheckpointTest {

    /** A value planted in files; no error may repeat it. Name-like, so only a real echo would show it. */
    private static final String SECRET = "hunter2XYZZY";

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"I32", "BOOL", "I64", "U8"})
    void integerAndBoolWeightsAreRefusedNamingFileTensorAndDtype(String dtype) throws Exception {
        Path dir = copyOf("llama-tiny");
        Path file = dir.resolve("model.safetensors");
        List<StBytes.Raw> ts = StBytes.tensorsOf(file);
        int bytesPerElement = switch (dtype) {
            case "I64" -> 8;
            case "I32" -> 4;
            default -> 1;
        };
        String name = "model.layers.1.post_attention_layernorm.weight";
        ts.replaceAll(t -> t.name().equals(name) ? t.withDtype(dtype, new byte[64 * bytesPerElement]) : t);
        Files.write(file, StBytes.build(ts));
        CheckpointException e = assertThrows(CheckpointException.class, () -> CausalLM.load(dir).close());
        assertEquals(file, e.file());
        assertEquals(name, e.field());
        assertTrue(e.getMessage().contains("model.safetensors") && e.getMessage().contains(name)
                && e.getMessage().contains(dtype + " cannot be a weight"), e.getMessage());
    }

    @Test
    void adapterWeightsGoThroughTheSameFloatGate() throws Exception {
        Path dir = copyOf("llama-tiny-lora");
        Path file = dir.resolve("adapter_model.safetensors");
        List<StBytes.Raw> ts = StBytes.tensorsOf(file);
        StBytes.Raw first = ts.get(0);
        ts.set(0, first.withDtype("I32", first.data())); // same bytes, now read as integers
        Files.write(file, StBytes.build(ts));
        try (CausalLM model = CausalLM.load(Fixtures.get("llama-tiny"))) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> LoraAdapter.load(model, dir).close());
            assertEquals(first.name(), e.field());
            assertTrue(e.getMessage().contains("adapter_model.safetensors") && e.getMessage().contains("I32"), e.getMessage());
        }
    }

    @Test
    void unusedTensorsOfOtherDtypesDoNotStopTheModelLoading() throws Exception {
        Path dir = copyOf("llama-tiny");
        Path file = dir.resolve("model.safetensors");
        List<StBytes.Raw> ts = StBytes.tensorsOf(file);
        String[][] extra = {{"F8_E4M3", "1"}, {"F8_E5M2", "1"}, {"F8_E8M0", "1"}, {"U16", "2"}, {"U32", "4"},
            {"U64", "8"}, {"I16", "2"}, {"C64", "8"}};
        for (String[] x : extra) {
            ts.add(new StBytes.Raw("extra." + x[0], x[0], new long[] {3, 5}, new byte[15 * Integer.parseInt(x[1])]));
        }
        ts.add(new StBytes.Raw("extra.F4", "F4", new long[] {6}, new byte[3]));
        Files.write(file, StBytes.build(ts));
        try (CausalLM model = CausalLM.load(dir)) {
            double diff = ParityCheck.run(model, Fixtures.get("llama-tiny/expected.json")).maxAbsDiff().get("logits");
            assertTrue(diff <= 1e-4, "logits differ by " + diff);
        }
        // ... but read as a weight, such a tensor is refused by name and dtype
        try (TensorStore store = TensorStore.open(dir); NDManager m = NDManager.newBaseManager()) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> store.read("extra.F8_E4M3", m));
            assertEquals("extra.F8_E4M3", e.field());
            assertTrue(e.getMessage().contains("F8_E4M3"), e.getMessage());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"/etc/passwd", "../outside.safetensors", "sub/model-00001-of-00002.safetensors", "..", ".",
        "", "./model-00001-of-00002.safetensors"})
    void shardIndexCannotNameFilesOutsideTheFolder(String shard) throws Exception {
        Path dir = copyOf("llama-tiny-sharded");
        // give each escape a real safetensors file to find, so only the name check can stop it
        Files.copy(dir.resolve("model-00001-of-00002.safetensors"), tmp.resolve("outside.safetensors"));
        Files.createDirectories(dir.resolve("sub"));
        Files.copy(dir.resolve("model-00001-of-00002.safetensors"), dir.resolve("sub/model-00001-of-00002.safetensors"));
        Path index = dir.resolve(TensorStore.INDEX);
        String json = Files.readString(index);
        Files.writeString(index, json.replaceFirst("\"lm_head.weight\": \"[^\"]+\"",
                "\"lm_head.weight\": \"" + shard + "\""));
        CheckpointException e = assertThrows(CheckpointException.class, () -> TensorStore.open(dir).close());
        assertEquals(index, e.file(), e.getMessage());
        assertEquals("weight_map.lm_head.weight", e.field(), e.getMessage());
    }

    @Test
    void shardLinkOutOfTheFolderIsRefusedButTheHubCacheLayoutLoads() throws Exception {
        Path dir = copyOf("llama-tiny-sharded");
        Path shard = dir.resolve("model-00002-of-00002.safetensors");
        Path away = Files.createDirectories(tmp.resolve("elsewhere")).resolve("w.safetensors");
        Files.move(shard, away);
        Files.createSymbolicLink(shard, away);
        CheckpointException e = assertThrows(CheckpointException.class, () -> TensorStore.open(dir).close());
        assertEquals(dir.resolve(TensorStore.INDEX), e.file());
        assertTrue(e.field().startsWith("weight_map.") && e.getMessage().contains("outside the checkpoint folder"),
                e.getMessage());

        // huggingface_hub: <repo>/snapshots/<rev>/<file> -> ../../blobs/<sha>
        Path repo = tmp.resolve("models--x--tiny");
        Path snap = Files.createDirectories(repo.resolve("snapshots/abc123"));
        Path blobs = Files.createDirectories(repo.resolve("blobs"));
        try (Stream<Path> s = Files.list(Fixtures.get("llama-tiny-sharded"))) {
            for (Path p : s.toList()) {
                Path blob = blobs.resolve("sha-" + p.getFileName());
                Files.copy(p, blob);
                Files.createSymbolicLink(snap.resolve(p.getFileName()), Path.of("../../blobs").resolve(blob.getFileName()));
            }
        }
        try (CausalLM model = CausalLM.load(snap)) {
            double diff = ParityCheck.run(model, Fixtures.get("llama-tiny/expected.json")).maxAbsDiff().get("logits");
            assertTrue(diff <= 1e-4, "logits differ by " + diff);
        }
    }

    @Test
    void errorsNeverEchoFileContents() throws Exception {
        List<Executable> cases = new ArrayList<>();
        // safetensors header: an unquoted token, a string dimension, a dtype that is not a name
        Path h1 = tmp.resolve("h1.safetensors");
        Files.write(h1, StBytes.file("{\"a\": " + SECRET + "}", new byte[0]));
        cases.add(() -> SafetensorsFile.open(h1));
        Path h2 = tmp.resolve("h2.safetensors");
        Files.write(h2, StBytes.file("{" + StBytes.entry("a", "F32", "[\"" + SECRET + "\"]", "[0,8]") + "}", new byte[8]));
        cases.add(() -> SafetensorsFile.open(h2));
        Path h3 = tmp.resolve("h3.safetensors");
        Files.write(h3, StBytes.file("{" + StBytes.entry("a", SECRET + " x", "[2]", "[0,8]") + "}", new byte[8]));
        cases.add(() -> SafetensorsFile.open(h3));
        // a file that is not safetensors at all: its first 8 bytes must not come back as a number
        Path h4 = tmp.resolve("h4.safetensors");
        byte[] text = (SECRET + " is the password\n").getBytes(StandardCharsets.US_ASCII);
        Files.write(h4, text);
        String firstBytesAsLength = Long.toString(ByteBuffer.wrap(text).order(ByteOrder.LITTLE_ENDIAN).getLong());
        cases.add(() -> SafetensorsFile.open(h4));
        // config.json: broken JSON, and a string where an integer belongs
        Path c1 = Files.createDirectories(tmp.resolve("c1")).resolve("config.json");
        Files.writeString(c1, "{\"model_type\": \"llama\", \"vocab_size\": " + SECRET + "}");
        cases.add(() -> ModelConfig.load(c1));
        Path c2 = Files.createDirectories(tmp.resolve("c2")).resolve("config.json");
        Files.writeString(c2, Files.readString(Fixtures.get("llama-tiny/config.json"))
                .replace("\"hidden_size\": 64", "\"hidden_size\": \"" + SECRET + "\""));
        cases.add(() -> ModelConfig.load(c2));
        // the shard index: broken JSON, and a shard path that is a private file
        Path i1 = copyOf("llama-tiny-sharded");
        Files.writeString(i1.resolve(TensorStore.INDEX), "{\"weight_map\": {\"x\": " + SECRET + "}}");
        cases.add(() -> TensorStore.open(i1));
        Path i2 = Files.createDirectories(tmp.resolve("i2"));
        Files.writeString(i2.resolve(TensorStore.INDEX), "{\"weight_map\": {\"x\": \"/home/" + SECRET + "/.ssh/id_rsa\"}}");
        cases.add(() -> TensorStore.open(i2));
        // adapter_config.json
        Path a1 = Files.createDirectories(tmp.resolve("a1"));
        Files.writeString(a1.resolve("adapter_config.json"), "{\"peft_type\": \"LORA\", \"r\": " + SECRET + "}");
        cases.add(() -> {
            try (CausalLM model = CausalLM.load(Fixtures.get("llama-tiny"))) {
                LoraAdapter.load(model, a1);
            }
        });
        for (Executable c : cases) {
            CheckpointException e = assertThrows(CheckpointException.class, c::execute);
            for (Throwable t = e; t != null; t = t.getCause()) {
                String msg = String.valueOf(t.getMessage());
                assertFalse(msg.contains(SECRET) || msg.contains(firstBytesAsLength), "echoes the file: " + msg);
            }
            assertTrue(e.getMessage().contains(e.file().toString()), e.getMessage());
        }
    }

    @Test
    void hiddenActivationsOtherThanSiluAreRefused() throws Exception {
        String cfg = Files.readString(Fixtures.get("llama-tiny/config.json"));
        Path f = tmp.resolve("config.json");
        Files.writeString(f, cfg.replace("\"hidden_act\": \"silu\"", "\"hidden_act\": \"gelu\""));
        CheckpointException e = assertThrows(CheckpointException.class, () -> ModelConfig.load(f));
        assertEquals("hidden_act", e.field());
        assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains("'gelu'"), e.getMessage());
        Files.writeString(f, cfg.replace("\"hidden_act\": \"silu\"", "\"hidden_act\": 3"));
        assertEquals("hidden_act", assertThrows(CheckpointException.class, () -> ModelConfig.load(f)).field());
        // swish is silu under another name; a config without the key is silu, as transformers defaults
        Files.writeString(f, cfg.replace("\"hidden_act\": \"silu\"", "\"hidden_act\": \"swish\""));
        assertEquals(ModelConfig.load(Fixtures.get("llama-tiny")), ModelConfig.load(f));
        Files.writeString(f, cfg.replace("\"hidden_act\": \"silu\",", ""));
        assertEquals(ModelConfig.load(Fixtures.get("llama-tiny")), ModelConfig.load(f));
    }

    private Path copyOf(String fixture) throws Exception {
        Path dir = tmp.resolve(fixture);
        Files.createDirectories(dir);
        try (Stream<Path> s = Files.list(Fixtures.get(fixture))) {
            for (Path p : s.toList()) {
                Files.copy(p, dir.resolve(p.getFileName()));
                dir.resolve(p.getFileName()).toFile().setWritable(true);
            }
        }
        return dir;
    }

    @FunctionalInterface
    private interface Executable {
        void execute() throws Throwable;
    }
}
