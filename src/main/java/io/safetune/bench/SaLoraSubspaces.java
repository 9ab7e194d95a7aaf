package io.safetune.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import io.safetune.checkpoint.DType;
import io.safetune.checkpoint.SafetensorsFile;
import io.safetune.checkpoint.SafetensorsWriter;
import io.safetune.linalg.DenseAlgebra;
import io.safetune.linalg.RandomizedSvd;
import io.safetune.linalg.TorchProducts;
import io.safetune.model.ModuleName;
import io.safetune.salora.SaLora;
import io.safetune.salora.SaLoraSettings;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The three ways {@code safetune bench salora} builds SaLoRA's subspaces from {@link SaLoraInputs}, one
 * per child JVM, each writing V_s and V_t of every weight it handles to {@code subspaces.safetensors}
 * (F32, "L.module.vs" and "L.module.vt", d × r):
 * <ul>
 *   <li>OURS: {@link SaLora#initialiseWeight} as the fine-tune slot runs it (randomized, products only,
 *       float32 libtorch products, r_s + 10 columns, 4 power iterations), with A₀, B₀ and W′;</li>
 *   <li>REFERENCE: the reference's algorithm: X·Wᵀ formed (libtorch float32), then
 *       {@code torch.svd_lowrank(q = r, niter = 30)} (q columns, no oversampling, 30 power iterations,
 *       each re-orthonormalised), W's factors likewise, then the same A₀, B₀ and W′;</li>
 *   <li>EXACT: the exact top-r eigenvectors of (X·Wᵀ)ᵀ(X·Wᵀ) (float64 products, EJML's symmetric
 *       eigen-decomposition), for the weights asked for: the yardstick of both.</li>
 * </ul>
 */
final class SaLoraSubspaces {

    enum Algorithm {
        OURS,
        REFERENCE,
        EXACT
    }

    static final String FILE = "subspaces.safetensors";
    static final int REFERENCE_ITERATIONS = 30;

    private SaLoraSubspaces() {
    }

    /** The name of weight {@code w} (layer w / 2, module w % 2), as in the output file's keys. */
    static String weightName(int w) {
        return (w / 2) + "." + SaLoraInputs.MODULES.get(w % 2);
    }

    /**
     * Runs {@code algorithm} over the weights in {@code weights} (indices, in order) of the inputs in
     * {@code in}, writing their subspaces to {@code out}/{@value #FILE}; {@code powerIterations} is ours'
     * (the others ignore it).
     */
    static void run(Algorithm algorithm, Path in, Path out, List<Integer> weights, int rankSafety, int rankTask, int r, long seed,
            int powerIterations) {
        SaLoraSettings s = new SaLoraSettings(rankSafety, rankTask, null, null, SaLoraSettings.Svd.RANDOMIZED, null, powerIterations,
                null, null, SaLoraSettings.Precision.FP32);
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        Random plain = new Random(seed);
        int layer = -1;
        float[] xs = null;
        float[] xt = null;
        for (int w : weights) {
            if (w / 2 != layer) {
                layer = w / 2;
                try (SafetensorsFile f = SafetensorsFile.open(SaLoraInputs.layerFile(in, layer))) {
                    xs = f.readFloats("safety");
                    xt = f.readFloats("task");
                }
            }
            float[] weight;
            try (SafetensorsFile f = SafetensorsFile.open(SaLoraInputs.layerFile(in, layer))) {
                weight = f.readFloats(SaLoraInputs.MODULES.get(w % 2));
            }
            int dim = (int) Math.round(Math.sqrt(weight.length));
            double[][] v = switch (algorithm) {
                case OURS -> {
                    SaLora.Target t = new SaLora.Target(w, ModuleName.of(layer, SaLoraInputs.MODULES.get(w % 2)), dim, dim, weight);
                    SaLora.WeightInit init = SaLora.initialiseWeight(t, xs, xt, s, r, 1.0, seed, plain);
                    init.residual(weight); // W′, as the fine-tune slot writes it
                    yield new double[][] {init.vs(), init.vt()};
                }
                case REFERENCE -> reference(weight, dim, xs, xt, rankSafety, rankTask, r, seed);
                case EXACT -> new double[][] {exact(weight, dim, xs, rankSafety), exact(weight, dim, xt, rankTask)};
            };
            entries.add(matrix(weightName(w) + ".vs", v[0], dim, rankSafety));
            entries.add(matrix(weightName(w) + ".vt", v[1], dim, rankTask));
        }
        SafetensorsWriter.write(out.resolve(FILE), entries, java.util.Map.of("algorithm", algorithm.name()));
    }

    /** svd_lowrank on the formed X·Wᵀ for V_s and V_t and on W for its factors; then B₀, A₀ and W′ as ours does. */
    private static double[][] reference(float[] weight, int dim, float[] xs, float[] xt, int rs, int rt, int r, long seed) {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray w = m.create(weight, new Shape(dim, dim));
            double[] vs = lowRank(m, xs, w, dim, rs, seed).v();
            RandomizedSvd.Triplets t = lowRank(m, xt, w, dim, rt, seed + 1);
            RandomizedSvd.Triplets ws = RandomizedSvd.randomized(TorchProducts.of(w), r, 0, REFERENCE_ITERATIONS, seed + 2);
            double[][] ba = SaLora.taskInit(t.v(), rt, ws, dim, dim, r);
            double[] b0 = ba[0];
            double[] a0 = ba[1];
            new SaLora.WeightInit(null, dim, dim, r, rs, vs, t.v(), b0, a0, 1.0, new double[0], t.s(), ws.s(),
                    SaLoraSettings.Precision.FP32).residual(weight);
            return new double[][] {vs, t.v()};
        }
    }

    private static RandomizedSvd.Triplets lowRank(NDManager m, float[] x, NDArray w, int dim, int q, long seed) {
        try (NDManager sub = m.newSubManager()) {
            NDArray xa = sub.create(x, new Shape(x.length / dim, dim));
            NDArray formed = xa.matMul(w.transpose()); // n × d_out, float32: the reference's score matrix
            return RandomizedSvd.randomized(TorchProducts.of(formed), q, 0, REFERENCE_ITERATIONS, seed);
        }
    }

    /** The exact top-k right singular vectors of X·Wᵀ: eigenvectors of its Gram matrix, float64 throughout. */
    private static double[] exact(float[] weight, int dim, float[] x, int k) {
        double[] gram;
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray w = m.create(weight, new Shape(dim, dim)).toType(DataType.FLOAT64, false);
            NDArray scores = m.create(x, new Shape(x.length / dim, dim)).toType(DataType.FLOAT64, false).matMul(w.transpose());
            gram = TorchProducts.toDoubles(scores.transpose().matMul(scores));
        }
        DenseAlgebra.Eigen e = DenseAlgebra.symmetricEigen(gram, dim);
        double[] v = new double[dim * k];
        for (int i = 0; i < dim; i++) {
            System.arraycopy(e.vectors(), i * dim, v, i * k, k);
        }
        return v;
    }

    private static SafetensorsWriter.Entry matrix(String name, double[] v, int rows, int cols) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return SafetensorsWriter.Entry.ofFloats(name, new long[] {rows, cols}, () -> f, DType.F32);
    }

    /**
     * The largest principal angle (radians) between the column spaces of two d × k matrices with
     * orthonormal columns: asin of the spectral norm of (I − V₂V₂ᵀ)V₁, accurate for small angles where
     * acos of the smallest singular value of V₂ᵀV₁ is not.
     */
    static double largestAngle(float[] v1, float[] v2, int d, int k) {
        double[] a = new double[d * k];
        double[] b = new double[d * k];
        for (int i = 0; i < a.length; i++) {
            a[i] = v1[i];
            b[i] = v2[i];
        }
        double[] coef = RandomizedSvd.Dense.multTransA(b, d, k, a, k); // V₂ᵀV₁
        double[] along = RandomizedSvd.Dense.mult(b, d, k, coef, k);
        for (int i = 0; i < a.length; i++) {
            a[i] -= along[i];
        }
        double sin = DenseAlgebra.singularValues(a, d, k)[0];
        return Math.asin(Math.min(1, sin));
    }
}
