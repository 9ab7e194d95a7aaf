package io.safetune.safelora;

import io.safetune.linalg.DenseAlgebra;

import io.safetune.checkpoint.CheckpointException;
import io.safetune.checkpoint.TensorInfo;
import io.safetune.checkpoint.TensorStore;
import io.safetune.display.Charts;
import io.safetune.display.Displayable;

import org.knowm.xchart.internal.chartpart.Chart;

import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;

/**
 * A diagnostic beside Safe LoRA: for each adapted weight, the share of the update's energy
 * ‖U_kᵀ·B·A‖_F² / ‖B·A‖_F² that lies in the span U_k of V's top-k left singular vectors
 * (V = W_aligned − W_base), next to the share of V's own energy there (Σ_{i≤k} σ_i² / ‖V‖_F²).
 * A share near the one a random k-dimensional subspace gets (k / d_out) says the fine-tune does not
 * move along the alignment directions; Safe LoRA's C then acts mostly as a shrinkage.
 *
 * <p>U_k comes from block subspace iteration on V Vᵀ with a Rayleigh–Ritz step (only products with V
 * and Vᵀ, never V Vᵀ itself), to a relative change of the top-k eigenvalues below 1e-12; when
 * k + 10 ≥ d_out the block spans everything and one Rayleigh–Ritz step is exact.
 */
public final class UpdateEnergy {

    private static final int MAX_ITERATIONS = 2000;

    private UpdateEnergy() {
    }

    /**
     * One weight.
     *
     * @param updateShare    ‖U_kᵀ B A‖² / ‖B A‖²; NaN when V = 0 or B·A = 0
     * @param alignmentShare Σ_{i≤k} σ_i² / ‖V‖²; NaN when V = 0
     * @param randomShare    k / d_out, the expected share of a random update
     * @param iterations     subspace iterations used
     */
    public record Row(int layer, String module, String weight, double updateShare, double alignmentShare,
            double randomShare, int iterations) {
    }

    /** The diagnostic for every weight of an adapter; renders as a table and a per-weight chart. */
    public record Result(int k, List<Row> rows) implements Displayable {

        public Result {
            rows = List.copyOf(rows);
        }

        @Override
        public String title() {
            return "Update energy in the top-" + k + " directions of V = W_aligned − W_base";
        }

        @Override
        public Table table() {
            Table t = Table.create(title(), IntColumn.create("layer"), StringColumn.create("module"),
                    DoubleColumn.create("update share"), DoubleColumn.create("V's own share"), DoubleColumn.create("random share"));
            for (Row r : rows) {
                t.intColumn("layer").append(r.layer());
                t.stringColumn("module").append(r.module());
                t.doubleColumn("update share").append(r.updateShare());
                t.doubleColumn("V's own share").append(r.alignmentShare());
                t.doubleColumn("random share").append(r.randomShare());
            }
            return t;
        }

        @Override
        public List<Chart<?, ?>> charts() {
            List<String> names = rows.stream().map(r -> r.layer() + "." + r.module()).toList();
            Map<String, List<Double>> series = new LinkedHashMap<>();
            series.put("update", rows.stream().map(r -> nanToZero(r.updateShare())).toList());
            series.put("V itself", rows.stream().map(r -> nanToZero(r.alignmentShare())).toList());
            series.put("random subspace", rows.stream().map(Row::randomShare).toList());
            return List.of(Charts.bars("Energy share in V's top-" + k + " directions (" + rows.size() + " weights)",
                    "layer.module", "share of ‖·‖_F²",
                    names, series));
        }

        private static double nanToZero(double v) {
            return Double.isNaN(v) ? 0 : v;
        }
    }

    /** The diagnostic for the adapter in {@code adapterDir} (PEFT format) against a base/aligned pair. */
    public static Result compute(Path base, Path aligned, Path adapterDir, int k) {
        if (k < 1) {
            throw new IllegalArgumentException("k: must be >= 1, got " + k);
        }
        Path file = adapterDir.resolve(SafeLora.ADAPTER_WEIGHTS);
        try (TensorStore adapter = TensorStore.open(file); TensorStore b = TensorStore.open(base);
                TensorStore a = TensorStore.open(aligned)) {
            List<Row> rows = new ArrayList<>();
            for (String keyA : adapter.names()) {
                Matcher m = SafeLora.KEY.matcher(keyA);
                if (!m.matches() || !m.group(2).equals("A")) {
                    continue;
                }
                String module = m.group(1);
                String weight = module + ".weight";
                String keyB = "base_model.model." + module + ".lora_B.weight";
                for (TensorStore s : List.of(b, a)) {
                    if (!s.contains(weight)) {
                        throw new CheckpointException(s.source(), weight, "missing tensor (the adapter " + file + " adapts it)");
                    }
                }
                TensorInfo w = b.info(weight);
                int dOut = (int) w.shape()[0];
                int dIn = (int) w.shape()[1];
                int r = (int) adapter.info(keyA).shape()[0];
                float[] wa = a.readFloats(weight);
                float[] wb = b.readFloats(weight);
                double[] v = new double[wa.length];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (double) wa[i] - wb[i];
                }
                rows.add(row(SafeLora.layerOf(module), SafeLora.moduleName(module),
                        weight, v, dOut, dIn, toDoubles(adapter.readFloats(keyA)), toDoubles(adapter.readFloats(keyB)), r,
                        Math.min(k, dOut)));
            }
            rows.sort(Comparator.comparingInt(Row::layer));
            return new Result(k, rows);
        }
    }

    static Row row(int layer, String module, String weight, double[] v, int dOut, int dIn, double[] a, double[] b, int r,
            int k) {
        double normV2 = 0;
        for (double x : v) {
            normV2 += x * x;
        }
        double random = (double) k / dOut;
        if (normV2 == 0) {
            return new Row(layer, module, weight, Double.NaN, Double.NaN, random, 0);
        }
        TopK top = topLeftSingular(v, dOut, dIn, k);
        double vShare = 0;
        for (int i = 0; i < k; i++) {
            vShare += top.eigenvalues[i];
        }
        double[] gA = new double[r * r]; // A Aᵀ
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < r; j++) {
                double s = 0;
                for (int c = 0; c < dIn; c++) {
                    s += a[i * dIn + c] * a[j * dIn + c];
                }
                gA[i * r + j] = s;
            }
        }
        double[] ub = new double[k * r]; // U_kᵀ B
        for (int row = 0; row < dOut; row++) {
            for (int i = 0; i < k; i++) {
                double u = top.vectors[row * k + i];
                for (int c = 0; c < r; c++) {
                    ub[i * r + c] += u * b[row * r + c];
                }
            }
        }
        double inside = traceGram(ub, k, r, gA);
        double total = traceGram(b, dOut, r, gA);
        double share = total > 0 ? Math.min(1, Math.max(0, inside / total)) : Double.NaN;
        return new Row(layer, module, weight, share, Math.min(1, vShare / normV2), random, top.iterations);
    }

    /** trace(X gA Xᵀ) = ‖X A‖_F² for X m × r. */
    private static double traceGram(double[] x, int m, int r, double[] gA) {
        double s = 0;
        for (int row = 0; row < m; row++) {
            for (int i = 0; i < r; i++) {
                double xi = x[row * r + i];
                for (int j = 0; j < r; j++) {
                    s += xi * gA[i * r + j] * x[row * r + j];
                }
            }
        }
        return s;
    }

    /** Top-k eigenpairs of V Vᵀ: eigenvalues σ_i² descending, vectors d_out × k row-major. */
    record TopK(double[] eigenvalues, double[] vectors, int iterations) {
    }

    static TopK topLeftSingular(double[] v, int dOut, int dIn, int k) {
        int p = Math.min(dOut, k + 10);
        double[] q = SafeLoraControls.orthonormal(dOut, p, new Random(17));
        double[] previous = null;
        for (int it = 1; ; it++) {
            double[] z = vvt(v, dOut, dIn, q, p);
            double[] ritz = rayleighRitz(v, dOut, dIn, DenseAlgebra.thinQ(z, dOut, p), p);
            double[] lambda = java.util.Arrays.copyOf(ritz, p);
            q = java.util.Arrays.copyOfRange(ritz, p, ritz.length);
            boolean done = p == dOut;
            if (!done && previous != null) {
                double change = 0;
                for (int i = 0; i < k; i++) {
                    change = Math.max(change, Math.abs(lambda[i] - previous[i]) / Math.max(lambda[0], Double.MIN_NORMAL));
                }
                done = change < 1e-12;
            }
            if (done || it >= MAX_ITERATIONS) {
                double[] vec = new double[dOut * k];
                for (int row = 0; row < dOut; row++) {
                    System.arraycopy(q, row * p, vec, row * k, k);
                }
                return new TopK(java.util.Arrays.copyOf(lambda, k), vec, it);
            }
            previous = lambda;
        }
    }

    /** Vᵀ Q (d_in × p) for Q d_out × p. */
    private static double[] vtq(double[] v, int dOut, int dIn, double[] q, int p) {
        double[] w = new double[dIn * p];
        for (int row = 0; row < dOut; row++) {
            for (int c = 0; c < dIn; c++) {
                double x = v[row * dIn + c];
                for (int j = 0; j < p; j++) {
                    w[c * p + j] += x * q[row * p + j];
                }
            }
        }
        return w;
    }

    /** V (Vᵀ Q) for Q d_out × p. */
    private static double[] vvt(double[] v, int dOut, int dIn, double[] q, int p) {
        double[] w = vtq(v, dOut, dIn, q, p);
        double[] z = new double[dOut * p];
        for (int row = 0; row < dOut; row++) {
            for (int c = 0; c < dIn; c++) {
                double x = v[row * dIn + c];
                for (int j = 0; j < p; j++) {
                    z[row * p + j] += x * w[c * p + j];
                }
            }
        }
        return z;
    }

    /**
     * Rayleigh–Ritz on the span of Q: T = (VᵀQ)ᵀ(VᵀQ), T = E Λ Eᵀ (EJML), returns [Λ descending (p), Q·E (d × p)].
     */
    private static double[] rayleighRitz(double[] v, int dOut, int dIn, double[] q, int p) {
        double[] w = vtq(v, dOut, dIn, q, p);
        double[] t = new double[p * p];
        for (int i = 0; i < p; i++) {
            for (int j = i; j < p; j++) {
                double s = 0;
                for (int c = 0; c < dIn; c++) {
                    s += w[c * p + i] * w[c * p + j];
                }
                t[i * p + j] = s;
                t[j * p + i] = s;
            }
        }
        DenseAlgebra.Eigen eig = DenseAlgebra.symmetricEigen(t, p); // descending
        double[] out = new double[p + dOut * p];
        for (int j = 0; j < p; j++) {
            out[j] = Math.max(0, eig.values()[j]);
            for (int row = 0; row < dOut; row++) {
                double s = 0;
                for (int i = 0; i < p; i++) {
                    s += q[row * p + i] * eig.vectors()[i * p + j];
                }
                out[p + row * p + j] = s;
            }
        }
        return out;
    }

    private static double[] toDoubles(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            d[i] = x[i];
        }
        return d;
    }
}
