package io.safetune.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.safetune.checkpoint.AtomicFiles;
import io.safetune.checkpoint.AtomicFolders;
import io.safetune.checkpoint.DType;
import io.safetune.checkpoint.SafetensorsWriter;
import io.safetune.checkpoint.TensorStore;
import io.safetune.lora.PeftFormat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;

/**
 * Synthetic Safe LoRA inputs of a real model's shape: base and aligned checkpoints holding q_proj and
 * v_proj of every layer (d × d, BF16 as Llama-2-7b ships them) and a PEFT LoRA adapter on them (F32).
 *
 * <p>aligned = base + Δ, Δ a low-rank change (rank 2–6 and a spectrum that differ per weight) plus dense
 * noise, so V = W_aligned − W_base is structured but full rank, as for a real chat/base pair. Each
 * adapter B mixes a part inside Δ's column space with a random part, in a proportion that differs per
 * weight (a seeded permutation), so the cosines spread over (0, 1) and number mode's selection is decided
 * by the data, not by rounding. Every tensor is generated from (seed, layer, module) alone, so the base
 * values are regenerated for the aligned file instead of being held; tensors are made a few ahead on
 * {@code threads} threads and written one at a time.
 */
final class SafeLoraCheckpoints {

    static final List<String> MODULES = List.of("q_proj", "v_proj");

    /** Standard deviation of base entries (Llama-2-7b's q/v weights are about this size). */
    private static final double BASE_STD = 0.02;
    /** Typical size of a low-rank alignment entry, and of the dense noise on top of it. */
    private static final double DELTA_SIZE = 2e-3;
    private static final double NOISE_STD = 2e-4;
    private static final double SQRT3 = Math.sqrt(3);

    private SafeLoraCheckpoints() {
    }

    /** Where the three inputs went and how many bytes they take. */
    record Written(Path base, Path aligned, Path adapter, long bytes) {
    }

    /** Writes {@code dir}/base, {@code dir}/aligned and {@code dir}/adapter. */
    static Written write(Path dir, int layers, int dim, int rank, long seed, int threads) {
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "safelora-bench-writer");
            t.setDaemon(true);
            return t;
        });
        try {
            Path base = dir.resolve("base");
            Path aligned = dir.resolve("aligned");
            Path adapter = dir.resolve("adapter");
            int n = layers * MODULES.size();
            long[] shape = {dim, dim};
            SafetensorsWriter.write(base.resolve(TensorStore.SINGLE),
                    entries(n, shape, new Ahead(pool, n, threads, w -> weight(seed, w, dim, false))), Map.of("format", "pt"));
            SafetensorsWriter.write(aligned.resolve(TensorStore.SINGLE),
                    entries(n, shape, new Ahead(pool, n, threads, w -> weight(seed, w, dim, true))), Map.of("format", "pt"));
            writeAdapter(adapter, layers, dim, rank, seed);
            long bytes = 2L * n * dim * dim * DType.BF16.bytes() + 2L * n * dim * rank * DType.F32.bytes();
            return new Written(base, aligned, adapter, bytes);
        } finally {
            pool.shutdownNow();
        }
    }

    /** The base model's tensor name of weight index {@code w} (layer w / 2, module w % 2). */
    static String weightName(int w) {
        return modulePath(w) + ".weight";
    }

    private static String modulePath(int w) {
        return io.safetune.model.ModuleName.of(w / MODULES.size(), MODULES.get(w % MODULES.size())).path();
    }

    private static List<SafetensorsWriter.Entry> entries(int n, long[] shape, Ahead source) {
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        for (int w = 0; w < n; w++) {
            int index = w;
            entries.add(new SafetensorsWriter.Entry(weightName(w), DType.BF16, shape, () -> source.get(index)));
        }
        return entries;
    }

    /** Base W (or aligned W + Δ) of weight {@code w} as little-endian BF16 bytes, row-major. */
    private static ByteBuffer weight(long seed, int w, int dim, boolean aligned) {
        SplittableRandom baseRng = rng(seed, w, 0);
        SplittableRandom noiseRng = rng(seed, w, 1);
        Delta delta = aligned ? Delta.of(seed, w, dim) : null;
        ByteBuffer bytes = ByteBuffer.allocate(dim * dim * 2).order(ByteOrder.LITTLE_ENDIAN);
        ShortBuffer out = bytes.asShortBuffer();
        short[] row = new short[dim];
        double[] coef = delta == null ? null : new double[delta.rank];
        for (int i = 0; i < dim; i++) {
            if (delta != null) {
                for (int k = 0; k < delta.rank; k++) {
                    coef[k] = delta.s[k] * delta.u[k][i];
                }
            }
            for (int j = 0; j < dim; j++) {
                double x = (float) (BASE_STD * uniform(baseRng));
                if (delta != null) {
                    for (int k = 0; k < delta.rank; k++) {
                        x += coef[k] * delta.v[k][j];
                    }
                    x += NOISE_STD * uniform(noiseRng);
                }
                row[j] = bf16((float) x);
            }
            out.put(row);
        }
        return bytes;
    }

    /** Δ's low-rank part Σ_k s_k u_k v_kᵀ of weight {@code w}: rank 2–6, u_k and v_k of norm ≈ 1. */
    private record Delta(int rank, double[] s, double[][] u, double[][] v) {

        static Delta of(long seed, int w, int dim) {
            SplittableRandom rng = rng(seed, w, 2);
            int rank = 2 + (w * 7 + (int) Math.floorMod(seed, 5)) % 5;
            double layerScale = 0.75 + 0.5 * ((w * 0.6180339887) % 1.0);
            double[] s = new double[rank];
            double[][] u = new double[rank][dim];
            double[][] v = new double[rank][dim];
            for (int k = 0; k < rank; k++) {
                s[k] = dim * DELTA_SIZE * layerScale * Math.pow(0.6, k);
                for (int i = 0; i < dim; i++) {
                    u[k][i] = uniform(rng) / Math.sqrt(dim);
                    v[k][i] = uniform(rng) / Math.sqrt(dim);
                }
            }
            return new Delta(rank, s, u, v);
        }
    }

    /**
     * adapter_model.safetensors (A: r × d, B: d × r, F32) and adapter_config.json. B = α·U g + (1 − α)·R:
     * U g in Δ's column space, R random, both of norm ≈ 1 per column; α = (π(w) + ½)/n for a seeded
     * permutation π, so every weight has its own share of the update along the alignment directions.
     */
    private static void writeAdapter(Path dir, int layers, int dim, int rank, long seed) {
        AtomicFolders.writeFolder(dir, tmp -> writeAdapterFiles(tmp, layers, dim, rank, seed));
    }

    private static void writeAdapterFiles(Path dir, int layers, int dim, int rank, long seed) {
        int n = layers * MODULES.size();
        int[] order = permutation(n, new SplittableRandom(seed ^ 0x5AFE10AL));
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        for (int w = 0; w < n; w++) {
            int index = w;
            double alpha = (order[w] + 0.5) / n;
            entries.add(floats(PeftFormat.key(modulePath(w), 'A'), new long[] {rank, dim}, () -> {
                SplittableRandom rng = rng(seed, index, 3);
                float[] a = new float[rank * dim];
                for (int i = 0; i < a.length; i++) {
                    a[i] = (float) (uniform(rng) / Math.sqrt(dim));
                }
                return a;
            }));
            entries.add(floats(PeftFormat.key(modulePath(w), 'B'), new long[] {dim, rank}, () -> {
                Delta delta = Delta.of(seed, index, dim);
                SplittableRandom rng = rng(seed, index, 4);
                double[][] g = new double[rank][delta.rank];
                for (double[] gc : g) {
                    for (int k = 0; k < gc.length; k++) {
                        gc[k] = uniform(rng) / Math.sqrt(delta.rank);
                    }
                }
                float[] b = new float[dim * rank];
                for (int i = 0; i < dim; i++) {
                    for (int c = 0; c < rank; c++) {
                        double inside = 0;
                        for (int k = 0; k < delta.rank; k++) {
                            inside += g[c][k] * delta.u[k][i];
                        }
                        double random = uniform(rng) / Math.sqrt(dim);
                        b[i * rank + c] = (float) (alpha * inside + (1 - alpha) * random);
                    }
                }
                return b;
            }));
        }
        SafetensorsWriter.write(dir.resolve(PeftFormat.WEIGHTS), entries, Map.of("format", "pt"));
        ObjectNode cfg = new ObjectMapper().createObjectNode();
        cfg.put("peft_type", "LORA");
        cfg.put("task_type", "CAUSAL_LM");
        cfg.put("base_model_name_or_path", "synthetic-" + layers + "x" + dim);
        cfg.put("r", rank);
        cfg.put("lora_alpha", 2 * rank);
        cfg.put("lora_dropout", 0.05);
        MODULES.forEach(cfg.putArray("target_modules")::add);
        cfg.put("use_rslora", false);
        cfg.put("bias", "none");
        cfg.put("fan_in_fan_out", false);
        AtomicFiles.writeString(dir.resolve(PeftFormat.CONFIG), cfg.toPrettyString());
    }

    private static SafetensorsWriter.Entry floats(String name, long[] shape, java.util.function.Supplier<float[]> values) {
        return new SafetensorsWriter.Entry(name, DType.F32, shape, () -> {
            float[] v = values.get();
            ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            FloatBuffer fb = b.asFloatBuffer();
            fb.put(v);
            return b;
        });
    }

    private static int[] permutation(int n, SplittableRandom rng) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /** An independent stream per (seed, weight, purpose). */
    private static SplittableRandom rng(long seed, int w, int purpose) {
        return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + w * 1_000_003L + purpose * 0x632BE59BD9B4E019L);
    }

    /** Uniform with mean 0 and variance 1. */
    private static double uniform(SplittableRandom rng) {
        return (2 * rng.nextDouble() - 1) * SQRT3;
    }

    /** float → BF16, rounded to nearest even (NaN kept a quiet NaN). */
    static short bf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) {
            return (short) ((bits >>> 16) | 0x40);
        }
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    /** Items 0..n-1 asked for in order, each computed on the pool up to {@code ahead} items in advance. */
    private static final class Ahead {
        private final ExecutorService pool;
        private final int n;
        private final int ahead;
        private final IntFunction<ByteBuffer> make;
        private final Map<Integer, Future<ByteBuffer>> pending = new HashMap<>();
        private int next;

        Ahead(ExecutorService pool, int n, int ahead, IntFunction<ByteBuffer> make) {
            this.pool = pool;
            this.n = n;
            this.ahead = ahead;
            this.make = make;
        }

        ByteBuffer get(int i) {
            while (next < n && next <= i + ahead) {
                int j = next++;
                pending.put(j, pool.submit(() -> make.apply(j)));
            }
            try {
                return pending.remove(i).get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while generating tensor " + i, e);
            } catch (ExecutionException e) {
                throw new IllegalStateException("generating tensor " + i + " failed: " + e.getCause(), e.getCause());
            }
        }
    }
}
