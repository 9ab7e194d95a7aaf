package io.safetune.cli;

import io.safetune.bench.SaLoraBenchmark;
import io.safetune.bench.SafeLoraBenchmark;
import io.safetune.bench.TrainBenchmark;
import io.safetune.bench.VaccineBenchReport;
import io.safetune.bench.VaccineBenchmark;
import io.safetune.safelora.SafeLoraConfig;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks that print figures.",
        subcommands = {BenchCommand.Train.class, BenchCommand.SafeLoraBench.class, BenchCommand.SaLoraBench.class,
            BenchCommand.VaccineBench.class})
final class BenchCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "train", mixinStandardHelpOptions = true,
            description = {"LoRA training step of a tiny Llama (d=128, 4 layers, 4 heads, FFN 384, vocab 512,",
                "seq 64, batch 16, r=8 on q and v): ms per step (median of steps 10-50), tokens/s,",
                "RSS at step 10 and at the last step. --full: the full fine-tuning step at the micro-world's",
                "base shape (d=128, 4 layers, FFN 344, vocab 374, batch 64 x 48, AdamW 2e-3, clipping 1.0)."})
    static final class Train implements Callable<Integer> {

        @Option(names = "--steps", defaultValue = "200", description = "default ${DEFAULT-VALUE}")
        int steps;

        @Option(names = "--threads", defaultValue = "2", description = "libtorch intra-op threads (default ${DEFAULT-VALUE})")
        int threads;

        @Option(names = "--lora-dropout", defaultValue = "0.05", description = "default ${DEFAULT-VALUE}")
        double dropout;

        @Option(names = "--profile", paramLabel = "FILE", description = "also write libtorch's operator profile of steps 51-60 (Chrome trace JSON)")
        Path profile;

        @Option(names = "--full", description = "every weight at the micro-world's base shape instead of LoRA (anchor: train_full_torch.py)")
        boolean full;

        @Mixin
        DeviceOption device;

        @Override
        public Integer call() {
            ai.djl.engine.Engine.getInstance(); // load libtorch before setting its thread count
            ai.djl.pytorch.jni.JniUtils.setNumThreads(threads);
            TrainBenchmark b = full ? TrainBenchmark.full(steps, device.get(), profile)
                    : new TrainBenchmark(TrainBenchmark.Mode.LORA, steps, 64, 16, dropout, device.get(), profile);
            TrainBenchmark.Result r = b.run();
            System.out.println("threads: " + threads + ", device: " + device.device
                    + (full ? ", full fine-tuning (batch 64 x 48)" : ", lora dropout: " + dropout)
                    + ", native heap: " + io.safetune.engine.NativeHeap.describe());
            System.out.println(r);
            return 0;
        }
    }

    @Command(name = "safelora", mixinStandardHelpOptions = true,
            description = {"Safe LoRA at 7B scale, ours against the reference's dense algorithm. Writes",
                "base and aligned checkpoints (q_proj and v_proj of every layer, BF16) and an",
                "adapter, then runs ours (SafeLora.apply: C never formed, V read row by row) and",
                "the reference's algorithm (C = V Vᵀ/‖V‖_F kept for every weight, libtorch",
                "fp32), each in its own JVM. Prints wall time and peak RSS of each, compares",
                "selections and projected B's, and exits 1 when ours misses a target",
                "(<= 30 s, <= 1.5 GB peak RSS, same selection, B within 1e-4)."})
    static final class SafeLoraBench implements Callable<Integer> {

        @Option(names = "--layers", defaultValue = "32", description = "decoder layers (default ${DEFAULT-VALUE})")
        int layers;

        @Option(names = "--dim", defaultValue = "4096", description = "d_out = d_in of q_proj and v_proj (default ${DEFAULT-VALUE})")
        int dim;

        @Option(names = "--rank", defaultValue = "8", description = "LoRA r (default ${DEFAULT-VALUE})")
        int rank;

        @Option(names = "--k", defaultValue = "10", description = "number mode: project the k least aligned weights (default ${DEFAULT-VALUE})")
        int k;

        @Option(names = "--tau", description = "threshold mode instead: project every weight with cosine <= tau")
        Double tau;

        @Option(names = "--seed", defaultValue = "0", description = "of the synthetic checkpoints (default ${DEFAULT-VALUE})")
        long seed;

        @Option(names = "--dir", paramLabel = "DIR", description = "an empty or new folder for the checkpoints (default: a temporary one)")
        Path dir;

        @Option(names = "--keep", description = "keep the checkpoints and both outputs instead of deleting them")
        boolean keep;

        @Option(names = "--heap", defaultValue = "2g", description = "-Xmx of each child JVM (default ${DEFAULT-VALUE})")
        String heap;

        @Override
        public Integer call() {
            SafeLoraConfig cfg = tau == null ? SafeLoraConfig.number(k) : SafeLoraConfig.threshold(tau);
            SafeLoraBenchmark.Report r = new SafeLoraBenchmark(layers, dim, rank, cfg, seed, heap).run(dir, keep, System.err);
            System.out.println(r);
            return r.passed() ? 0 : 1;
        }
    }

    @Command(name = "salora", mixinStandardHelpOptions = true,
            description = {"SaLoRA's safety modules and initialisations at 7B scale. Writes synthetic inputs",
                "(q_proj and v_proj of every layer, BF16, and per layer 128 x 64 response tokens of",
                "safety and task features), then builds V_s, V_t, B0, A0 and W' of every weight in",
                "child JVMs: ours (randomized SVD through products only, fp32 libtorch products) and",
                "the reference's algorithm (X·Wᵀ formed, svd_lowrank q = r, niter = 30), and the exact",
                "SVD on --exact-weights weights. Prints wall time, peak RSS and the largest principal",
                "angles; exits 1 when ours misses a target (>= 10x faster, <= 2 GB, angles <= 1e-2)."})
    static final class SaLoraBench implements Callable<Integer> {

        @Option(names = "--layers", defaultValue = "32", description = "decoder layers (default ${DEFAULT-VALUE})")
        int layers;

        @Option(names = "--dim", defaultValue = "4096", description = "d_out = d_in of q_proj and v_proj (default ${DEFAULT-VALUE})")
        int dim;

        @Option(names = "--samples", defaultValue = "128", description = "safety and task samples (default ${DEFAULT-VALUE})")
        int samples;

        @Option(names = "--tokens", defaultValue = "64", description = "response tokens per sample (default ${DEFAULT-VALUE})")
        int tokens;

        @Option(names = "--rank-safety", defaultValue = "32", description = "r_s (default ${DEFAULT-VALUE})")
        int rankSafety;

        @Option(names = "--rank-task", defaultValue = "32", description = "r_t (default ${DEFAULT-VALUE})")
        int rankTask;

        @Option(names = "--rank", defaultValue = "16", description = "LoRA r (default ${DEFAULT-VALUE})")
        int rank;

        @Option(names = "--power-iterations", split = ",", defaultValue = "4",
                description = "ours' power iterations, one child each; the first is held to the targets (default ${DEFAULT-VALUE}, SaLoRA's)")
        java.util.List<Integer> powerIterations;

        @Option(names = "--exact-weights", defaultValue = "2",
                description = "weights checked against the exact SVD, first to last (default ${DEFAULT-VALUE}; about a minute each at d = 4096)")
        int exactWeights;

        @Option(names = "--seed", defaultValue = "0", description = "of the synthetic inputs and the sketches (default ${DEFAULT-VALUE})")
        long seed;

        @Option(names = "--dir", paramLabel = "DIR", description = "an empty or new folder for the inputs (default: a temporary one)")
        Path dir;

        @Option(names = "--keep", description = "keep the inputs and outputs instead of deleting them")
        boolean keep;

        @Option(names = "--heap", defaultValue = "1g", description = "-Xmx of ours and the reference (default ${DEFAULT-VALUE})")
        String heap;

        @Override
        public Integer call() {
            SaLoraBenchmark b = new SaLoraBenchmark(layers, dim, samples, tokens, rankSafety, rankTask, rank, powerIterations,
                    exactWeights, seed, heap);
            SaLoraBenchmark.Report r = b.run(dir, keep, System.err);
            System.out.println(r);
            return r.passed() ? 0 : 1;
        }
    }

    @Command(name = "vaccine", mixinStandardHelpOptions = true,
            description = {"Vaccine's alignment step against a plain one (issue #12), every weight trained",
                "(AdamW) on seeded synthetic batches through the real Trainer, per shape: plain,",
                "Vaccine (K=1), the cheaper variant at each --refresh K, [the random control,] plain",
                "again, interleaved in turns of --chunk steps on one JVM. Prints median and mean",
                "step over the timed window (the last whole refresh cycles after --warmup), the",
                "ratios to plain, RSS at step 10 and the last step; exits 1 when a target is missed",
                "(Vaccine mean <= 1.9x plain, K=100 mean <= 1.05x, RSS growth <= 5%)."})
    static final class VaccineBench implements Callable<Integer> {

        @Option(names = "--steps", defaultValue = "500", description = "optimiser steps per variant (default ${DEFAULT-VALUE})")
        int steps;

        @Option(names = "--warmup", defaultValue = "20", description = "steps never timed, >= 10 (default ${DEFAULT-VALUE})")
        int warmup;

        @Option(names = "--shapes", split = ",", defaultValue = "micro-world,d512",
                description = "micro-world (d=128, 4 layers, 4 heads, FFN 344, seq 40, batch 64) and/or d512 "
                        + "(8 layers, 8 heads, FFN 1376, vocab 8192, seq 128, batch 8) (default ${DEFAULT-VALUE})")
        List<String> shapes;

        @Option(names = "--batch", description = "examples per step on every shape (default: each shape's own)")
        Integer batch;

        @Option(names = "--threads", defaultValue = "2", description = "libtorch intra-op threads (default ${DEFAULT-VALUE})")
        int threads;

        @Option(names = "--refresh", split = ",", defaultValue = "10,100",
                description = "K's of the cheaper variant (default ${DEFAULT-VALUE})")
        List<Integer> refresh;

        @Option(names = "--rho", defaultValue = "2", description = "rho (default ${DEFAULT-VALUE})")
        double rho;

        @Option(names = "--chunk", defaultValue = "50",
                description = "steps per turn when interleaving variants; 0 = back to back, one model alive at a time (default ${DEFAULT-VALUE})")
        int chunk;

        @Option(names = "--control", description = "also time the random control (one pass, Gaussian epsilon)")
        boolean control;

        @Option(names = "--seed", defaultValue = "0", description = "of the model, the data and the trainer (default ${DEFAULT-VALUE})")
        long seed;

        @Mixin
        DeviceOption device;

        @Override
        public Integer call() {
            List<VaccineBenchmark.ModelShape> resolved = shapes.stream().map(VaccineBenchmark.Preset::parse)
                    .map(VaccineBenchmark.Preset::shape).map(s -> batch == null ? s : s.withBatch(batch)).toList();
            VaccineBenchmark b = new VaccineBenchmark(resolved, steps, warmup, chunk, threads, refresh, rho, control, seed,
                    device.get()); // validated before libtorch loads
            ai.djl.engine.Engine.getInstance(); // load libtorch before setting its thread count
            ai.djl.pytorch.jni.JniUtils.setNumThreads(threads);
            VaccineBenchReport r = b.run(System.err);
            System.out.println(r);
            return r.passed() ? 0 : 1;
        }
    }
}
