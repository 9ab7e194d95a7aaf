package io.safetune.cli;

import io.safetune.safelora.SafeLora;
import io.safetune.safelora.SafeLoraConfig;
import io.safetune.safelora.SafeLoraControls;
import io.safetune.safelora.SafeLoraResult;
import io.safetune.safelora.UpdateEnergy;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "safelora", mixinStandardHelpOptions = true,
        description = {"Safe LoRA (Hsu et al. 2024): for every adapted weight, V = W_aligned - W_base, the cosine between",
            "C·B·A and B·A with C = V Vᵀ/‖V‖_F, and B ← C·B for the least similar weights. Writes the projected",
            "adapter (PEFT format) with safelora.json and safelora.csv, and prints the per-weight table.",
            "Training-free and data-free; one weight in memory at a time."})
final class SafeLoraCommand implements Callable<Integer> {

    @Option(names = "--base", required = true, paramLabel = "DIR", description = "unaligned base checkpoint (e.g. Llama-2-7b-hf)")
    Path base;

    @Option(names = "--aligned", required = true, paramLabel = "DIR", description = "its aligned version (e.g. Llama-2-7b-chat-hf)")
    Path aligned;

    @Option(names = "--adapter", required = true, paramLabel = "DIR", description = "PEFT LoRA adapter trained on the aligned model")
    Path adapter;

    @Option(names = "--out", paramLabel = "DIR", description = "where the projected adapter goes (omit: analyse only)")
    Path out;

    @Option(names = "--mode", defaultValue = "NUMBER", description = "NUMBER (the reference default) or THRESHOLD")
    SafeLoraConfig.Mode mode;

    @Option(names = "--num-proj-layers", defaultValue = "10", description = "k in number mode (default ${DEFAULT-VALUE})")
    int k;

    @Option(names = "--tau", defaultValue = "0.5", description = "cosine threshold in threshold mode (default ${DEFAULT-VALUE})")
    double tau;

    @Option(names = "--projector", defaultValue = "PLAIN", description = "PLAIN (C = VVᵀ/‖V‖_F, the reference) or EXACT (V(VᵀV)⁺Vᵀ)")
    SafeLoraConfig.Projector projector;

    @Option(names = "--precision", defaultValue = "FP64", description = "FP64 (default) or FP32, whatever the checkpoint dtype")
    SafeLoraConfig.Precision precision;

    @Option(names = "--energy-top-k", paramLabel = "K", description = {"also print, per weight, the share of the update's",
        "energy in the span of V's top-K singular directions (costs a partial SVD of each V)"})
    Integer energyTopK;

    @Option(names = "--controls", description = {"also write the two controls under --out/controls/: a random orthogonal",
        "projector on the same weights (random-projection/) and every B scaled to the same total update",
        "norm (uniform-scale/), to tell the alignment directions from mere shrinkage"})
    boolean controls;

    @Option(names = "--random-rank", defaultValue = "8", description = "rank of the random projector control (default ${DEFAULT-VALUE})")
    int randomRank;

    @Option(names = "--seed", defaultValue = "0", description = "the random projector's seed (default ${DEFAULT-VALUE})")
    long seed;

    @Override
    public Integer call() {
        if (controls && out == null) {
            throw new IllegalArgumentException("--controls: needs --out (the controls are written under --out/controls/)");
        }
        SafeLoraConfig cfg = (mode == SafeLoraConfig.Mode.NUMBER ? SafeLoraConfig.number(k) : SafeLoraConfig.threshold(tau))
                .withProjector(projector).withPrecision(precision);
        SafeLoraResult r = out == null ? SafeLora.analyze(base, aligned, adapter, cfg) : SafeLora.apply(base, aligned, adapter, cfg, out);
        System.out.println(r.toTable().print());
        System.out.printf("projected %d of %d weights; tau %s; Pdst %s%n", r.numProjected(), r.weights().size(),
                r.tau().isPresent() ? String.format("%.6f", r.tau().getAsDouble()) : "-",
                r.pdst().isPresent() ? String.format("%.6f", r.pdst().getAsDouble()) : "-");
        if (energyTopK != null) {
            UpdateEnergy.Result e = UpdateEnergy.compute(base, aligned, adapter, energyTopK);
            System.out.println(e.table().print());
            if (out != null) {
                io.safetune.checkpoint.AtomicFiles.writeString(out.resolve("energy.csv"), e.table().write().toString("csv"));
            }
        }
        if (controls) {
            Path dir = out.resolve("controls");
            var ratios = SafeLoraControls.randomProjection(adapter, r.projectedWeights(), randomRank, seed,
                    dir.resolve("random-projection"));
            double c = SafeLoraControls.matchingScale(r);
            SafeLoraControls.uniformScale(adapter, c, dir.resolve("uniform-scale"));
            System.out.printf("controls: random rank-%d projector on the same %d weights (update norm x %.4f of each: %s); "
                    + "uniform scale x %.4f (Safe LoRA's total update norm)%n", randomRank, r.numProjected(),
                    ratios.values().stream().mapToDouble(Double::doubleValue).average().orElse(1), dir.resolve("random-projection"),
                    c);
        }
        if (out != null) {
            System.out.println("wrote " + out + " (PEFT adapter, safelora.json, safelora.csv)");
        }
        return 0;
    }
}
