package io.safetune.bench;

import io.safetune.checkpoint.DType;
import io.safetune.checkpoint.SafetensorsWriter;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Synthetic SaLoRA inputs of a real model's shape, one safetensors file per layer
 * ({@code layer-L.safetensors}): q_proj and v_proj (d × d) and the layer's safety and task features
 * (n × d, n = samples × response tokens), all BF16 as a 7B checkpoint and its activations are.
 *
 * <p>Weights are i.i.d. uniform with Llama-2-7b's scale. Features are anisotropic, as hidden states are:
 * X = G·diag(σ)·Pᵀ + noise, with P a layer's own 64 random directions (one set for safety, one for the
 * task), σ_k = 0.9^k and isotropic noise of 5% of the signal's size. The gap σ_32/σ_33 decides how fast
 * any randomized SVD of X·Wᵀ converges; it is stated, not tuned. Everything is generated from (seed,
 * layer, set, row) alone, in parallel over rows.
 */
final class SaLoraInputs {

    static final List<String> MODULES = List.of("q_proj", "v_proj");
    static final List<String> SETS = List.of("safety", "task");
    static final int LATENT = 64;
    static final double DECAY = 0.9;
    static final double NOISE = 0.05;
    private static final double BASE_STD = 0.02;
    private static final double SQRT3 = Math.sqrt(3);

    private SaLoraInputs() {
    }

    static Path layerFile(Path dir, int layer) {
        return dir.resolve(String.format("layer-%02d.safetensors", layer));
    }

    /** Bytes written: per layer two d × d weights and two n × d feature sets, BF16. */
    static long bytes(int layers, int dim, int n) {
        return (long) layers * 2 * ((long) dim * dim + (long) n * dim) * DType.BF16.bytes();
    }

    static void write(Path dir, int layers, int dim, int n, long seed) {
        for (int layer = 0; layer < layers; layer++) {
            int l = layer;
            long[] square = {dim, dim};
            long[] rows = {n, dim};
            SafetensorsWriter.write(layerFile(dir, layer), List.of(
                    SafetensorsWriter.Entry.ofFloats("q_proj", square, () -> weight(seed, l, 0, dim), DType.BF16),
                    SafetensorsWriter.Entry.ofFloats("v_proj", square, () -> weight(seed, l, 1, dim), DType.BF16),
                    SafetensorsWriter.Entry.ofFloats("safety", rows, () -> features(seed, l, 0, n, dim), DType.BF16),
                    SafetensorsWriter.Entry.ofFloats("task", rows, () -> features(seed, l, 1, n, dim), DType.BF16)),
                    Map.of("format", "pt", "about", "safetune bench salora: synthetic layer " + layer));
        }
    }

    private static float[] weight(long seed, int layer, int module, int dim) {
        float[] w = new float[dim * dim];
        IntStream.range(0, dim).parallel().forEach(i -> {
            SplittableRandom rng = rng(seed, layer, 10 + module, i);
            for (int j = 0; j < dim; j++) {
                w[i * dim + j] = (float) (BASE_STD * uniform(rng));
            }
        });
        return w;
    }

    /** X = G·diag(σ)·Pᵀ + noise (n × d); P's columns are unit-norm random directions of the layer and set. */
    private static float[] features(long seed, int layer, int set, int n, int dim) {
        float[][] p = new float[LATENT][dim];
        SplittableRandom prng = rng(seed, layer, 20 + set, -1);
        for (float[] col : p) {
            for (int j = 0; j < dim; j++) {
                col[j] = (float) (uniform(prng) / Math.sqrt(dim));
            }
        }
        double signal = Math.sqrt((1 - Math.pow(DECAY, 2 * LATENT)) / (1 - DECAY * DECAY) / dim); // RMS of a signal entry
        float noise = (float) (NOISE * signal);
        float[] x = new float[n * dim];
        IntStream.range(0, n).parallel().forEach(i -> {
            SplittableRandom rng = rng(seed, layer, 30 + set, i);
            float[] g = new float[LATENT];
            double s = 1;
            for (int k = 0; k < LATENT; k++, s *= DECAY) {
                g[k] = (float) (s * uniform(rng));
            }
            int row = i * dim;
            for (int k = 0; k < LATENT; k++) {
                float gk = g[k];
                float[] pk = p[k];
                for (int j = 0; j < dim; j++) {
                    x[row + j] += gk * pk[j];
                }
            }
            for (int j = 0; j < dim; j++) {
                x[row + j] += (float) (noise * uniform(rng));
            }
        });
        return x;
    }

    /** An independent stream per (seed, layer, purpose, row). */
    private static SplittableRandom rng(long seed, int layer, int purpose, int row) {
        return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + layer * 1_000_003L + purpose * 0x632BE59BD9B4E019L
                + row * 0x2545F4914F6CDD1DL);
    }

    /** Uniform with mean 0 and variance 1. */
    private static double uniform(SplittableRandom rng) {
        return (2 * rng.nextDouble() - 1) * SQRT3;
    }
}
