package io.safetune.linalg;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;
import org.ejml.interfaces.decomposition.QRPDecomposition_F64;
import org.ejml.interfaces.decomposition.QRDecomposition;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;

/**
 * The dense linear algebra the methods share, on row-major {@code double[]} matrices, from EJML (one
 * well-kept library, not hand-written kernels): column-pivoted QR with a numerical rank, thin QR,
 * symmetric eigen-decomposition and SVD. Large products stay in libtorch or in the methods' streaming
 * loops; this is for the small and medium factorisations (d × r, p × p, one weight at a time).
 */
public final class DenseAlgebra {

    private DenseAlgebra() {
    }

    /**
     * An orthonormal basis of the column space of A (m × n, row-major): the first {@code rank} columns
     * of Q from a column-pivoted Householder QR, rank = the number of pivots |R_kk| above
     * {@code max(max(m, n)·ε·|R_00|, noiseFloor)} (pinv's default tolerance, with pivots standing in for
     * the singular values).
     *
     * @return Q_r, m × rank, row-major (rank 0 gives an empty array)
     */
    public static Basis columnBasis(double[] a, int m, int n, double noiseFloor) {
        DMatrixRMaj mat = DMatrixRMaj.wrap(m, n, a.clone());
        QRPDecomposition_F64<DMatrixRMaj> qrp = DecompositionFactory_DDRM.qrp(m, n);
        qrp.setSingularThreshold(0); // the rank is decided below, by our tolerance
        if (!qrp.decompose(mat)) {
            throw new IllegalStateException("QR with pivoting failed on a " + m + " × " + n + " matrix");
        }
        DMatrixRMaj r = qrp.getR(null, true);
        int steps = Math.min(m, n);
        double r00 = steps == 0 ? 0 : Math.abs(r.get(0, 0));
        double tol = Math.max(Math.max(m, n) * Math.ulp(1.0) * r00, noiseFloor);
        int rank = 0;
        while (rank < steps && Math.abs(r.get(rank, rank)) > tol) {
            rank++;
        }
        DMatrixRMaj q = qrp.getQ(null, true); // m × min(m, n)
        DMatrixRMaj qr = new DMatrixRMaj(m, rank);
        CommonOps_DDRM.extract(q, 0, m, 0, rank, qr, 0, 0);
        return new Basis(qr.data, m, rank);
    }

    /** An orthonormal basis: {@code q} is rows × rank, row-major. */
    public record Basis(double[] q, int rows, int rank) {

        /** Q Qᵀ X for X rows × c (row-major): X projected onto the basis' span. */
        public double[] project(double[] x, int c) {
            DMatrixRMaj qm = DMatrixRMaj.wrap(rows, rank, q);
            DMatrixRMaj xm = DMatrixRMaj.wrap(rows, c, x);
            DMatrixRMaj qtx = new DMatrixRMaj(rank, c);
            CommonOps_DDRM.multTransA(qm, xm, qtx);
            DMatrixRMaj out = new DMatrixRMaj(rows, c);
            CommonOps_DDRM.mult(qm, qtx, out);
            return out.data;
        }
    }

    /** The thin Q of A (m × n, m ≥ n, row-major) from a Householder QR: m × n orthonormal columns spanning A's. */
    public static double[] thinQ(double[] a, int m, int n) {
        QRDecomposition<DMatrixRMaj> qr = DecompositionFactory_DDRM.qr(m, n);
        if (!qr.decompose(DMatrixRMaj.wrap(m, n, a.clone()))) {
            throw new IllegalStateException("QR failed on a " + m + " × " + n + " matrix");
        }
        return qr.getQ(null, true).data;
    }

    /**
     * Eigenpairs of the symmetric S (n × n, row-major), eigenvalues descending.
     *
     * @return values (n) and vectors as columns of an n × n row-major matrix, in the same order
     */
    public static Eigen symmetricEigen(double[] s, int n) {
        EigenDecomposition_F64<DMatrixRMaj> eig = DecompositionFactory_DDRM.eig(n, true, true);
        if (!eig.decompose(DMatrixRMaj.wrap(n, n, s.clone()))) {
            throw new IllegalStateException("symmetric eigen-decomposition failed on a " + n + " × " + n + " matrix");
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (x, y) -> Double.compare(eig.getEigenvalue(y).real, eig.getEigenvalue(x).real));
        double[] values = new double[n];
        double[] vectors = new double[n * n];
        for (int j = 0; j < n; j++) {
            values[j] = eig.getEigenvalue(order[j]).real;
            DMatrixRMaj v = eig.getEigenVector(order[j]);
            for (int i = 0; i < n; i++) {
                vectors[i * n + j] = v.get(i, 0);
            }
        }
        return new Eigen(values, vectors);
    }

    /** Eigenvalues descending and their vectors as columns (n × n, row-major). */
    public record Eigen(double[] values, double[] vectors) {
    }

    /** The singular values of A (m × n, row-major), descending. */
    public static double[] singularValues(double[] a, int m, int n) {
        SingularValueDecomposition_F64<DMatrixRMaj> svd = DecompositionFactory_DDRM.svd(m, n, false, false, true);
        if (!svd.decompose(DMatrixRMaj.wrap(m, n, a.clone()))) {
            throw new IllegalStateException("SVD failed on a " + m + " × " + n + " matrix");
        }
        double[] s = svd.getSingularValues().clone();
        java.util.Arrays.sort(s);
        for (int i = 0; i < s.length / 2; i++) {
            double t = s[i];
            s[i] = s[s.length - 1 - i];
            s[s.length - 1 - i] = t;
        }
        return java.util.Arrays.copyOf(s, Math.min(m, n));
    }
}
