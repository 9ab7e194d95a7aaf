package io.safetune.salora;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import io.safetune.linalg.RandomizedSvd;
import io.safetune.linalg.RandomizedSvd.Dense;
import io.safetune.linalg.TorchProducts;

/**
 * The large products of one target weight, in the settings' precision: FP64 as Java doubles (EJML), FP32
 * as libtorch float32 tensors held for the target's lifetime. X·Wᵀ is formed only for the EXACT SVD;
 * the randomized one sees it through X·(Wᵀ·Ω) and W·(Xᵀ·Q).
 */
final class Products implements AutoCloseable {

    private final SaLora.Target t;
    private final SaLoraSettings.Precision precision;
    private final NDManager manager;
    private double[] wd;
    private NDArray wt;

    Products(SaLora.Target t, SaLoraSettings.Precision precision) {
        this.t = t;
        this.precision = precision;
        this.manager = precision == SaLoraSettings.Precision.FP32 ? NDManager.newBaseManager(Device.cpu()) : null;
    }

    private double[] wDoubles() {
        if (wd == null) {
            wd = SaLora.toDoubles(t.w());
        }
        return wd;
    }

    private NDArray wTensor() {
        if (wt == null) {
            wt = manager.create(t.w(), new Shape(t.dOut(), t.dIn()));
        }
        return wt;
    }

    /** The top-k right singular triplets of X·Wᵀ (the layer's outputs on the features X, n × d_in). */
    RandomizedSvd.Triplets outputDirections(float[] x, int k, SaLoraSettings s, long seed, String what, String field) {
        int dIn = t.dIn();
        int dOut = t.dOut();
        if (x.length % dIn != 0) {
            throw new IllegalArgumentException(what + ": features of " + x.length + " values are not rows of d_in = " + dIn
                    + " (" + t.name() + ")");
        }
        int n = x.length / dIn;
        if (n < k) {
            throw new IllegalArgumentException(field + ": " + k + " directions need at least " + k + " response tokens; the "
                    + what + " has " + n);
        }
        if (precision == SaLoraSettings.Precision.FP32) {
            try (NDManager m = manager.newSubManager()) {
                NDArray xa = m.create(x, new Shape(n, dIn));
                if (s.svd() == SaLoraSettings.Svd.EXACT) {
                    NDArray formed = xa.matMul(wTensor().transpose());
                    double[] scores = TorchProducts.toDoubles(formed);
                    formed.close();
                    return RandomizedSvd.exact(scores, n, dOut, k);
                }
                return RandomizedSvd.randomized(TorchProducts.scores(xa, wTensor()), k, s.oversampling(), s.powerIterations(), seed);
            }
        }
        double[] xd = SaLora.toDoubles(x);
        double[] w = wDoubles();
        if (s.svd() == SaLoraSettings.Svd.EXACT) {
            return RandomizedSvd.exact(Dense.multTransB(xd, n, dIn, w, dOut), n, dOut, k);
        }
        RandomizedSvd.Operator scores = new RandomizedSvd.Operator() {
            public int rows() {
                return n;
            }

            public int cols() {
                return dOut;
            }

            public double[] times(double[] omega, int l) { // X (Wᵀ Ω)
                return Dense.mult(xd, n, dIn, Dense.multTransA(w, dOut, dIn, omega, l), l);
            }

            public double[] transposeTimes(double[] q, int l) { // W (Xᵀ Q)
                return Dense.mult(w, dOut, dIn, Dense.multTransA(xd, n, dIn, q, l), l);
            }
        };
        return RandomizedSvd.randomized(scores, k, s.oversampling(), s.powerIterations(), seed);
    }

    /** W's top-r singular triplets. */
    RandomizedSvd.Triplets weightSvd(int r, SaLoraSettings s, long seed) {
        if (s.svd() == SaLoraSettings.Svd.EXACT) {
            return RandomizedSvd.exact(wDoubles(), t.dOut(), t.dIn(), r);
        }
        RandomizedSvd.Operator w = precision == SaLoraSettings.Precision.FP32 ? TorchProducts.of(wTensor())
                : RandomizedSvd.of(wDoubles(), t.dOut(), t.dIn());
        return RandomizedSvd.randomized(w, r, s.oversampling(), s.powerIterations(), seed);
    }

    @Override
    public void close() {
        if (manager != null) {
            manager.close();
        }
    }
}
