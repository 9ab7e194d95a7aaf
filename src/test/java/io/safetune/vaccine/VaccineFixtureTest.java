package io.safetune.vaccine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.safetune.lora.LoraAdapter;
import io.safetune.model.CausalLM;
import io.safetune.testing.Fixtures;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

/**
 * One Vaccine step against ../shared/fixtures/llama-tiny-vaccine (PyTorch + PEFT, fp32, dropout 0, ρ = 2):
 * pass 1's loss, ‖∂L/∂e_l‖ per layer, the global norm, pass 2's loss and both passes' LoRA gradients to
 * 1e-4, ε to 1e-5; and the same check must fail with a wrong ρ.
 */
class VaccineFixtureTest {

    private static final double TOL = 1e-4;
    private static final double EPS_TOL = 1e-5;

    static Path file() {
        return Fixtures.get("llama-tiny-vaccine").resolve("vaccine-expected.json");
    }

    @Test
    void oneStepMatchesTheReference() {
        try (CausalLM model = CausalLM.load(Fixtures.get("llama-tiny"));
                LoraAdapter adapter = LoraAdapter.load(model, Fixtures.get("llama-tiny-lora"))) {
            VaccineParity.Result r = VaccineParity.run(model, file());
            assertEquals(VaccineParity.QUANTITIES, List.copyOf(r.maxAbsDiff().keySet()));
            assertTrue(r.eps() <= EPS_TOL, "eps: " + r.maxAbsDiff());
            assertTrue(r.worstOther() <= TOL, "losses, norms, gradients: " + r.maxAbsDiff());
            assertTrue(r.passes(EPS_TOL, TOL));
        }
    }

    /** ρ = 2.5 instead of 2: ε and pass 2 move by far more than the tolerance, pass 1 does not. */
    @Test
    void aWrongRhoIsDetected() {
        try (CausalLM model = CausalLM.load(Fixtures.get("llama-tiny"));
                LoraAdapter adapter = LoraAdapter.load(model, Fixtures.get("llama-tiny-lora"))) {
            VaccineParity.Result r = VaccineParity.run(model, file(), 2.5);
            assertFalse(r.passes(EPS_TOL, TOL), r.maxAbsDiff().toString());
            assertTrue(r.eps() > 100 * EPS_TOL, "eps: " + r.maxAbsDiff());
            assertTrue(r.maxAbsDiff().get("loss_pass1") <= TOL, "pass 1 does not depend on rho: " + r.maxAbsDiff());
        }
    }
}
