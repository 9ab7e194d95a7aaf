package io.safetune.linalg;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.SingularOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;

import java.util.Random;

/**
 * The top-k singular triplets of a matrix A (m × n) seen only through products, A·Ω and Aᵀ·Q (Halko,
 * Martinsson and Tropp 2011, algorithms 4.4 and 5.1): a Gaussian range finder with oversampling and
 * power iterations (each re-orthonormalised), then the exact SVD of the small Qᵀ·A. A product form
 * such as A = X·Wᵀ is never formed. Also the exact SVD of a formed matrix, for small sizes and tests.
 */
public final class RandomizedSvd {

    private RandomizedSvd() {
    }

    /** A linear map known by its products with thin matrices (row-major, k columns). */
    public interface Operator {
        int rows();

        int cols();

        /** A·Ω for Ω cols × k: rows × k. */
        double[] times(double[] omega, int k);

        /** Aᵀ·Q for Q rows × k: cols × k. */
        double[] transposeTimes(double[] q, int k);
    }

    /**
     * The top k singular values (descending) with their left (rows × k) and right (cols × k) vectors,
     * row-major.
     */
    public record Triplets(double[] u, double[] s, double[] v, int k) {
    }

    /** A formed matrix as an operator. */
    public static Operator of(double[] a, int m, int n) {
        return new Operator() {
            public int rows() {
                return m;
            }

            public int cols() {
                return n;
            }

            public double[] times(double[] omega, int k) {
                return Dense.mult(a, m, n, omega, k);
            }

            public double[] transposeTimes(double[] q, int k) {
                return Dense.multTransA(a, m, n, q, k);
            }
        };
    }

    /** The exact top-k SVD of a formed m × n matrix (EJML's). */
    public static Triplets exact(double[] a, int m, int n, int k) {
        SingularValueDecomposition_F64<DMatrixRMaj> svd = DecompositionFactory_DDRM.svd(m, n, true, true, true);
        if (!svd.decompose(DMatrixRMaj.wrap(m, n, a.clone()))) {
            throw new IllegalStateException("SVD failed on a " + m + " × " + n + " matrix");
        }
        DMatrixRMaj u = svd.getU(null, false);
        DMatrixRMaj w = svd.getW(null);
        DMatrixRMaj v = svd.getV(null, false);
        SingularOps_DDRM.descendingOrder(u, false, w, v, false);
        int kk = Math.min(k, Math.min(m, n));
        DMatrixRMaj uk = new DMatrixRMaj(m, kk);
        DMatrixRMaj vk = new DMatrixRMaj(n, kk);
        CommonOps_DDRM.extract(u, 0, m, 0, kk, uk, 0, 0);
        CommonOps_DDRM.extract(v, 0, n, 0, kk, vk, 0, 0);
        double[] s = new double[kk];
        for (int i = 0; i < kk; i++) {
            s[i] = w.get(i, i);
        }
        return new Triplets(uk.data, s, vk.data, kk);
    }

    /**
     * The randomized top-k SVD of {@code a}: a range of k + oversampling columns, refined by
     * {@code powerIterations} rounds of (A Aᵀ), seeded.
     */
    public static Triplets randomized(Operator a, int k, int oversampling, int powerIterations, long seed) {
        int m = a.rows();
        int n = a.cols();
        int l = Math.min(Math.min(m, n), k + oversampling);
        Random rng = new Random(seed);
        double[] omega = new double[n * l];
        for (int i = 0; i < omega.length; i++) {
            omega[i] = rng.nextGaussian();
        }
        double[] q = DenseAlgebra.thinQ(a.times(omega, l), m, l);
        for (int it = 0; it < powerIterations; it++) {
            double[] z = DenseAlgebra.thinQ(a.transposeTimes(q, l), n, l);
            q = DenseAlgebra.thinQ(a.times(z, l), m, l);
        }
        // B = Qᵀ A (l × n) = (Aᵀ Q)ᵀ; its exact SVD gives A's: U = Q·U_B
        double[] at = a.transposeTimes(q, l); // n × l
        double[] b = Dense.transpose(at, n, l); // l × n
        Triplets small = exact(b, l, n, k);
        double[] u = Dense.mult(q, m, l, small.u(), small.k());
        return new Triplets(u, small.s(), small.v(), small.k());
    }

    /** Row-major products without the EJML wrappers at call sites. */
    public static final class Dense {
        private Dense() {
        }

        /** A (m × n) · B (n × k). */
        public static double[] mult(double[] a, int m, int n, double[] b, int k) {
            DMatrixRMaj c = new DMatrixRMaj(m, k);
            CommonOps_DDRM.mult(DMatrixRMaj.wrap(m, n, a), DMatrixRMaj.wrap(n, k, b), c);
            return c.data;
        }

        /** Aᵀ (A m × n) · B (m × k): n × k. */
        public static double[] multTransA(double[] a, int m, int n, double[] b, int k) {
            DMatrixRMaj c = new DMatrixRMaj(n, k);
            CommonOps_DDRM.multTransA(DMatrixRMaj.wrap(m, n, a), DMatrixRMaj.wrap(m, k, b), c);
            return c.data;
        }

        /** A (m × n) · Bᵀ (B k × n): m × k. */
        public static double[] multTransB(double[] a, int m, int n, double[] b, int k) {
            DMatrixRMaj c = new DMatrixRMaj(m, k);
            CommonOps_DDRM.multTransB(DMatrixRMaj.wrap(m, n, a), DMatrixRMaj.wrap(k, n, b), c);
            return c.data;
        }

        public static double[] transpose(double[] a, int m, int n) {
            double[] t = new double[m * n];
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    t[j * m + i] = a[i * n + j];
                }
            }
            return t;
        }
    }
}
