package io.safetune.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.util.Optional;

class ModuleNameTest {

    @Test
    void printsAndParsesHuggingFacePaths() {
        ModuleName q = ModuleName.of(3, "q_proj");
        assertEquals("model.layers.3.self_attn.q_proj", q.path());
        assertEquals("model.layers.0.mlp.down_proj", ModuleName.of(0, "down_proj").path());
        assertEquals(Optional.of(q), ModuleName.parse("model.layers.3.self_attn.q_proj"));
        assertEquals(Optional.of(q), ModuleName.parse("base_model.model.model.layers.3.self_attn.q_proj"), "PEFT's prefix");
        assertEquals(Optional.empty(), ModuleName.parse("model.layers.3.mlp.q_proj"), "q_proj is not in the MLP");
        assertEquals(Optional.empty(), ModuleName.parse("lm_head"));
        assertEquals(Optional.empty(), ModuleName.parse("model.layers.3.self_attn.qkv_proj"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModuleName.of(0, "qkv"));
        assertTrue(e.getMessage().contains("q_proj"), e.getMessage());
    }

    @Test
    void theModelNamesItsProjectionsThroughIt() {
        for (ModuleName.Linear m : ModuleName.Linear.values()) {
            assertEquals(m, ModuleName.Linear.of(m.hfName()));
        }
        assertEquals(7, CausalLM.linearModules().size());
    }
}
