package io.safetune.safelora;

import io.safetune.linalg.DenseAlgebra;

/**
 * The two ways of computing C·B (d_out × r) from V (d_out × d_in) and B (d_out × r) without forming
 * the d_out × d_out matrix C, and the r × r Gram algebra of the cosine. Matrices are row-major double
 * arrays. {@code fp32} rounds every stored result to float32 (sums are accumulated in double).
 */
final class Projectors {

    /** Rows of V per update of (Vᵀ B)ᵀ in the plain projector's first pass. */
    private static final int ROWS_PER_UPDATE = 4;

    /** Machine epsilon of double, for the rank tolerance of the exact projector. */
    private static final double EPS = Math.ulp(1.0);

    private Projectors() {
    }

    /** C·B for projector {@code p}; {@code noiseFloor} is the exact projector's rank floor (see {@link #exact}). */
    static double[] apply(SafeLoraConfig.Projector p, double[] v, int dOut, int dIn, double[] b, int r, boolean fp32,
            double noiseFloor) {
        return switch (p) {
            case PLAIN -> plain(v, dOut, dIn, b, r, fp32);
            case EXACT -> round(exact(v, dOut, dIn, b, r, noiseFloor), fp32);
        };
    }

    /** Fills {@code row} (d_in values) with row {@code i} of V, so V need never be held whole. */
    @FunctionalInterface
    interface Rows {
        void read(int i, double[] row);

        /** {@link #read}, and {@code ss} plus the row's squares added in column order (a reader may fuse the two). */
        default double readSquares(int i, double[] row, double ss) {
            read(i, row);
            for (double x : row) {
                ss += x * x;
            }
            return ss;
        }
    }

    /** C·B = V (Vᵀ B) / ‖V‖_F of a V held in memory; see {@link #plain(Rows, int, int, double[], int, boolean)}. */
    static double[] plain(double[] v, int dOut, int dIn, double[] b, int r, boolean fp32) {
        return plain((i, row) -> System.arraycopy(v, i * dIn, row, 0, dIn), dOut, dIn, b, r, fp32);
    }

    /**
     * C·B = V (Vᵀ B) / ‖V‖_F: 2·d_out·d_in·r flops in two passes over V's rows (Vᵀ B and ‖V‖_F, then
     * V·(VᵀB)), 2·d_in·r + 4·d_in extra doubles; null when V = 0. Every sum runs in row order, then column
     * order, so the result does not depend on how V is stored or read.
     */
    static double[] plain(Rows v, int dOut, int dIn, double[] b, int r, boolean fp32) {
        // pass 1: (Vᵀ B)ᵀ, r × d_in, so the inner loop runs along a row of V (and vectorises). Four rows
        // at a time: t + x0·b0 + x1·b1 + … is evaluated left to right, so each element gets the same
        // sums in the same order as row by row, with a quarter of the loads and stores of t.
        double[][] block = new double[ROWS_PER_UPDATE][dIn];
        double[][] vtbT = new double[r][dIn];
        double ss = 0;
        for (int i0 = 0; i0 < dOut; i0 += ROWS_PER_UPDATE) {
            int n = Math.min(ROWS_PER_UPDATE, dOut - i0);
            for (int k = 0; k < n; k++) {
                ss = v.readSquares(i0 + k, block[k], ss);
            }
            for (int c = 0; c < r; c++) {
                double[] t = vtbT[c];
                if (n == ROWS_PER_UPDATE) {
                    double[] x0 = block[0];
                    double[] x1 = block[1];
                    double[] x2 = block[2];
                    double[] x3 = block[3];
                    double b0 = b[i0 * r + c];
                    double b1 = b[(i0 + 1) * r + c];
                    double b2 = b[(i0 + 2) * r + c];
                    double b3 = b[(i0 + 3) * r + c];
                    for (int j = 0; j < dIn; j++) {
                        t[j] = t[j] + x0[j] * b0 + x1[j] * b1 + x2[j] * b2 + x3[j] * b3;
                    }
                } else {
                    for (int k = 0; k < n; k++) {
                        double[] x = block[k];
                        double bic = b[(i0 + k) * r + c];
                        for (int j = 0; j < dIn; j++) {
                            t[j] += x[j] * bic;
                        }
                    }
                }
            }
        }
        if (ss == 0) {
            return null; // no squares of float differences underflow, so this is V = 0 exactly
        }
        double[] vtb = new double[dIn * r]; // Vᵀ B, d_in × r
        for (int c = 0; c < r; c++) {
            for (int j = 0; j < dIn; j++) {
                vtb[j * r + c] = vtbT[c][j];
            }
        }
        round(vtb, fp32);
        double norm = round(Math.sqrt(ss), fp32);
        // pass 2: C·B row by row, eight (then four) columns at a time: independent sums keep the FPU busy
        double[] row = block[0];
        double[] cb = new double[dOut * r];
        for (int i = 0; i < dOut; i++) {
            v.read(i, row);
            int c = 0;
            for (; c + 8 <= r; c += 8) {
                dot8(row, vtb, r, c, cb, i * r + c);
            }
            for (; c + 4 <= r; c += 4) {
                dot4(row, vtb, r, c, cb, i * r + c);
            }
            for (; c < r; c++) {
                double s = 0;
                for (int j = 0, q = c; j < dIn; j++, q += r) {
                    s += row[j] * vtb[q];
                }
                cb[i * r + c] = s;
            }
        }
        for (int k = 0; k < cb.length; k++) {
            cb[k] /= norm;
        }
        return round(cb, fp32);
    }

    /** out[o..o+7] = Σ_j row[j]·m[j, c..c+7] for m row-major with r columns, each sum in j order. */
    private static void dot8(double[] row, double[] m, int r, int c, double[] out, int o) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        double s4 = 0;
        double s5 = 0;
        double s6 = 0;
        double s7 = 0;
        for (int j = 0; j < row.length; j++) {
            int q = j * r + c;
            double x = row[j];
            s0 += x * m[q];
            s1 += x * m[q + 1];
            s2 += x * m[q + 2];
            s3 += x * m[q + 3];
            s4 += x * m[q + 4];
            s5 += x * m[q + 5];
            s6 += x * m[q + 6];
            s7 += x * m[q + 7];
        }
        out[o] = s0;
        out[o + 1] = s1;
        out[o + 2] = s2;
        out[o + 3] = s3;
        out[o + 4] = s4;
        out[o + 5] = s5;
        out[o + 6] = s6;
        out[o + 7] = s7;
    }

    /** As {@link #dot8} for four columns. */
    private static void dot4(double[] row, double[] m, int r, int c, double[] out, int o) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        for (int j = 0; j < row.length; j++) {
            int q = j * r + c;
            double x = row[j];
            s0 += x * m[q];
            s1 += x * m[q + 1];
            s2 += x * m[q + 2];
            s3 += x * m[q + 3];
        }
        out[o] = s0;
        out[o + 1] = s1;
        out[o + 2] = s2;
        out[o + 3] = s3;
    }

    /**
     * P·B with P = V (VᵀV)⁺ Vᵀ = U Uᵀ, U an orthonormal basis of V's column space, from a Householder QR
     * of V with column pivoting (rank-revealing): P·B = Q [ (QᵀB)_{0..k-1}; 0 ], k = the numerical rank,
     * the number of pivots |R_jj| above max(max(d_out, d_in)·ε·|R_00|, noiseFloor) (pinv's default tolerance,
     * with the pivots standing in for the singular values). {@code noiseFloor} bounds the storage rounding in
     * V: a float32 W_aligned = fl(W_base + Δ) makes V = Δ + E with a full-rank E, ‖E‖₂ ≤ u·(‖W_a‖_F + ‖W_b‖_F),
     * u the dtype's unit roundoff; without the floor a low-rank Δ would look full rank and P would be I.
     * Cost about 2·d_out·d_in·min(d_out, d_in) flops; V is copied once.
     */
    static double[] exact(double[] v, int dOut, int dIn, double[] b, int r) {
        return exact(v, dOut, dIn, b, r, 0);
    }

    static double[] exact(double[] v, int dOut, int dIn, double[] b, int r, double noiseFloor) {
        // P·B = Q_r Q_rᵀ B with Q_r the rank-revealing basis of V's columns (EJML's pivoted Householder QR)
        return DenseAlgebra.columnBasis(v, dOut, dIn, noiseFloor).project(b, r);
    }

    /** G = A Aᵀ (r × r) for A (r × d_in). */
    static double[] outerGram(double[] a, int r, int dIn, boolean fp32) {
        double[] g = new double[r * r];
        for (int p = 0; p < r; p++) {
            for (int q = p; q < r; q++) {
                double s = 0;
                for (int j = 0; j < dIn; j++) {
                    s += a[p * dIn + j] * a[q * dIn + j];
                }
                g[p * r + q] = s;
                g[q * r + p] = s;
            }
        }
        return round(g, fp32);
    }

    /** Xᵀ Y (r × r) for X, Y (m × r). */
    static double[] innerGram(double[] x, double[] y, int m, int r) {
        double[] g = new double[r * r];
        for (int i = 0; i < m; i++) {
            for (int p = 0; p < r; p++) {
                double xp = x[i * r + p];
                for (int q = 0; q < r; q++) {
                    g[p * r + q] += xp * y[i * r + q];
                }
            }
        }
        return g;
    }

    /**
     * ⟨X·A, Y·A⟩_F = trace(Xᵀ Y · A Aᵀ) = Σ_pq (XᵀY)_pq (AAᵀ)_qp, from X, Y (m × r) and G_A = A Aᵀ:
     * the inner product of two d_out × d_in products at the cost of r × r matrices.
     */
    static double productInner(double[] x, double[] y, int m, int r, double[] gA) {
        double[] xty = innerGram(x, y, m, r);
        double s = 0;
        for (int p = 0; p < r; p++) {
            for (int q = 0; q < r; q++) {
                s += xty[p * r + q] * gA[q * r + p];
            }
        }
        return s;
    }

    static double frobenius(double[] x) {
        double s = 0;
        for (double e : x) {
            s += e * e;
        }
        return Math.sqrt(s);
    }

    static double[] round(double[] x, boolean fp32) {
        if (fp32) {
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) x[i];
            }
        }
        return x;
    }

    static double round(double x, boolean fp32) {
        return fp32 ? (float) x : x;
    }
}
