package io.safetune.linalg;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * {@link RandomizedSvd.Operator}s whose products run in libtorch (float32 or float64 matmuls, the
 * arithmetic pinned as {@code engine.Arithmetic} sets it), for shapes where Java loops would be the
 * bottleneck: a 7B layer's X·Wᵀ seen through X·(Wᵀ·Ω) and W·(Xᵀ·Q). The thin matrices Ω, Q cross as
 * row-major doubles; every intermediate tensor is closed before a product returns.
 */
public final class TorchProducts {

    private TorchProducts() {
    }

    /**
     * X·Wᵀ (n × d_out) known by its products.
     *
     * @param x n × d_in, in the dtype the products run in
     * @param w d_out × d_in, same dtype
     */
    public static RandomizedSvd.Operator scores(NDArray x, NDArray w) {
        checkPair(x, w);
        int n = (int) x.getShape().get(0);
        int dOut = (int) w.getShape().get(0);
        return new RandomizedSvd.Operator() {
            public int rows() {
                return n;
            }

            public int cols() {
                return dOut;
            }

            public double[] times(double[] omega, int k) { // X (Wᵀ Ω): never the n × d_out matrix
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    return toDoubles(x.matMul(w.transpose().matMul(thin(x.getManager(), omega, dOut, k, x.getDataType()))));
                }
            }

            public double[] transposeTimes(double[] q, int k) { // W (Xᵀ Q)
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    return toDoubles(w.matMul(x.transpose().matMul(thin(x.getManager(), q, n, k, x.getDataType()))));
                }
            }
        };
    }

    /** A formed m × n matrix (e.g. a weight W for its rank-r SVD) known by its products. */
    public static RandomizedSvd.Operator of(NDArray a) {
        if (a.getShape().dimension() != 2) {
            throw new IllegalArgumentException("a: a matrix is 2-D, got " + a.getShape());
        }
        int m = (int) a.getShape().get(0);
        int n = (int) a.getShape().get(1);
        return new RandomizedSvd.Operator() {
            public int rows() {
                return m;
            }

            public int cols() {
                return n;
            }

            public double[] times(double[] omega, int k) {
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    return toDoubles(a.matMul(thin(a.getManager(), omega, n, k, a.getDataType())));
                }
            }

            public double[] transposeTimes(double[] q, int k) {
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    return toDoubles(a.transpose().matMul(thin(a.getManager(), q, m, k, a.getDataType())));
                }
            }
        };
    }

    /** A (m × k) · B (k × n) for row-major doubles, in libtorch's {@code type}; the m × n product back as doubles. */
    public static double[] mult(NDManager manager, double[] a, int m, int k, double[] b, int n, DataType type) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            return toDoubles(thin(manager, a, m, k, type).matMul(thin(manager, b, k, n, type)));
        }
    }

    private static void checkPair(NDArray x, NDArray w) {
        if (x.getShape().dimension() != 2 || w.getShape().dimension() != 2) {
            throw new IllegalArgumentException("features and weight must be 2-D, got " + x.getShape() + " and " + w.getShape());
        }
        if (x.getShape().get(1) != w.getShape().get(1)) {
            throw new IllegalArgumentException("features: width " + x.getShape().get(1) + " does not match the weight's d_in "
                    + w.getShape().get(1));
        }
        if (x.getDataType() != w.getDataType()) {
            throw new IllegalArgumentException("features (" + x.getDataType() + ") and weight (" + w.getDataType()
                    + ") must share a dtype");
        }
    }

    /** A row-major rows × cols double matrix as a tensor of {@code type}. */
    static NDArray thin(NDManager manager, double[] a, int rows, int cols, DataType type) {
        Shape shape = new Shape(rows, cols);
        if (type == DataType.FLOAT64) {
            return manager.create(a, shape);
        }
        if (type != DataType.FLOAT32) {
            throw new IllegalArgumentException("products run in float32 or float64, not " + type);
        }
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            f[i] = (float) a[i];
        }
        return manager.create(f, shape);
    }

    public static double[] toDoubles(NDArray a) {
        return a.toType(DataType.FLOAT64, false).toDoubleArray();
    }
}
