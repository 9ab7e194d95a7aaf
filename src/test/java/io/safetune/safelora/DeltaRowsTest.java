package io.safetune.safelora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.safetune.checkpoint.DType;
import io.safetune.checkpoint.SafetensorsWriter;
import io.safetune.checkpoint.TensorStore;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The plain projector's C·B, from V's rows read once and kept (a scratch), read twice (none), and from
 * V in memory, against the textbook loops in the order the projector promises: bit for bit. The weights
 * span several read blocks (302 rows of 1024: 256 BF16 rows or 128 F32 rows per block), 302 rows leave a
 * tail after the four-row updates, one scratch serves weights of both dtypes and two shapes in turn, one
 * BF16 weight holds a difference float32 cannot hold (kept beside it in double), and the F32 weights'
 * differences mostly need more than float32's 24 bits (too many to keep beside it: read twice).
 */
class DeltaRowsTest {

    private static final int D_OUT = 302;
    private static final int D_IN = 1024;
    private static final int R = 8;

    @TempDir
    Path tmp;

    private static float[] gaussian(Random rng, int n, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (scale * rng.nextGaussian());
        }
        return x;
    }

    /** Two weights, "w0" and "w1", and the first rows of w0 as a smaller "w2", in one file of the given dtype. */
    private Path checkpoint(String name, DType dtype, float[] w0, float[] w1) {
        Path file = tmp.resolve(name + ".safetensors");
        long[] shape = {D_OUT, D_IN};
        float[] w2 = Arrays.copyOf(w0, SMALL_OUT * D_IN);
        SafetensorsWriter.write(file, List.of(SafetensorsWriter.Entry.ofFloats("w0", shape, () -> w0, dtype),
                SafetensorsWriter.Entry.ofFloats("w1", shape, () -> w1, dtype),
                SafetensorsWriter.Entry.ofFloats("w2", new long[] {SMALL_OUT, D_IN}, () -> w2, dtype)), Map.of());
        return file;
    }

    /** Rows of the smaller weight, read after the larger ones with the same scratch. */
    private static final int SMALL_OUT = 7;

    private static int rows(String weight) {
        return weight.equals("w2") ? SMALL_OUT : D_OUT;
    }

    private static SafeLora.Target target(String weight) {
        return new SafeLora.Target("m", weight, "a", "b", 0, rows(weight), D_IN, R);
    }

    /**
     * C·B = V (Vᵀ B) / ‖V‖_F as three plain loops: ‖V‖² over rows then columns, (Vᵀ B)_jc summed over
     * rows in order, (V·VᵀB)_ic summed over columns in order; float32 rounding where the projector rounds.
     */
    private static double[] textbook(double[] v, int dOut, double[] b, boolean fp32) {
        double ss = 0;
        double[] vtb = new double[D_IN * R];
        for (int i = 0; i < dOut; i++) {
            for (int j = 0; j < D_IN; j++) {
                ss += v[i * D_IN + j] * v[i * D_IN + j];
            }
            for (int c = 0; c < R; c++) {
                for (int j = 0; j < D_IN; j++) {
                    vtb[j * R + c] += v[i * D_IN + j] * b[i * R + c];
                }
            }
        }
        Projectors.round(vtb, fp32);
        double norm = Projectors.round(Math.sqrt(ss), fp32);
        double[] cb = new double[dOut * R];
        for (int i = 0; i < dOut; i++) {
            for (int c = 0; c < R; c++) {
                double s = 0;
                for (int j = 0; j < D_IN; j++) {
                    s += v[i * D_IN + j] * vtb[j * R + c];
                }
                cb[i * R + c] = s / norm;
            }
        }
        return Projectors.round(cb, fp32);
    }

    @Test
    void keptRowsRowsReadTwiceAndVInMemoryAllGiveTheTextbookSumsBitForBit() {
        Random rng = new Random(7);
        float[] b0 = gaussian(rng, D_OUT * D_IN, 0.02);
        float[] b1 = gaussian(rng, D_OUT * D_IN, 0.02);
        float[] a0 = b0.clone();
        float[] a1 = b1.clone();
        float[] noise0 = gaussian(rng, a0.length, 0.004);
        float[] noise1 = gaussian(rng, a1.length, 0.004);
        for (int i = 0; i < a0.length; i++) {
            a0[i] += noise0[i];
            a1[i] += noise1[i];
        }
        a1[5 * D_IN + 7] = 0x1p20f; // minus a base of about 0.02: more significant bits than float32 has
        b1[5 * D_IN + 7] = 0x1.4p-6f;
        double[] bLora = new double[D_OUT * R];
        for (int i = 0; i < bLora.length; i++) {
            bLora[i] = rng.nextGaussian();
        }
        DeltaRows.Scratch scratch = new DeltaRows.Scratch();
        for (DType dtype : List.of(DType.BF16, DType.F32, DType.BF16)) {
            try (TensorStore base = TensorStore.open(checkpoint("base-" + dtype, dtype, b0, b1));
                    TensorStore aligned = TensorStore.open(checkpoint("aligned-" + dtype, dtype, a0, a1))) {
                for (String w : List.of("w0", "w1", "w2")) {
                    int dOut = rows(w);
                    for (boolean fp32 : new boolean[] {false, true}) {
                        String what = dtype + " " + w + " fp32=" + fp32;
                        double[] v = new double[dOut * D_IN];
                        float[] wa = aligned.readFloats(w);
                        float[] wb = base.readFloats(w);
                        for (int i = 0; i < v.length; i++) {
                            double d = (double) wa[i] - wb[i];
                            v[i] = fp32 ? (float) d : d;
                        }
                        double[] expected = textbook(v, dOut, bLora, fp32);
                        double[] kept;
                        try (DeltaRows rows = new DeltaRows(target(w), base, aligned, fp32, scratch)) {
                            kept = Projectors.plain(rows, dOut, D_IN, bLora, R, fp32);
                            if (fp32) {
                                assertTrue(rows.keptWhole(), what + ": V kept");
                                assertEquals(0, rows.keptInDouble(), what);
                            } else if (dtype == DType.BF16) {
                                assertTrue(rows.keptWhole(), what + ": V kept");
                                assertEquals(w.equals("w1"), rows.keptInDouble() >= 1, what + ": 2^20 - 0.02 is not a float32");
                            } else {
                                assertFalse(rows.keptWhole(), what + ": " + rows.keptInDouble() + " values need double: read twice");
                            }
                        }
                        double[] twice;
                        try (DeltaRows rows = new DeltaRows(target(w), base, aligned, fp32, null)) {
                            twice = Projectors.plain(rows, dOut, D_IN, bLora, R, fp32);
                            assertFalse(rows.keptWhole());
                        }
                        assertArrayEquals(expected, kept, 0, what + ": kept rows");
                        assertArrayEquals(expected, twice, 0, what + ": rows read twice");
                        assertArrayEquals(expected, Projectors.plain(v, dOut, D_IN, bLora, R, fp32), 0, what + ": V in memory");
                    }
                }
            }
        }
    }

    @Test
    void aWeightTooLargeToKeepIsReadTwice() {
        // 7B's q/v: 64 MB of float32 kept per core
        assertTrue(DeltaRows.Scratch.fits(4096, 4096));
        assertFalse(DeltaRows.Scratch.fits(8192, 8192)); // 70B's q: 256 MB, read twice
        assertEquals(128L << 20, DeltaRows.Scratch.MAX_BYTES);
        assertEquals(4832, DeltaRows.maxOdd(D_OUT * D_IN)); // 1 in 64
        assertEquals(64, DeltaRows.maxOdd(1000));
    }
}
