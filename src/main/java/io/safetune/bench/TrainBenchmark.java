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
 * The training-step benchmarks of the model stack, through the real {@link Trainer} (forward, masked
 * loss, backward, clipping, AdamW). {@link Mode#LORA}: a tiny Llama (d=128, 4 layers, 4 heads, FFN 384,
 * vocab 512), sequences of 64 tokens, batch 16, LoRA r=8 on q_proj and v_proj (anchor:
 * shared/bench/train_peft.py). {@link Mode#FULL}: every weight of the micro-world's base shape (d=128,
 * 4 layers, 4 heads, FFN 344, vocab 374), batch 64 × 48 tokens, AdamW 2e-3 without weight decay,
 * clipping at 1.0, loss on every token (anchor: shared/bench/train_full_torch.py). Reports the median
 * step time over steps 10–50, tokens per second, and the resident set size at steps 10 and the last
 * step, to show that native memory stays flat.
 *
 * @param steps       steps to run (≥ 50; 200 by default)
 * @param loraDropout dropout on the adapters' input (LORA; 0.05 by default; libtorch's CPU dropout costs ~1 ms a call here)
 * @param profile     where to write libtorch's operator profile (a Chrome trace) of steps 51–60, after the
 *                    timed window; null: none
 */
public record TrainBenchmark(Mode mode, int steps, int seqLen, int batch, double loraDropout, Device device, Path profile) {

    /** What is trained. */
    public enum Mode {
        /** A LoRA adapter on q_proj and v_proj of the LoRA benchmark's model. */
        LORA,
        /** Every weight of the micro-world's base model, as its pretraining stage does. */
        FULL
    }

    /**
     * What one run measured. RSS is read after every step; it moves by tens of MB from one step to the
     * next as libtorch frees and allocates, so beside the two single readings (steps 10 and N) the medians
     * of the first and last {@value #RSS_WINDOW} steps (from step 10 on; fewer when N &lt; 209) say
     * whether memory drifts.
     */
    public record Result(double medianStepMs, double tokensPerSecond, long rssStep10Bytes, long rssLastBytes,
            long rssPeakBytes, long rssFirstWindowBytes, long rssLastWindowBytes, int window, int lastStep,
            double minorFaultsPerStep, double finalLoss, List<Double> stepMs) {

        public double rssGrowth() {
            return (double) (rssLastBytes - rssStep10Bytes) / rssStep10Bytes;
        }

        /** Growth of the last window's median RSS over the first window's. */
        public double rssWindowGrowth() {
            return (double) (rssLastWindowBytes - rssFirstWindowBytes) / rssFirstWindowBytes;
        }

        @Override
        public String toString() {
            return String.format("median step (10-50): %.1f ms%ntokens/s: %.0f%nRSS at step 10: %.0f MB%n"
                    + "RSS at step %d: %.0f MB (%+.1f%%)%nmedian RSS of steps 10-%d: %.0f MB, of steps %d-%d: %.0f MB (%+.1f%%)%n"
                    + "peak RSS after step 10: %.0f MB%nminor page faults a step (10-%d): %s%nfinal loss: %.4f", medianStepMs,
                    tokensPerSecond, rssStep10Bytes / 1e6, lastStep, rssLastBytes / 1e6, 100 * rssGrowth(),
                    9 + window, rssFirstWindowBytes / 1e6, lastStep - window + 1, lastStep, rssLastWindowBytes / 1e6,
                    100 * rssWindowGrowth(), rssPeakBytes / 1e6, lastStep,
                    Double.isNaN(minorFaultsPerStep) ? "n/a" : String.format("%.0f", minorFaultsPerStep), finalLoss);
        }
    }

    /** Steps per RSS window. */
    static final int RSS_WINDOW = 100;

    public TrainBenchmark {
        if (mode == null) {
            throw new IllegalArgumentException("mode: missing");
        }
        if (steps < 50) {
            throw new IllegalArgumentException("steps: at least 50 (the median is over steps 10-50), got " + steps);
        }
        if (profile != null && steps < 60) {
            throw new IllegalArgumentException("steps: at least 60 with a profile (it records steps 51-60), got " + steps);
        }
    }

    public static TrainBenchmark standard() {
        return new TrainBenchmark(Mode.LORA, 200, 64, 16, 0.05, Device.cpu(), null);
    }

    /** The full fine-tuning step at the micro-world's base shape: batch 64 × 48 tokens. */
    public static TrainBenchmark full(int steps, Device device, Path profile) {
        return new TrainBenchmark(Mode.FULL, steps, 48, 64, 0, device, profile);
    }

    public Result run() {
        boolean lora = mode == Mode.LORA;
        ModelConfig config = lora ? ModelConfig.llama(512, 128, 384, 4, 4, 4) : ModelConfig.llama(374, 128, 344, 4, 4, 4);
        int vocab = lora ? 512 : 374;
        Random rng = new Random(0);
        List<TrainingExample> data = new ArrayList<>();
        for (int i = 0; i < batch * 8; i++) {
            int[] prompt = new int[lora ? seqLen / 2 : 0]; // FULL: the loss on every token, as the anchor's labels = ids
            int[] response = new int[seqLen - prompt.length];
            Arrays.setAll(prompt, k -> rng.nextInt(vocab));
            Arrays.setAll(response, k -> rng.nextInt(vocab));
            data.add(new TrainingExample(prompt, response));
        }
        TrainConfig tc = lora ? TrainConfig.builder().learningRate(1e-3).batchSize(batch).maxSteps(steps).seed(0).maxLength(seqLen).build()
                : TrainConfig.builder().learningRate(2e-3).weightDecay(0).maxGradNorm(1.0).batchSize(batch).maxSteps(steps).seed(0)
                        .maxLength(seqLen).build();
        long[] ns = new long[steps + 1];
        long[] rss = new long[steps + 1];
        long[] faults = new long[steps + 1];
        try (CausalLM model = CausalLM.initialize(config, 0, device);
                LoraAdapter adapter = lora ? LoraAdapter.inject(model, LoraConfig.qv(8, 16).withDropout(loraDropout), 0) : null) {
            if (!lora) {
                model.unfreezeAll();
            }
            return measure(model, tc, data, ns, rss, faults);
        }
    }

    private Result measure(CausalLM model, TrainConfig tc, List<TrainingExample> data, long[] ns, long[] rss, long[] faults) {
        try (Trainer trainer = new Trainer(model, tc)) {
            long[] last = {System.nanoTime()};
            double[] tokensPerSecond = {0};
            var result = trainer.fit(data, new TrainListener() {
                @Override
                public void onStep(StepEvent e) {
                    long now = System.nanoTime();
                    int s = (int) e.step();
                    ns[s] = now - last[0];
                    rss[s] = residentSetBytes();
                    faults[s] = minorFaults();
                    tokensPerSecond[0] = e.tokensPerSecond();
                    if (profile != null && s == 50) {
                        ai.djl.pytorch.jni.JniUtils.startProfile(false, true, false);
                    } else if (profile != null && s == 60) {
                        ai.djl.pytorch.jni.JniUtils.stopProfile(profile.toAbsolutePath().toString());
                    }
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
            int w = Math.min(RSS_WINDOW, (steps - 9) / 2);
            return new Result(window[20], tokensPerSecond[0], rss[10], rss[steps], peak, median(rss, 10, 10 + w),
                    median(rss, steps + 1 - w, steps + 1), w, steps, faults[10] < 0 || faults[steps] < 0 ? Double.NaN
                    : (faults[steps] - faults[10]) / (double) (steps - 10),
                    result.finalLoss(), stepMs);
        }
    }

    /** The median of x[from, to) (the upper one of an even count). */
    static long median(long[] x, int from, int to) {
        long[] w = Arrays.copyOfRange(x, from, to);
        Arrays.sort(w);
        return w[w.length / 2];
    }

    /**
     * The process's minor page faults so far (/proc/self/stat's tenth field; Linux), -1 elsewhere: each is a page
     * the kernel maps in, zeroed, on first touch (docs/benchmarks.md, memory).
     */
    static long minorFaults() {
        try {
            return minorFaults(Files.readString(Path.of("/proc/self/stat")));
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** minflt, the tenth field of a /proc/PID/stat line; the second, the command name, is in parentheses and may hold ") ". */
    static long minorFaults(String stat) {
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" "); // f[0] is the third field, the state
        return Long.parseLong(f[7]);
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
