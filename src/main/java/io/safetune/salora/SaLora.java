package io.safetune.salora;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import io.safetune.linalg.RandomizedSvd;
import io.safetune.linalg.RandomizedSvd.Dense;
import io.safetune.linalg.TorchProducts;
import io.safetune.lora.Injection;
import io.safetune.lora.LoraConfig;
import io.safetune.model.CausalLM;
import io.safetune.model.ModuleName;
import io.safetune.model.Projection;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * SaLoRA's initialisation, per target weight W (d_out × d_in), in double:
 * <ol>
 *   <li>V_s = the top r_s right singular vectors of X_s·Wᵀ (X_s: the safety features); C = I − V_s V_sᵀ;</li>
 *   <li>V_t likewise from the task features (r_t); W ≈ U_r S_r V_rᵀ (rank r);
 *       B₀ = V_t V_tᵀ U_r √S_r, A₀ = √S_r V_rᵀ;</li>
 *   <li>the residual base W′ = W − s·C·B₀·A₀, so the model's output at step 0 is the aligned model's.</li>
 * </ol>
 * {@link #attach} writes W′ into the model and puts a {@link SaLoraLayer} (A₀, B₀ trainable, V_s
 * frozen) on every target through the shared {@link Injection}.
 */
public final class SaLora {

    private SaLora() {
    }

    /**
     * One target's initialisation (row-major doubles).
     *
     * @param vs       V_s, d_out × r_s (null when C = I)
     * @param vt       V_t, d_out × r_t (null without the task initialisation)
     * @param b0       B₀, d_out × r
     * @param a0       A₀, r × d_in
     * @param scaling  s, the LoRA scaling W′ subtracts with
     */
    public record WeightInit(ModuleName module, int dOut, int dIn, int r, int rs, double[] vs, double[] vt, double[] b0, double[] a0,
            double scaling, double[] safetySingular, double[] taskSingular, double[] weightSingular,
            SaLoraSettings.Precision precision) {

        /**
         * W′ = W − s·(C·B₀)·A₀ for this target's W (d_out × d_in, row-major), computed when needed: at 7B a
         * d_out × d_in double per weight held for every target at once would not fit. C·B₀ (d_out × r) comes
         * first, so the one large product is d_out × r × d_in, in the settings' precision.
         */
        public float[] residual(float[] w) {
            double[] cb0 = applyC(vs, dOut, rs, b0, r);
            double[] cba;
            if (precision == SaLoraSettings.Precision.FP64) {
                cba = Dense.mult(cb0, dOut, r, a0, dIn);
            } else {
                try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
                    cba = TorchProducts.mult(m, cb0, dOut, r, a0, dIn, DataType.FLOAT32);
                }
            }
            float[] out = new float[w.length];
            for (int j = 0; j < w.length; j++) {
                out[j] = (float) (w[j] - scaling * cba[j]);
            }
            return out;
        }

        /** V_s V_sᵀ (d_out × d_out): the projector C removes (zeros when C = I). */
        public double[] safetyProjector() {
            return vs == null ? new double[dOut * dOut] : Dense.multTransB(vs, dOut, rs, vs, dOut);
        }

        /** B₀ A₀ (d_out × d_in). */
        public double[] b0a0() {
            return Dense.mult(b0, dOut, r, a0, dIn);
        }
    }

    /** The targets of {@code lora} in {@code model}, in layer then module order. */
    static List<Projection> targets(CausalLM model, LoraConfig lora) {
        return Injection.targets(model, lora.targetModules(), lora::targetsLayer);
    }

    /**
     * Computes every target's V_s, B₀, A₀ and W′ (the model is not changed), one target at a time: the
     * features are spilled to disk by {@link Features#capture} and read back per target.
     *
     * @param safety sequences of harmful prompts with refusals, response positions marked
     * @param task   sequences of the fine-tuning task, response positions marked
     * @param seed   seeds the randomized SVD, the random control's subspace and the plain initialisation
     */
    static List<WeightInit> initialise(CausalLM model, LoraConfig lora, SaLoraSettings s, List<Features.Sequence> safety,
            List<Features.Sequence> task, long seed) {
        List<Projection> projections = targets(model, lora);
        List<ModuleName> names = projections.stream().map(p -> ModuleName.parse(p.name()).orElseThrow()).toList();
        for (int i = 0; i < projections.size(); i++) {
            check(names.get(i), (int) projections.get(i).outFeatures(), (int) projections.get(i).inFeatures(), lora.r(), s);
        }
        boolean safetyFeatures = s.module() == SaLoraSettings.Module.SAFETY && s.rankSafety() > 0;
        boolean taskFeatures = s.init() == SaLoraSettings.Init.TASK;
        Random plain = new Random(seed);
        List<WeightInit> out = new ArrayList<>();
        try (Features.Store xs = safetyFeatures ? Features.capture(model, names, safety, "safety set") : Features.Store.NONE;
             Features.Store xt = taskFeatures ? Features.capture(model, names, task, "task set") : Features.Store.NONE) {
            for (int i = 0; i < projections.size(); i++) {
                Projection p = projections.get(i);
                ModuleName name = names.get(i);
                float[] w = p.weight().toType(DataType.FLOAT32, false).toFloatArray();
                out.add(initialiseWeight(new Target(i, name, (int) p.outFeatures(), (int) p.inFeatures(), w),
                        safetyFeatures ? xs.rows(name) : null, taskFeatures ? xt.rows(name) : null, s, lora.r(), lora.scaling(),
                        seed, plain));
            }
        }
        return out;
    }

    /** One target weight: its index among the targets (it seeds the random control's subspace), its name and W (d_out × d_in, row-major). */
    public record Target(int index, ModuleName name, int dOut, int dIn, float[] w) {
        public Target {
            if ((long) dOut * dIn != w.length) {
                throw new IllegalArgumentException(name + ": W has " + w.length + " entries, not d_out × d_in = " + dOut + " × " + dIn);
            }
        }
    }

    /** Refuses ranks the target's shape cannot hold, naming the field. */
    public static void check(ModuleName name, int dOut, int dIn, int r, SaLoraSettings s) {
        int rs = s.module() == SaLoraSettings.Module.NONE ? 0 : s.rankSafety();
        if (rs >= dOut) {
            throw new IllegalArgumentException("rankSafety: r_s = " + rs + " must be below d_out = " + dOut + " of " + name);
        }
        if (s.init() == SaLoraSettings.Init.TASK && s.rankTask() > dOut) {
            throw new IllegalArgumentException("rankTask: r_t = " + s.rankTask() + " exceeds d_out = " + dOut + " of " + name
                    + " (V_t V_tᵀ would be the identity)");
        }
        if (r > Math.min(dOut, dIn)) {
            throw new IllegalArgumentException("r: " + r + " exceeds the rank of " + name + " (" + dOut + " × " + dIn + ")");
        }
    }

    /**
     * One target's initialisation from W and its features: what {@link #initialise} runs per target, and
     * what {@code safetune bench salora} times at 7B shapes.
     *
     * @param xs    X_s, n_s × d_in row-major (used when module = SAFETY and r_s > 0)
     * @param xt    X_t, n_t × d_in row-major (used when init = TASK)
     * @param plain the plain initialisation's generator, shared by the targets in order
     */
    public static WeightInit initialiseWeight(Target t, float[] xs, float[] xt, SaLoraSettings s, int r, double scaling,
            long seed, Random plain) {
        int dOut = t.dOut();
        int dIn = t.dIn();
        check(t.name(), dOut, dIn, r, s);
        int rs = s.module() == SaLoraSettings.Module.NONE ? 0 : s.rankSafety();
        try (Products products = new Products(t, s.precision())) {
            double[] vs = null;
            double[] safetySingular = new double[0];
            if (rs > 0 && s.module() == SaLoraSettings.Module.SAFETY) {
                RandomizedSvd.Triplets d = products.outputDirections(xs, rs, s, seed, "safety set", "rankSafety");
                vs = d.v();
                safetySingular = d.s();
            } else if (rs > 0) {
                vs = randomBasis(dOut, rs, new Random(seed * 31 + t.index()));
            }
            double[] vt = null;
            double[] b0;
            double[] a0;
            double[] taskSingular = new double[0];
            double[] weightSingular = new double[0];
            if (s.init() == SaLoraSettings.Init.TASK) {
                RandomizedSvd.Triplets d = products.outputDirections(xt, s.rankTask(), s, seed + 1, "task set", "rankTask");
                taskSingular = d.s();
                vt = d.v();
                RandomizedSvd.Triplets ws = products.weightSvd(r, s, seed + 2);
                weightSingular = ws.s();
                double[][] ba = taskInit(d.v(), d.k(), ws, dOut, dIn, r);
                b0 = ba[0];
                a0 = ba[1];
            } else {
                // LoRA's own start: A ~ U(-1/√d_in, 1/√d_in), B = 0
                a0 = new double[r * dIn];
                double bound = 1 / Math.sqrt(dIn);
                for (int j = 0; j < a0.length; j++) {
                    a0[j] = (float) ((plain.nextFloat() * 2 - 1) * bound);
                }
                b0 = new double[dOut * r];
            }
            return new WeightInit(t.name(), dOut, dIn, r, rs, vs, vt, b0, a0, scaling, safetySingular, taskSingular, weightSingular,
                    s.precision());
        }
    }

    /**
     * The task-specific initialisation from V_t (d_out × r_t) and W's top-r triplets:
     * B₀ = V_t V_tᵀ U_r √S_r (d_out × r) and A₀ = √S_r V_rᵀ (r × d_in), row-major.
     *
     * @return {B₀, A₀}
     */
    public static double[][] taskInit(double[] vt, int rt, RandomizedSvd.Triplets ws, int dOut, int dIn, int r) {
        double[] uSqrt = ws.u().clone(); // U_r √S_r
        double[] a0 = new double[r * dIn]; // √S_r V_rᵀ
        for (int j = 0; j < r; j++) {
            double root = Math.sqrt(ws.s()[j]);
            for (int row = 0; row < dOut; row++) {
                uSqrt[row * r + j] *= root;
            }
            for (int c = 0; c < dIn; c++) {
                a0[j * dIn + c] = root * ws.v()[c * r + j];
            }
        }
        // B₀ = V_t (V_tᵀ U_r √S_r)
        return new double[][] {Dense.mult(vt, dOut, rt, Dense.multTransA(vt, dOut, rt, uSqrt, r), r), a0};
    }

    /** C·M for M d_out × c: M − V_s (V_sᵀ M); M itself when V_s is null. */
    static double[] applyC(double[] vs, int dOut, int rs, double[] m, int c) {
        if (vs == null) {
            return m;
        }
        double[] proj = Dense.mult(vs, dOut, rs, Dense.multTransA(vs, dOut, rs, m, c), c);
        double[] out = m.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] -= proj[i];
        }
        return out;
    }

    /** d × k orthonormal columns spanning a uniformly random subspace (QR of a Gaussian matrix). */
    static double[] randomBasis(int d, int k, Random rng) {
        double[] g = new double[d * k];
        for (int i = 0; i < g.length; i++) {
            g[i] = rng.nextGaussian();
        }
        return io.safetune.linalg.DenseAlgebra.thinQ(g, d, k);
    }

    /**
     * Writes every W′ into {@code model} and attaches a {@link SaLoraLayer} with A₀, B₀ and V_s on each
     * target (A and B registered as the model's trainable parameters under PEFT's names).
     */
    static Injection<SaLoraLayer> attach(CausalLM model, LoraConfig lora, List<WeightInit> inits) {
        Map<String, WeightInit> byPath = new LinkedHashMap<>();
        inits.forEach(i -> byPath.put(i.module().path(), i));
        NDArray[] scaling = new NDArray[1];
        Injection<SaLoraLayer> injection = Injection.build(model, targets(model, lora), (target, m) -> {
            WeightInit in = byPath.get(target.name());
            if (scaling[0] == null) {
                scaling[0] = m.create((float) lora.scaling());
            }
            NDArray a = m.create(toFloats(in.a0()), new Shape(in.r(), in.dIn()));
            NDArray b = m.create(toFloats(in.b0()), new Shape(in.dOut(), in.r()));
            NDArray vs = in.vs() == null ? null : m.create(toFloats(in.vs()), new Shape(in.dOut(), in.rs()));
            return new SaLoraLayer(target, a, b, vs, scaling[0], (float) lora.dropout());
        }, Map.of("adapter", "salora", "lora.r", Integer.toString(lora.r()), "lora.alpha", Double.toString(lora.alpha())));
        for (Projection p : targets(model, lora)) {
            if (p.weight().getDataType() != DataType.FLOAT32) {
                injection.close();
                throw new IllegalArgumentException(p.name() + ": SaLoRA writes its residual base in float32; the model holds "
                        + p.weight().getDataType() + " (load it as float32)");
            }
        }
        try {
            injection.attach();
        } catch (RuntimeException e) {
            injection.close();
            throw e;
        }
        // the residual base last: nothing above changed the model's weights, so a failure leaves it as it was
        for (Projection p : targets(model, lora)) {
            p.weight().set(FloatBuffer.wrap(byPath.get(p.name()).residual(p.weight().toFloatArray())));
        }
        return injection;
    }

    static double[] toDoubles(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            d[i] = x[i];
        }
        return d;
    }

    static float[] toFloats(double[] x) {
        float[] f = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            f[i] = (float) x[i];
        }
        return f;
    }
}
