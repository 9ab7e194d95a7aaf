package io.safetune.cli;

import io.safetune.lora.LoraAdapter;
import io.safetune.model.CausalLM;
import io.safetune.model.ParityCheck;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "parity", mixinStandardHelpOptions = true,
        description = {"Compares our forward pass with transformers/PEFT on a checkpoint.",
            "EXPECTED is written by scripts/make_expected.py (the fixtures' format). Prints the largest absolute",
            "difference per quantity; exits 1 above the tolerance. --salora and --vaccine check those methods' reference files."})
final class ParityCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Hugging Face checkpoint folder")
    Path model;

    @Option(names = "--adapter", paramLabel = "DIR", description = "PEFT LoRA adapter folder (optional)")
    Path adapter;

    @Option(names = "--expected", paramLabel = "FILE", description = "expected.json (logits, attention outputs, hidden state)")
    Path expected;

    @Option(names = "--salora", paramLabel = "FILE", description = {"SaLoRA reference file (fixtures/llama-tiny-salora's format):",
        "projectors, B0A0 and W' to --salora-tol, logits, loss and gradients to --tol"})
    Path salora;

    @Option(names = "--salora-tol", defaultValue = "1e-6", description = "tolerance of SaLoRA's initialisation (default ${DEFAULT-VALUE})")
    double saloraTol;

    @Option(names = "--vaccine", paramLabel = "FILE", description = {"Vaccine reference file (fixtures/llama-tiny-vaccine's format,",
        "needs --adapter): one two-pass step, eps to --vaccine-tol, losses, norms and gradients to --tol"})
    Path vaccine;

    @Option(names = "--vaccine-tol", defaultValue = "1e-5", description = "tolerance of Vaccine's eps (default ${DEFAULT-VALUE})")
    double vaccineTol;

    @Option(names = "--tol", defaultValue = "1e-4", description = "tolerance (default ${DEFAULT-VALUE}; 1e-3 for bf16 weights)")
    double tol;

    @Mixin
    DeviceOption device;

    @Override
    public Integer call() {
        if ((expected != null ? 1 : 0) + (salora != null ? 1 : 0) + (vaccine != null ? 1 : 0) != 1) {
            throw new IllegalArgumentException("parity: give --expected FILE (the forward pass), --salora FILE (SaLoRA) or "
                    + "--vaccine FILE (Vaccine), one of them");
        }
        if (vaccine != null) {
            if (adapter == null) {
                throw new IllegalArgumentException("--adapter: needed with --vaccine (the file holds the adapter's gradients)");
            }
            try (CausalLM m = CausalLM.load(model, device.get()); LoraAdapter a = LoraAdapter.load(m, adapter)) {
                io.safetune.vaccine.VaccineParity.Result r = io.safetune.vaccine.VaccineParity.run(m, vaccine);
                r.maxAbsDiff().forEach((k, v) -> System.out.printf("%-18s max |diff| = %.3e%n", k, v));
                boolean ok = r.passes(vaccineTol, tol);
                System.out.printf("%s (tolerance %.1e eps, %.1e the rest)%n", ok ? "PASS" : "FAIL", vaccineTol, tol);
                return ok ? 0 : 1;
            }
        }
        if (salora != null) {
            if (adapter != null) {
                throw new IllegalArgumentException("--adapter: not with --salora (SaLoRA's adapter comes from the file)");
            }
            try (CausalLM m = CausalLM.load(model, device.get())) {
                io.safetune.salora.SaLoraParity.Result r = io.safetune.salora.SaLoraParity.run(m, salora);
                r.exact().forEach((k, v) -> System.out.printf("%-18s max |diff| = %.3e%n", k, v));
                r.forward().forEach((k, v) -> System.out.printf("%-18s max |diff| = %.3e%n", k, v));
                boolean ok = r.worstExact() <= saloraTol && r.worstForward() <= tol;
                System.out.printf("%s (tolerance %.1e initialisation, %.1e forward)%n", ok ? "PASS" : "FAIL", saloraTol, tol);
                return ok ? 0 : 1;
            }
        }
        try (CausalLM m = CausalLM.load(model, device.get());
                LoraAdapter a = adapter == null ? null : LoraAdapter.load(m, adapter)) {
            ParityCheck.Result r = ParityCheck.run(m, expected);
            r.maxAbsDiff().forEach((k, v) -> System.out.printf("%-18s max |diff| = %.3e%n", k, v));
            boolean ok = r.worst() <= tol;
            System.out.printf("%s (tolerance %.1e)%n", ok ? "PASS" : "FAIL", tol);
            return ok ? 0 : 1;
        }
    }
}
