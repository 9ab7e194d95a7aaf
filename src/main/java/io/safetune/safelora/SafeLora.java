package io.safetune.safelora;


import io.safetune.checkpoint.AtomicFolders;
import io.safetune.checkpoint.CheckpointException;
import io.safetune.checkpoint.DType;
import io.safetune.checkpoint.TensorInfo;
import io.safetune.checkpoint.TensorStore;
import io.safetune.safelora.SafeLoraResult.Status;
import io.safetune.safelora.SafeLoraResult.WeightResult;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Safe LoRA (Hsu et al., NeurIPS 2024), number for number as the reference code IBM/SafeLoRA, but
 * memory-lean: for every weight the adapter targets, V = W_aligned − W_base is read one weight at a
 * time (any checkpoint dtype, computed in double), the d_out × d_out matrix C = V Vᵀ / ‖V‖_F is never
 * formed (C·B = V (Vᵀ B) / ‖V‖_F, d_out × r), and cos(flatten(C·B·A), flatten(B·A)) comes from r × r
 * Gram matrices: ⟨X A, Y A⟩_F = trace(Xᵀ Y · A Aᵀ). The LoRA scaling s cancels in the cosine. Selected
 * weights get B ← C·B; A is unchanged. With the plain projector V is computed row by row in two passes;
 * the first keeps V in float32 in a per-core buffer for the second, so a weight of up to 128 MB of
 * float32 (7B's 4096 × 4096) is read from the files once, a larger one twice ({@link DeltaRows}).
 * Weights are analysed in parallel, one per core, and peak memory is that buffer per core plus C·B
 * (d_out × r doubles) of every weight with a defined cosine ({@code safetune bench safelora} measures
 * 7B's q/v weights). The exact projector holds two double copies of one weight.
 *
 * <p>Undefined cosines (V = 0, or B·A = 0) are reported as such and never projected. A weight with
 * C·B·A = 0 but B·A ≠ 0 (the update orthogonal to V's column space) gets cosine 0, as torch's
 * eps-clamped {@code cosine_similarity} in the reference gives.
 */
public final class SafeLora {

    /** Report files that {@link #apply} writes beside the adapter. */
    public static final String REPORT_JSON = "safelora.json";
    public static final String REPORT_CSV = "safelora.csv";
    static final String ADAPTER_CONFIG = "adapter_config.json";
    static final String ADAPTER_WEIGHTS = "adapter_model.safetensors";

    /** A PEFT LoRA key: group 1 the module path, group 2 "A" or "B". */
    static final Pattern KEY = Pattern.compile("base_model\\.model\\.(.+)\\.lora_([AB])\\.weight");

    private SafeLora() {
    }

    /** One adapted weight: the adapter's keys and the shapes they were checked against. */
    record Target(String module, String weight, String keyA, String keyB, int layer, int dOut, int dIn, int r) {
    }

    /** The analysis of one weight; {@code cb} is C·B (null when the cosine is undefined). */
    private record Analysis(Target target, Status status, double cosine, double[] cb, double normBA) {
    }

    /** Analyses without writing anything: cosines, selection, τ and the norms, as {@link #apply} would. */
    public static SafeLoraResult analyze(Path base, Path aligned, Path adapterDir, SafeLoraConfig cfg) {
        return run(base, aligned, adapterDir, cfg, null);
    }

    /**
     * Runs Safe LoRA and writes the projected adapter to {@code outDir} in PEFT's format
     * (adapter_config.json copied unchanged; adapter_model.safetensors in F32 with the same keys and
     * the new B's), plus {@link #REPORT_JSON} and {@link #REPORT_CSV}, all four as one unit.
     *
     * @param base       the unaligned base checkpoint (e.g. Llama-2-7b-hf)
     * @param aligned    its aligned version (e.g. Llama-2-7b-chat-hf), the model the adapter was trained on
     * @param adapterDir a PEFT LoRA adapter folder
     * @param outDir     where to write; must differ from {@code adapterDir}
     */
    public static SafeLoraResult apply(Path base, Path aligned, Path adapterDir, SafeLoraConfig cfg, Path outDir) {
        if (outDir == null) {
            throw new IllegalArgumentException("outDir: must not be null (use analyze() to write nothing)");
        }
        if (outDir.toAbsolutePath().normalize().equals(adapterDir.toAbsolutePath().normalize())) {
            throw new IllegalArgumentException("outDir: must differ from adapterDir " + adapterDir
                    + " (the original adapter is kept)");
        }
        return run(base, aligned, adapterDir, cfg, outDir);
    }

    private static SafeLoraResult run(Path base, Path aligned, Path adapterDir, SafeLoraConfig cfg, Path outDir) {
        if (cfg == null) {
            throw new IllegalArgumentException("cfg: must not be null");
        }
        // one reader of adapters: per-module ranks or alphas are refused there, so one s holds for every weight
        double scaling = io.safetune.lora.PeftFormat.readConfig(adapterDir).config().scaling();
        Path weightsFile = adapterDir.resolve(ADAPTER_WEIGHTS);
        try (TensorStore adapter = TensorStore.open(weightsFile);
                TensorStore baseStore = TensorStore.open(base);
                TensorStore alignedStore = TensorStore.open(aligned)) {
            // every check before any heavy reading: a wrong path fails in milliseconds, not after 30 minutes
            List<Target> targets = targets(adapter, weightsFile, baseStore, alignedStore);
            boolean fp32 = cfg.precision() == SafeLoraConfig.Precision.FP32;
            List<Analysis> analyses = analyzeAll(targets, adapter, baseStore, alignedStore, cfg.projector(), fp32);
            OptionalDouble tau = tau(analyses, cfg);
            List<WeightResult> rows = new ArrayList<>();
            Map<String, float[]> newB = new LinkedHashMap<>();
            double pdstSum = 0;
            for (Analysis a : analyses) {
                Target t = a.target();
                boolean projected = a.status() == Status.DEFINED && a.cosine() <= tau.getAsDouble();
                double before = scaling * a.normBA();
                double after = before;
                if (projected) {
                    // B_new is what is written: C·B in float32; Pdst measures that rounding (Pdst = 1 when exact)
                    float[] bNew = new float[a.cb().length];
                    double[] bNewD = new double[bNew.length];
                    double[] diff = new double[bNew.length];
                    for (int i = 0; i < bNew.length; i++) {
                        bNew[i] = (float) a.cb()[i];
                        bNewD[i] = bNew[i];
                        diff[i] = bNewD[i] - a.cb()[i];
                    }
                    newB.put(t.keyB(), bNew);
                    pdstSum += 1 / (1 + Projectors.frobenius(diff));
                    double[] a2 = toDoubles(adapter.readFloats(t.keyA()));
                    double[] gA = Projectors.outerGram(a2, t.r(), t.dIn(), fp32);
                    after = scaling * Math.sqrt(Math.max(0, Projectors.productInner(bNewD, bNewD, t.dOut(), t.r(), gA)));
                }
                rows.add(new WeightResult(t.layer(), moduleName(t.module()), t.weight(),
                        a.status() == Status.DEFINED ? OptionalDouble.of(a.cosine()) : OptionalDouble.empty(),
                        a.status(), projected, before, after));
            }
            OptionalDouble pdst = newB.isEmpty() ? OptionalDouble.empty() : OptionalDouble.of(pdstSum / newB.size());
            SafeLoraResult result = new SafeLoraResult(cfg, tau, pdst, rows);
            if (outDir != null) {
                write(adapter, adapterDir, newB, outDir, tmp -> {
                    result.writeJson(tmp.resolve(REPORT_JSON));
                    result.writeCsv(tmp.resolve(REPORT_CSV));
                });
            }
            return result;
        }
    }

    /** The adapted weights, checked against both checkpoints, in layer order. */
    private static List<Target> targets(TensorStore adapter, Path file, TensorStore base, TensorStore aligned) {
        Map<String, String[]> byModule = new LinkedHashMap<>();
        for (String key : adapter.names()) {
            Matcher m = KEY.matcher(key);
            if (!m.matches()) {
                throw new CheckpointException(file, key, "not a LoRA weight of a Linear layer (lora_A/lora_B)");
            }
            byModule.computeIfAbsent(m.group(1), k -> new String[2])[m.group(2).equals("A") ? 0 : 1] = key;
        }
        if (byModule.isEmpty()) {
            throw new CheckpointException(file, null, "no LoRA weights in this adapter");
        }
        List<Target> targets = new ArrayList<>();
        for (Map.Entry<String, String[]> e : byModule.entrySet()) {
            String module = e.getKey();
            String keyA = e.getValue()[0] != null ? e.getValue()[0] : "base_model.model." + module + ".lora_A.weight";
            String keyB = e.getValue()[1] != null ? e.getValue()[1] : "base_model.model." + module + ".lora_B.weight";
            for (String k : List.of(keyA, keyB)) {
                if (!adapter.contains(k)) {
                    throw new CheckpointException(file, k, "missing tensor (its lora_A/lora_B partner is present)");
                }
            }
            String weight = module + ".weight";
            boolean inBase = base.contains(weight);
            boolean inAligned = aligned.contains(weight);
            if (!inBase && !inAligned) {
                throw new CheckpointException(file, keyA, "targets module '" + module + "', which the model does not have (no "
                        + weight + " in " + base.source() + " nor in " + aligned.source() + ")");
            }
            if (!inBase || !inAligned) {
                TensorStore without = inBase ? aligned : base;
                TensorStore with = inBase ? base : aligned;
                throw new CheckpointException(without.source(), weight, "missing tensor (present in "
                        + with.info(weight).file() + ")");
            }
            TensorInfo wb = base.info(weight);
            TensorInfo wa = aligned.info(weight);
            if (!Arrays.equals(wb.shape(), wa.shape())) {
                throw new CheckpointException(wa.file(), weight, "shape " + Arrays.toString(wa.shape())
                        + " differs from the base model's " + Arrays.toString(wb.shape()) + " in " + wb.file());
            }
            if (wb.shape().length != 2) {
                throw new CheckpointException(wb.file(), weight, "not a 2-D Linear weight: " + Arrays.toString(wb.shape()));
            }
            long dOut = wb.shape()[0];
            long dIn = wb.shape()[1];
            TensorInfo a = adapter.info(keyA);
            TensorInfo b = adapter.info(keyB);
            long r = a.shape().length == 2 ? a.shape()[0] : -1;
            checkShape(file, a, new long[] {r, dIn}, wb);
            checkShape(file, b, new long[] {dOut, r}, wb);
            if (dOut * dIn > Integer.MAX_VALUE) {
                throw new CheckpointException(wb.file(), weight, "more than 2^31 elements: too large for one array");
            }
            int layer = layerOf(module);
            targets.add(new Target(module, weight, keyA, keyB, layer, (int) dOut, (int) dIn, (int) r));
        }
        targets.sort(Comparator.comparingInt(Target::layer)); // stable: the adapter's order within a layer
        return targets;
    }

    private static void checkShape(Path file, TensorInfo t, long[] expected, TensorInfo weight) {
        if (expected[0] <= 0 || !Arrays.equals(t.shape(), expected)) {
            throw new CheckpointException(file, t.name(), "shape " + Arrays.toString(t.shape())
                    + " does not fit the base weight " + weight.name() + " " + Arrays.toString(weight.shape())
                    + ", which needs " + (expected[0] <= 0 ? "a 2-D lora_A" : Arrays.toString(expected))
                    + " (was the adapter trained on another model?)");
        }
    }

    /**
     * Step 1-3 for every weight, in order. With the plain projector the weights are analysed on as many
     * threads as there are cores: each keeps one weight's V in float32 (DeltaRows.Scratch, reused) and
     * O((d_out + d_in)·r) doubles, and its result does not depend on the thread count. The exact
     * projector holds two d_out × d_in double copies per weight, so it runs one weight at a time.
     */
    private static List<Analysis> analyzeAll(List<Target> targets, TensorStore adapter, TensorStore base,
            TensorStore aligned, SafeLoraConfig.Projector projector, boolean fp32) {
        int threads = projector == SafeLoraConfig.Projector.PLAIN
                ? Math.min(Runtime.getRuntime().availableProcessors(), targets.size()) : 1;
        List<Analysis> analyses = new ArrayList<>();
        if (threads <= 1) {
            DeltaRows.Scratch scratch = new DeltaRows.Scratch();
            for (Target t : targets) {
                analyses.add(analyze(t, adapter, base, aligned, projector, fp32, scratch));
            }
            return analyses;
        }
        // one scratch per worker: a task takes a free one and gives it back, so at most `threads` exist
        BlockingQueue<DeltaRows.Scratch> scratches = new ArrayBlockingQueue<>(threads);
        for (int i = 0; i < threads; i++) {
            scratches.add(new DeltaRows.Scratch());
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads, task -> {
            Thread th = new Thread(task, "safelora-analyze");
            th.setDaemon(true);
            return th;
        });
        try {
            List<Future<Analysis>> futures = new ArrayList<>();
            for (Target t : targets) {
                futures.add(pool.submit(() -> {
                    DeltaRows.Scratch scratch = scratches.take();
                    try {
                        return analyze(t, adapter, base, aligned, projector, fp32, scratch);
                    } finally {
                        scratches.add(scratch);
                    }
                }));
            }
            for (Future<Analysis> f : futures) {
                analyses.add(f.get());
            }
            return analyses;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while analysing the adapter's weights", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re; // e.g. a CheckpointException naming the file and tensor
            }
            throw new IllegalStateException(e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    /** Step 1-3 of the method for one weight: V, C·B and the cosine. */
    private static Analysis analyze(Target t, TensorStore adapter, TensorStore base, TensorStore aligned,
            SafeLoraConfig.Projector projector, boolean fp32, DeltaRows.Scratch scratch) {
        double[] a = toDoubles(adapter.readFloats(t.keyA())); // r × d_in
        double[] b = toDoubles(adapter.readFloats(t.keyB())); // d_out × r
        double[] gA = Projectors.outerGram(a, t.r(), t.dIn(), fp32); // A Aᵀ, r × r
        double normBA2 = Projectors.productInner(b, b, t.dOut(), t.r(), gA); // ‖B A‖_F²
        if (!(normBA2 > 0)) {
            return new Analysis(t, Status.ZERO_UPDATE, 0, null, 0);
        }
        double[] cb; // C·B, d_out × r; null when V = 0
        if (projector == SafeLoraConfig.Projector.PLAIN) {
            try (DeltaRows v = new DeltaRows(t, base, aligned, fp32, scratch)) {
                cb = Projectors.plain(v, t.dOut(), t.dIn(), b, t.r(), fp32);
            }
        } else {
            double[] floor = new double[1];
            double[] v = delta(t, base, aligned, fp32, floor); // d_out × d_in
            cb = v == null ? null : Projectors.apply(projector, v, t.dOut(), t.dIn(), b, t.r(), fp32, floor[0]);
        }
        if (cb == null) {
            return new Analysis(t, Status.ZERO_ALIGNMENT_DELTA, 0, null, Math.sqrt(normBA2));
        }
        double dot = Projectors.productInner(cb, b, t.dOut(), t.r(), gA); // ⟨C B A, B A⟩_F
        double normCBA2 = Projectors.productInner(cb, cb, t.dOut(), t.r(), gA); // ‖C B A‖_F²
        double cos = normCBA2 > 0 ? dot / Math.sqrt(normCBA2 * normBA2) : 0;
        cos = Math.max(-1, Math.min(1, cos));
        return new Analysis(t, Status.DEFINED, cos, cb, Math.sqrt(normBA2));
    }

    /**
     * V = W_aligned − W_base in double (or float32), or null when it is exactly zero. {@code noiseFloor[0]}
     * receives u·(‖W_a‖_F + ‖W_b‖_F), a bound on the storage rounding in V (u: unit roundoff of the
     * coarser dtype), for the exact projector's rank decision.
     */
    private static double[] delta(Target t, TensorStore base, TensorStore aligned, boolean fp32, double[] noiseFloor) {
        float[] wa = aligned.readFloats(t.weight());
        float[] wb = base.readFloats(t.weight());
        double[] v = new double[wa.length];
        boolean zero = true;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < v.length; i++) {
            double d = (double) wa[i] - wb[i]; // exact in double for float inputs
            v[i] = fp32 ? (float) d : d;
            zero &= v[i] == 0;
            na += (double) wa[i] * wa[i];
            nb += (double) wb[i] * wb[i];
        }
        double u = Math.max(unitRoundoff(aligned.info(t.weight()).dtype()), unitRoundoff(base.info(t.weight()).dtype()));
        noiseFloor[0] = u * (Math.sqrt(na) + Math.sqrt(nb));
        return zero ? null : v;
    }

    private static double unitRoundoff(DType d) {
        return switch (d) {
            case F64 -> 0x1p-53;
            case F16 -> 0x1p-11;
            case BF16 -> 0x1p-8;
            default -> 0x1p-24;
        };
    }

    /** Step 4: τ of threshold mode, or the k-th smallest defined cosine (all of them when k exceeds their count). */
    private static OptionalDouble tau(List<Analysis> analyses, SafeLoraConfig cfg) {
        if (cfg.mode() == SafeLoraConfig.Mode.THRESHOLD) {
            return OptionalDouble.of(cfg.tau());
        }
        double[] cos = analyses.stream().filter(a -> a.status() == Status.DEFINED).mapToDouble(Analysis::cosine)
                .sorted().toArray();
        return cos.length == 0 ? OptionalDouble.empty() : OptionalDouble.of(cos[Math.min(cfg.numProjLayers(), cos.length) - 1]);
    }

    /**
     * Writes {@code adapterDir}'s adapter to {@code outDir} with the B's in {@code newB} replaced
     * (shared with the controls), the two adapter files and {@code reports} as one unit
     * ({@link AtomicFolders}); other entries of {@code outDir} (before-safelora/, checkpoints/) are kept.
     */
    static void write(TensorStore adapter, Path adapterDir, Map<String, float[]> newB, Path outDir,
            AtomicFolders.Body reports) {
        io.safetune.lora.PeftFormat.rewrite(adapterDir, newB, outDir, reports);
    }

    /** float → double is exact, so FP32 mode needs no rounding here. */
    private static double[] toDoubles(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            d[i] = x[i];
        }
        return d;
    }

    /** The decoder layer index in a module path (…layers.3.…), or -1 without one. */
    static int layerOf(String module) {
        return io.safetune.model.ModuleName.parse(module).map(io.safetune.model.ModuleName::layer).orElse(-1);
    }

    /** The module's own name: model.layers.0.self_attn.q_proj → q_proj. */
    static String moduleName(String module) {
        return module.substring(module.lastIndexOf('.') + 1);
    }
}
