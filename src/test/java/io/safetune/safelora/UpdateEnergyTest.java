package io.safetune.safelora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.safetune.testing.Fixtures;

import org.junit.jupiter.api.Test;

import java.util.Random;

/** The energy-in-top-k diagnostic against matrices whose singular vectors are known by construction. */
class UpdateEnergyTest {

    /** V = U diag(s) Wᵀ with orthonormal U (d_out × n), W (d_in × n). */
    private static double[] matrix(double[] u, double[] w, double[] s, int dOut, int dIn) {
        int n = s.length;
        double[] v = new double[dOut * dIn];
        for (int i = 0; i < dOut; i++) {
            for (int j = 0; j < dIn; j++) {
                double x = 0;
                for (int c = 0; c < n; c++) {
                    x += u[i * n + c] * s[c] * w[j * n + c];
                }
                v[i * dIn + j] = x;
            }
        }
        return v;
    }

    private void checkKnownShares(int dOut, int dIn, int k) {
        int n = 12;
        double[] u = SafeLoraControls.orthonormal(dOut, n, new Random(1));
        double[] w = SafeLoraControls.orthonormal(dIn, n, new Random(2));
        double[] s = new double[n];
        double total = 0;
        double top = 0;
        for (int c = 0; c < n; c++) {
            s[c] = 10.0 / (c + 1);
            total += s[c] * s[c];
            top += c < k ? s[c] * s[c] : 0;
        }
        double[] v = matrix(u, w, s, dOut, dIn);
        // B (r = 2): column 0 along u_0 (inside), column 1 along u_{k+1} (outside); A rows orthonormal, so
        // ‖B A‖² = ‖B‖² and the share inside is 3² / (3² + 4²)
        int r = 2;
        double[] b = new double[dOut * r];
        for (int i = 0; i < dOut; i++) {
            b[i * r] = 3 * u[i * n];
            b[i * r + 1] = 4 * u[i * n + k + 1];
        }
        double[] aT = SafeLoraControls.orthonormal(dIn, r, new Random(5)); // d_in × r
        double[] a = new double[r * dIn];
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < dIn; j++) {
                a[i * dIn + j] = aT[j * r + i];
            }
        }
        UpdateEnergy.Row row = UpdateEnergy.row(0, "q_proj", "w", v, dOut, dIn, a, b, r, k);
        assertEquals(9.0 / 25, row.updateShare(), 1e-9);
        assertEquals(top / total, row.alignmentShare(), 1e-9);
        assertEquals((double) k / dOut, row.randomShare(), 0);
    }

    @Test
    void sharesMatchTheConstructionWhenTheBlockSpansEverything() {
        checkKnownShares(14, 20, 3); // p = min(14, 13) = 13 < 14: iterates; k + 10 ≥ d_out below
        checkKnownShares(12, 20, 3);
    }

    @Test
    void subspaceIterationConvergesOnLargerMatrices() {
        checkKnownShares(200, 150, 4);
    }

    @Test
    void topEigenvaluesAgreeWithAFullJacobiDecomposition() {
        int dOut = 60;
        int dIn = 40;
        Random rnd = new Random(9);
        double[] v = new double[dOut * dIn];
        for (int i = 0; i < v.length; i++) {
            v[i] = rnd.nextGaussian();
        }
        // the reference: every eigenvalue of V Vᵀ, as σ² from a full SVD (another algorithm than the iteration's)
        double[] sigma = io.safetune.linalg.DenseAlgebra.singularValues(v, dOut, dIn);
        double[] all = new double[dOut];
        for (int i = 0; i < sigma.length; i++) {
            all[i] = sigma[i] * sigma[i];
        }
        java.util.Arrays.sort(all);
        UpdateEnergy.TopK top = UpdateEnergy.topLeftSingular(v, dOut, dIn, 5);
        for (int i = 0; i < 5; i++) {
            assertEquals(all[dOut - 1 - i], top.eigenvalues()[i], 1e-8 * all[dOut - 1], "eigenvalue " + i);
        }
    }

    @Test
    void fixtureAdapterHasOneRowPerWeightAndSharesInRange() {
        UpdateEnergy.Result r = UpdateEnergy.compute(Fixtures.get("llama-tiny"), Fixtures.get("llama-tiny-aligned"),
                Fixtures.get("llama-tiny-lora"), 2);
        assertTrue(r.rows().size() > 0);
        for (UpdateEnergy.Row row : r.rows()) {
            assertTrue(row.updateShare() >= 0 && row.updateShare() <= 1, row.toString());
            assertTrue(row.alignmentShare() > 0 && row.alignmentShare() <= 1, row.toString());
        }
        assertEquals(r.rows().size(), r.table().rowCount());
        assertTrue(r.toHtml().contains("data:image/png;base64,"));
    }
}
