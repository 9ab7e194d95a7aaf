package io.safetune.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;


import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.safetune.checkpoint.TensorStore;
import io.safetune.data.Jsonl;
import io.safetune.data.PromptResponse;
import io.safetune.lora.LoraAdapter;
import io.safetune.model.CausalLM;
import io.safetune.testing.Fixtures;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** `safetune train` end to end: tokenizer + chat template + trainer + PEFT export + resume. */
class TrainCommandTest {

    @TempDir
    Path tmp;

    private Path model() throws Exception {
        return Fixtures.tinyBpeCheckpoint(tmp.resolve("model"), 4);
    }

    private Path data() {
        List<PromptResponse> rows = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            rows.add(new PromptResponse("How do I bake bread?", i % 2 == 0 ? "I cannot help with that." : "Explain step by step"));
        }
        Path file = tmp.resolve("train.jsonl");
        Jsonl.write(file, rows);
        return file;
    }

    @Test
    void trainsALoraAdapterInPeftFormatAndResumesExactly() throws Exception {
        Path model = model();
        Path data = data();
        Path out = tmp.resolve("run");
        String[] common = {"train", "--model", model.toString(), "--data", data.toString(), "--chat-template", "plain",
            "--lora-r", "4", "--lora-alpha", "8", "--lr", "1e-2", "--batch-size", "4", "--max-steps", "6", "--seed", "3"};
        assertEquals(0, Main.run(concat(common, "--out", out.toString(), "--checkpoint-every", "3")));
        JsonNode cfg = new ObjectMapper().readTree(out.resolve("adapter_config.json").toFile());
        assertEquals(4, cfg.get("r").asInt());
        try (TensorStore s = TensorStore.open(out.resolve("adapter_model.safetensors"))) {
            assertEquals(8, s.names().size()); // q, v × 2 layers × A, B
        }
        Path ckpt3 = out.resolve("checkpoints/checkpoint-3");
        assertTrue(Files.isRegularFile(ckpt3.resolve("adapter_model.safetensors")), "checkpoints carry a PEFT adapter");
        JsonNode state = new ObjectMapper().readTree(out.resolve("checkpoints/checkpoint-6/trainer_state.json").toFile());

        // resume from step 3 into a fresh output: the final adapter and losses are bit-identical
        Path resumed = tmp.resolve("resumed");
        assertEquals(0, Main.run(concat(common, "--out", resumed.toString(), "--resume", ckpt3.toString())));
        try (TensorStore a = TensorStore.open(out.resolve("adapter_model.safetensors"));
                TensorStore b = TensorStore.open(resumed.resolve("adapter_model.safetensors"))) {
            for (String n : a.names()) {
                assertArrayEquals(a.readFloats(n), b.readFloats(n), n);
            }
        }
        JsonNode state2 = new ObjectMapper().readTree(out.resolve("checkpoints/checkpoint-6/trainer_state.json").toFile());
        assertEquals(state.get("losses"), state2.get("losses"));

        // and the adapter loads back onto the model
        try (CausalLM m = CausalLM.load(model); LoraAdapter a = LoraAdapter.load(m, out)) {
            assertEquals(4, a.layers().size());
        }
    }

    @Test
    void resumeWithChangedLoraOrTrainingFlagsIsRefusedNamingTheField() throws Exception {
        Path model = model();
        Path data = data();
        Path out = tmp.resolve("run");
        String[] common = {"train", "--model", model.toString(), "--data", data.toString(), "--chat-template", "plain",
            "--lora-r", "4", "--lr", "1e-2", "--batch-size", "4", "--max-steps", "4", "--seed", "3"};
        assertEquals(0, Main.run(concat(common, "--lora-alpha", "16", "--out", out.toString(), "--checkpoint-every", "2")));
        String ckpt = out.resolve("checkpoints/checkpoint-2").toString();
        Path resumed = tmp.resolve("resumed");

        String err = runCapturingErr(2, concat(common, "--lora-alpha", "64", "--out", resumed.toString(), "--resume", ckpt));
        assertTrue(err.contains("lora.alpha: checkpoint has 16.0, this run has 64.0"), err);
        String[] changedLr = concat(common, "--lora-alpha", "16", "--out", resumed.toString(), "--resume", ckpt);
        changedLr[java.util.Arrays.asList(changedLr).indexOf("1e-2")] = "2e-2";
        err = runCapturingErr(2, changedLr);
        assertTrue(err.contains("learningRate: checkpoint has 0.01, this run has 0.02"), err);
        assertTrue(!Files.exists(resumed), "a refused resume writes nothing");
    }

    private static String runCapturingErr(int expectedExit, String... args) {
        java.io.PrintStream saved = System.err;
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(buf, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            assertEquals(expectedExit, Main.run(args));
        } finally {
            System.setErr(saved);
        }
        return buf.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    @Test
    void fullFineTuningWritesALoadableCheckpoint() throws Exception {
        Path model = model();
        Path out = tmp.resolve("full");
        Files.createDirectories(out.resolve("notes"));
        Files.writeString(out.resolve("README.txt"), "the user's own file");
        Files.writeString(out.resolve("notes").resolve("run.txt"), "kept");
        assertEquals(0, Main.run("train", "--model", model.toString(), "--data", data().toString(), "--chat-template", "plain",
                "--full", "--lr", "1e-3", "--batch-size", "4", "--max-steps", "2", "--out", out.toString()));
        assertEquals("the user's own file", Files.readString(out.resolve("README.txt")), "--out's other files are kept");
        assertEquals("kept", Files.readString(out.resolve("notes").resolve("run.txt")));
        try (CausalLM before = CausalLM.load(model); CausalLM after = CausalLM.load(out)) {
            float[] w0 = before.weights().get("model.layers.0.mlp.up_proj.weight").toFloatArray();
            float[] w1 = after.weights().get("model.layers.0.mlp.up_proj.weight").toFloatArray();
            assertTrue(!java.util.Arrays.equals(w0, w1), "full fine-tuning must move the base weights");
        }
        assertTrue(Files.isRegularFile(out.resolve("tokenizer.json")));
        try (Stream<Path> s = Files.list(out)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary files left");
        }
    }

    @Test
    void badDataGetsOneLineNamingTheFileAndLine() throws Exception {
        Path model = model();
        Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, "{\"prompt\": \"a\", \"response\": \"b\"}\n{\"prompt\": \"a\"}\n");
        assertEquals(2, Main.run("train", "--model", model.toString(), "--data", bad.toString(), "--out", tmp.resolve("x").toString()));
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
