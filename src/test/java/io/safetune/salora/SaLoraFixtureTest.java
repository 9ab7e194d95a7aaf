package io.safetune.salora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;


import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.safetune.lora.LoraConfig;
import io.safetune.model.CausalLM;
import io.safetune.testing.Fixtures;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * SaLoRA against ../shared/fixtures/llama-tiny-salora (PyTorch, the reference's formulas, fp64 SVDs):
 * the projectors V_s V_sᵀ, B₀A₀ and W′ per weight to 1e-6; the model at initialisation gives the base
 * logits; with the file's A and B, logits, loss and the gradients of A and B to 1e-4.
 */
class SaLoraFixtureTest {

    private static final double EXACT = 1e-6;
    private static final double FORWARD = 1e-4;

    static JsonNode expected() throws IOException {
        return new ObjectMapper().readTree(Fixtures.get("llama-tiny-salora").resolve("salora-expected.json").toFile());
    }

    /** The fixture's safety or task set ("safety", "task") as sequences, read as the parity check reads them. */
    static List<Features.Sequence> sequences(JsonNode e, String set) {
        return SaLoraParity.sequences(Fixtures.get("llama-tiny-salora").resolve("salora-expected.json"), e, set);
    }

    static LoraConfig lora(JsonNode e) {
        List<String> targets = new ArrayList<>();
        e.get("targets").forEach(t -> targets.add(t.asText()));
        return new LoraConfig(e.get("r").asInt(), e.get("lora_alpha").asDouble(), 0, targets, List.of(), false);
    }

    /** Everything the fixture holds, through the check `safetune parity --salora` runs. */
    @Test
    void projectorsInitialisationResidualLogitsLossAndGradientsMatchTheReference() throws Exception {
        try (CausalLM model = CausalLM.load(Fixtures.get("llama-tiny"))) {
            SaLoraParity.Result r = SaLoraParity.run(model, Fixtures.get("llama-tiny-salora").resolve("salora-expected.json"));
            assertEquals(List.of("safety projector", "B0A0", "residual weight", "singular values"), List.copyOf(r.exact().keySet()));
            assertEquals(List.of("logits at init", "logits with A, B", "loss", "grad A", "grad B"), List.copyOf(r.forward().keySet()));
            assertTrue(r.worstExact() <= EXACT, "initialisation: " + r.exact());
            assertTrue(r.worstForward() <= FORWARD, "forward and backward: " + r.forward());
        }
    }

    /** The command line runs the same check and exits 0 within the tolerances. */
    @Test
    void theParityCommandChecksAModelAgainstAReferenceFile() {
        assertEquals(0, io.safetune.cli.Main.run("parity", "--model", Fixtures.get("llama-tiny").toString(), "--salora",
                Fixtures.get("llama-tiny-salora").resolve("salora-expected.json").toString()));
        assertEquals(1, io.safetune.cli.Main.run("parity", "--model", Fixtures.get("llama-tiny").toString(), "--salora",
                Fixtures.get("llama-tiny-salora").resolve("salora-expected.json").toString(), "--salora-tol", "1e-30"),
                "above the tolerance: exit 1");
    }

    /** A reference file for another model is refused with the field that does not fit. */
    @Test
    void aFileForAnotherModelNamesTheField() throws Exception {
        JsonNode e = expected();
        ((com.fasterxml.jackson.databind.node.ObjectNode) e.get("weights").get(0)).put("weight", "model.layers.7.self_attn.q_proj.weight");
        Path file = java.nio.file.Files.writeString(java.nio.file.Files.createTempDirectory("salora").resolve("other.json"), e.toString());
        try (CausalLM model = CausalLM.load(Fixtures.get("llama-tiny"))) {
            var error = org.junit.jupiter.api.Assertions.assertThrows(io.safetune.checkpoint.CheckpointException.class,
                    () -> SaLoraParity.run(model, file));
            assertTrue(error.getMessage().contains("weights[0].weight"), error.getMessage());
        }
    }
}
