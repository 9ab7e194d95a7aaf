package io.safetune.safelora;

import io.safetune.checkpoint.TensorInfo;
import io.safetune.checkpoint.TensorStore;

import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * The two controls every Safe LoRA figure needs beside it. Safe LoRA's plain C = V Vᵀ/‖V‖_F is not a
 * projector: it also shrinks B. Whether the safety it buys comes from the alignment directions or
 * merely from a smaller update is only visible against
 * <ul>
 *   <li>{@link #randomProjection}: B ← Q Qᵀ B on the same weights, Q a random orthonormal d_out × rank
 *       basis (no alignment information at all), and</li>
 *   <li>{@link #uniformScale}: every B scaled by one factor c, chosen by {@link #matchingScale} so the
 *       total update norm equals Safe LoRA's (the shrinkage alone, in no particular direction).</li>
 * </ul>
 * Both write a PEFT adapter folder, as {@link SafeLora#apply} does.
 */
public final class SafeLoraControls {

    private SafeLoraControls() {
    }

    /**
     * B ← Q Qᵀ B for each weight in {@code weights} (base tensor names, e.g. those Safe LoRA projected),
     * Q a Gaussian d_out × rank matrix orthonormalised, drawn from {@code seed} and the weight's name
     * (so one weight gets the same Q whatever else is projected).
     *
     * @return per projected weight, ‖Q Qᵀ B A‖_F / ‖B A‖_F (NaN when B·A = 0)
     */
    public static Map<String, Double> randomProjection(Path adapterDir, Collection<String> weights, int rank, long seed, Path outDir) {
        if (rank < 1) {
            throw new IllegalArgumentException("rank: must be >= 1, got " + rank);
        }
        try (TensorStore adapter = TensorStore.open(adapterDir.resolve(SafeLora.ADAPTER_WEIGHTS))) {
            Map<String, float[]> newB = new LinkedHashMap<>();
            Map<String, Double> ratios = new LinkedHashMap<>();
            for (String weight : weights) {
                String keyB = keyB(adapter, weight);
                TensorInfo info = adapter.info(keyB);
                int dOut = (int) info.shape()[0];
                int r = (int) info.shape()[1];
                if (rank > dOut) {
                    throw new IllegalArgumentException("rank: " + rank + " exceeds d_out " + dOut + " of " + weight);
                }
                float[] b = adapter.readFloats(keyB);
                double[] q = orthonormal(dOut, rank, new Random(seed * 1_000_003L + weight.hashCode()));
                float[] pb = project(q, dOut, rank, b, r);
                newB.put(keyB, pb);
                float[] a = adapter.readFloats(keyB.replace(".lora_B.weight", ".lora_A.weight"));
                double before = normBA(b, a, r);
                ratios.put(weight, before > 0 ? normBA(pb, a, r) / before : Double.NaN);
            }
            SafeLora.write(adapter, adapterDir, newB, outDir, tmp -> { });
            return ratios;
        }
    }

    /** ‖B A‖_F = √trace(Bᵀ B · A Aᵀ) for B d × r and A r × d_in. */
    private static double normBA(float[] b, float[] a, int r) {
        int dIn = a.length / r;
        int d = b.length / r;
        double[] ga = new double[r * r];
        double[] gb = new double[r * r];
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < r; j++) {
                double sa = 0;
                for (int c = 0; c < dIn; c++) {
                    sa += (double) a[i * dIn + c] * a[j * dIn + c];
                }
                double sb = 0;
                for (int row = 0; row < d; row++) {
                    sb += (double) b[row * r + i] * b[row * r + j];
                }
                ga[i * r + j] = sa;
                gb[i * r + j] = sb;
            }
        }
        double s = 0;
        for (int i = 0; i < r * r; i++) {
            s += ga[i] * gb[i];
        }
        return Math.sqrt(Math.max(0, s));
    }

    /** Every B multiplied by {@code factor} (so every update s·B·A by the same factor). */
    public static void uniformScale(Path adapterDir, double factor, Path outDir) {
        if (!(factor >= 0) || Double.isInfinite(factor)) {
            throw new IllegalArgumentException("factor: must be finite and >= 0, got " + factor);
        }
        try (TensorStore adapter = TensorStore.open(adapterDir.resolve(SafeLora.ADAPTER_WEIGHTS))) {
            Map<String, float[]> newB = new LinkedHashMap<>();
            for (String key : adapter.names()) {
                if (key.endsWith(".lora_B.weight")) {
                    float[] b = adapter.readFloats(key);
                    for (int i = 0; i < b.length; i++) {
                        b[i] = (float) (b[i] * factor);
                    }
                    newB.put(key, b);
                }
            }
            SafeLora.write(adapter, adapterDir, newB, outDir, tmp -> { });
        }
    }

    /**
     * c = √(Σ‖ΔW_after‖² / Σ‖ΔW_before‖²) over all adapted weights: scaling every update by c gives the
     * same total update norm as Safe LoRA's result. 1 when nothing was projected or the update is zero.
     */
    public static double matchingScale(SafeLoraResult result) {
        double before = 0;
        double after = 0;
        for (SafeLoraResult.WeightResult w : result.weights()) {
            before += w.deltaNormBefore() * w.deltaNormBefore();
            after += w.deltaNormAfter() * w.deltaNormAfter();
        }
        return before > 0 ? Math.sqrt(after / before) : 1;
    }

    private static String keyB(TensorStore adapter, String weight) {
        String module = weight.endsWith(".weight") ? weight.substring(0, weight.length() - ".weight".length()) : weight;
        String key = "base_model.model." + module + ".lora_B.weight";
        if (!adapter.contains(key)) {
            throw new IllegalArgumentException("weights: the adapter " + adapter.source() + " does not adapt " + weight
                    + " (no " + key + ")");
        }
        return key;
    }

    /** A d × k matrix (row-major) with orthonormal columns: Gaussian, then {@link #orthonormaliseColumns}. */
    static double[] orthonormal(int d, int k, Random rnd) {
        double[] q = new double[d * k];
        for (int i = 0; i < q.length; i++) {
            q[i] = rnd.nextGaussian();
        }
        return orthonormaliseColumns(q, d, k);
    }

    /**
     * Orthonormalises the k columns of the d × k row-major {@code z} in place: modified Gram-Schmidt
     * twice (Kahan: orthogonal to working precision); a column that vanishes becomes zero.
     */
    static double[] orthonormaliseColumns(double[] z, int d, int k) {
        for (int j = 0; j < k; j++) {
            for (int pass = 0; pass < 2; pass++) {
                for (int i = 0; i < j; i++) {
                    double dot = 0;
                    for (int row = 0; row < d; row++) {
                        dot += z[row * k + i] * z[row * k + j];
                    }
                    for (int row = 0; row < d; row++) {
                        z[row * k + j] -= dot * z[row * k + i];
                    }
                }
            }
            double norm = 0;
            for (int row = 0; row < d; row++) {
                norm += z[row * k + j] * z[row * k + j];
            }
            norm = Math.sqrt(norm);
            for (int row = 0; row < d; row++) {
                z[row * k + j] = norm > 0 ? z[row * k + j] / norm : 0;
            }
        }
        return z;
    }

    /** Q (Qᵀ B) for Q d × k and B d × r, both row-major; rounded to float. */
    static float[] project(double[] q, int d, int k, float[] b, int r) {
        double[] qtb = new double[k * r];
        for (int row = 0; row < d; row++) {
            for (int i = 0; i < k; i++) {
                double qv = q[row * k + i];
                for (int c = 0; c < r; c++) {
                    qtb[i * r + c] += qv * b[row * r + c];
                }
            }
        }
        float[] out = new float[d * r];
        for (int row = 0; row < d; row++) {
            for (int c = 0; c < r; c++) {
                double s = 0;
                for (int i = 0; i < k; i++) {
                    s += q[row * k + i] * qtb[i * r + c];
                }
                out[row * r + c] = (float) s;
            }
        }
        return out;
    }
}
