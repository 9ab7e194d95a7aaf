package io.safetune.bench;

import ai.djl.Device;

import io.safetune.checkpoint.ModelConfig;
import io.safetune.lora.LoraAdapter;
import io.safetune.lora.LoraConfig;
import io.safetune.model.CausalLM;
import io.safetune.train.StepEvent;
import io.safetune.train.TrainConfig;
import io.safetune.train.TrainListener;
import io.safetune.train.Trainer;
import io.safetune.data.TrainingExample;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The training-step benchmark of the model stack: a tiny Llama (d=128, 4 layers, 4 heads, FFN 384,
 * vocab 512), sequences of 64 tokens, batch 16, LoRA r=8 on q_proj and v_proj, through the real
 * {@link Trainer} (forward, masked loss, backward, clipping, AdamW). Reports the median step time
 * over steps 10–50, tokens per second, and the resident set size at steps 10 and the last step, to
 * show that native memory stays flat.
 *
 * @param steps       steps to run (≥ 50; 200 by default)
 * @param loraDropout dropout on the adapters' input (0.05 by default; libtorch's CPU dropout costs ~1 ms a call here)
 */
public record TrainBenchmark(int steps, int seqLen, int batch, double loraDropout, Device device) {

    /** What one run measured. */
    public record Result(double medianStepMs, double tokensPerSecond, long rssStep10Bytes, long rssLastBytes,
            long rssPeakBytes, int lastStep, double finalLoss, List<Double> stepMs) {

        public double rssGrowth() {
            return (double) (rssLastBytes - rssStep10Bytes) / rssStep10Bytes;
        }

        @Override
        public String toString() {
            return String.format("median step (10-50): %.1f ms%ntokens/s: %.0f%nRSS at step 10: %.0f MB%n"
                    + "RSS at step %d: %.0f MB (%+.1f%%)%npeak RSS after step 10: %.0f MB%nfinal loss: %.4f", medianStepMs,
                    tokensPerSecond, rssStep10Bytes / 1e6, lastStep, rssLastBytes / 1e6, 100 * rssGrowth(),
                    rssPeakBytes / 1e6, finalLoss);
        }
    }

    public TrainBenchmark {
        if (steps < 50) {
            throw new IllegalArgumentException("steps: at least 50 (the median is over steps 10-50), got " + steps);
        }
    }

    public static TrainBenchmark standard() {
        return new TrainBenchmark(200, 64, 16, 0.05, Device.cpu());
    }

    public Result run() {
        ModelConfig config = ModelConfig.llama(512, 128, 384, 4, 4, 4);
        Random rng = new Random(0);
        List<TrainingExample> data = new ArrayList<>();
        for (int i = 0; i < batch * 8; i++) {
            int[] prompt = new int[seqLen / 2];
            int[] response = new int[seqLen - seqLen / 2];
            Arrays.setAll(prompt, k -> rng.nextInt(512));
            Arrays.setAll(response, k -> rng.nextInt(512));
            data.add(new TrainingExample(prompt, response));
        }
        TrainConfig tc = TrainConfig.builder().learningRate(1e-3).batchSize(batch).maxSteps(steps).seed(0)
                .maxLength(seqLen).build();
        long[] ns = new long[steps + 1];
        long[] rss = new long[steps + 1];
        try (CausalLM model = CausalLM.initialize(config, 0, device);
                LoraAdapter adapter = LoraAdapter.inject(model, LoraConfig.qv(8, 16).withDropout(loraDropout), 0);
                Trainer trainer = new Trainer(model, tc)) {
            long[] last = {System.nanoTime()};
            double[] tokensPerSecond = {0};
            var result = trainer.fit(data, new TrainListener() {
                @Override
                public void onStep(StepEvent e) {
                    long now = System.nanoTime();
                    int s = (int) e.step();
                    ns[s] = now - last[0];
                    rss[s] = residentSetBytes();
                    tokensPerSecond[0] = e.tokensPerSecond();
                    last[0] = System.nanoTime();
                }
            });
            double[] window = new double[41];
            for (int s = 10; s <= 50; s++) {
                window[s - 10] = ns[s] / 1e6;
            }
            List<Double> stepMs = Arrays.stream(ns).skip(1).mapToObj(v -> v / 1e6).toList();
            Arrays.sort(window);
            long peak = Arrays.stream(rss, 10, steps + 1).max().orElse(-1);
            return new Result(window[20], tokensPerSecond[0], rss[10], rss[steps], peak, steps, result.finalLoss(), stepMs);
        }
    }

    /** VmRSS from /proc (Linux); -1 elsewhere. */
    public static long residentSetBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
