package io.safetune.safelora;

import io.safetune.checkpoint.CheckpointException;
import io.safetune.checkpoint.DType;
import io.safetune.checkpoint.TensorInfo;
import io.safetune.checkpoint.TensorStore;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Rows of V = W_aligned − W_base (d_out × d_in) in double, or rounded to float32, for the plain
 * projector's two passes ({@link Projectors#plain(Projectors.Rows, int, int, double[], int, boolean)}).
 * BF16 and F32 tensors are read from the file a block of rows at a time with positional reads, never
 * through a memory map: mapped pages count in the resident set until the mapping is garbage-collected
 * (Java 17 cannot unmap), and a model's worth of them piled up (3.4 GB peak RSS on 7B's q/v weights).
 *
 * <p>With a {@link Scratch}, the first pass keeps the rows it reads in float32, so the second pass
 * reads memory: every weight is read from the file once, and V costs 4 · d_out · d_in bytes per core
 * (64 MB at 4096 × 4096), reused from weight to weight. A difference of two BF16 values fits float32's
 * 24 bits unless their exponents lie more than 15 apart (a weight near zero beside a large one: 10–23
 * of 16.8 M per weight in the 7B benchmark); such values are kept beside it in double, up to
 * {@link #maxOdd} of them, beyond which the second pass reads the file again. Either way the rows,
 * and so every sum over them, are the same numbers.
 */
final class DeltaRows implements Projectors.Rows, AutoCloseable {

    /** Per-thread buffers, reused across weights: V in float32 between the passes, and the read blocks. */
    static final class Scratch {
        /** Most bytes of V one scratch keeps: larger weights are read twice instead. */
        static final long MAX_BYTES = 128L << 20;

        private float[] v = new float[0];
        private int[] oddIndex = new int[64]; // positions (i·d_in + j) whose value float32 cannot hold
        private double[] oddValue = new double[64]; // and their values
        private ByteBuffer alignedBlock;
        private ByteBuffer baseBlock;

        /** Whether a d_out × d_in weight's V may be kept. */
        static boolean fits(long dOut, long dIn) {
            return 4 * dOut * dIn <= MAX_BYTES;
        }

        private float[] v(int n) {
            if (v.length < n) {
                v = new float[n];
            }
            return v;
        }

        private static ByteBuffer block(ByteBuffer b, int bytes) {
            return b != null && b.capacity() >= bytes ? b : ByteBuffer.allocateDirect(bytes);
        }
    }

    private final RowReader aligned;
    private final RowReader base;
    private final boolean fp32;
    private final boolean bf16;
    private final int dOut;
    private final int dIn;
    private final float[] wa;
    private final float[] wb;
    private final short[] ra;
    private final short[] rb;
    private final Scratch scratch;
    private final float[] kept; // V's rows 0 … stored-1 in float32, or null
    private int stored; // rows kept so far, in order
    private int odd; // kept values float32 cannot hold, in the scratch's odd arrays in position order
    private boolean spilled; // more of them than maxOdd: the second pass reads the file

    /** {@code scratch}: keep V between the passes (null: read the file twice). */
    DeltaRows(SafeLora.Target t, TensorStore base, TensorStore aligned, boolean fp32, Scratch scratch) {
        this.dOut = t.dOut();
        this.dIn = t.dIn();
        // allocations before the files are opened, so a failure leaves nothing open
        this.kept = scratch != null && Scratch.fits(dOut, dIn) ? scratch.v(dOut * dIn) : null;
        this.scratch = kept != null ? scratch : null;
        this.wa = new float[dIn];
        this.wb = new float[dIn];
        this.ra = new short[dIn];
        this.rb = new short[dIn];
        this.aligned = new RowReader(aligned, t.weight(), dOut, dIn, scratch, true);
        try {
            this.base = new RowReader(base, t.weight(), dOut, dIn, scratch, false);
        } catch (RuntimeException | Error e) {
            this.aligned.close();
            throw e;
        }
        this.fp32 = fp32;
        this.bf16 = this.aligned.isBf16() && this.base.isBf16();
    }

    @Override
    public void read(int i, double[] row) {
        if (i >= stored || spilled) {
            readSquares(i, row, 0);
            return;
        }
        int k = i * dIn;
        for (int j = 0; j < dIn; j++) {
            row[j] = kept[k + j];
        }
        // the few values float32 rounded: their doubles, from the first position in this row on
        int o = Arrays.binarySearch(scratch.oddIndex, 0, odd, k);
        for (o = o >= 0 ? o : -o - 1; o < odd && scratch.oddIndex[o] < k + dIn; o++) {
            row[scratch.oddIndex[o] - k] = scratch.oddValue[o];
        }
    }

    /** Reads row {@code i} from the file, widened and subtracted in one loop with the sum of squares. */
    @Override
    public double readSquares(int i, double[] row, double ss) {
        boolean keep = kept != null && i == stored;
        int k = i * dIn;
        if (bf16) { // the common case (real checkpoints)
            aligned.bf16(i, ra);
            base.bf16(i, rb);
            for (int j = 0; j < dIn; j++) {
                // BF16 is the top half of a float32: widening is exact, and so is the difference in double
                double d = (double) Float.intBitsToFloat(ra[j] << 16) - (double) Float.intBitsToFloat(rb[j] << 16);
                double x = fp32 ? (float) d : d;
                row[j] = x;
                ss += x * x;
                if (keep) {
                    keep(k + j, x);
                }
            }
        } else {
            aligned.floats(i, wa);
            base.floats(i, wb);
            for (int j = 0; j < dIn; j++) {
                double d = (double) wa[j] - wb[j]; // exact in double for float inputs
                double x = fp32 ? (float) d : d;
                row[j] = x;
                ss += x * x;
                if (keep) {
                    keep(k + j, x);
                }
            }
        }
        if (keep) {
            stored++;
        }
        return ss;
    }

    /** Keeps V's value at {@code position} in float32, and beside it in double where float32 rounds it. */
    private void keep(int position, double value) {
        float f = (float) value;
        kept[position] = f;
        if (f != value) {
            keepOdd(position, value);
        }
    }

    private void keepOdd(int position, double value) {
        if (odd == maxOdd(dOut * dIn)) {
            spilled = true;
            return;
        }
        if (odd == scratch.oddIndex.length) {
            scratch.oddIndex = Arrays.copyOf(scratch.oddIndex, 2 * odd);
            scratch.oddValue = Arrays.copyOf(scratch.oddValue, 2 * odd);
        }
        scratch.oddIndex[odd] = position;
        scratch.oddValue[odd++] = value;
    }

    /** Whether the second pass reads V from memory: every row kept, and no more odd values than {@link #maxOdd}. */
    boolean keptWhole() {
        return kept != null && stored == dOut && !spilled;
    }

    /**
     * Most values of an n-value weight kept beside float32 (12 bytes each): 1 in 64. BF16 weights have a
     * few dozen (exponents more than 15 apart); a float32 checkpoint, where most differences need more
     * than 24 bits, spills and is read twice.
     */
    static int maxOdd(int n) {
        return Math.max(64, n / 64);
    }

    /** How many kept values float32 could not hold (kept beside it in double). */
    int keptInDouble() {
        return odd;
    }

    @Override
    public void close() {
        aligned.close();
        base.close();
    }

    /**
     * One d_out × d_in tensor, row by row. BF16 and F32 are read a block of rows at a time into a
     * direct buffer (the scratch's, or its own); F16 and F64 are widened whole by
     * {@link TensorStore#readFloats}.
     */
    private static final class RowReader implements AutoCloseable {
        /** Bytes per read: 64 rows of 4096 BF16 values. */
        private static final int BLOCK_BYTES = 1 << 19;

        private final TensorInfo info;
        private final int dOut;
        private final int dIn;
        private final int rowBytes;
        private final float[] whole; // F16, F64
        private final FileChannel channel; // BF16, F32
        private final ByteBuffer block;
        private final int rowsPerBlock;
        private final ShortBuffer shorts;
        private final FloatBuffer floats;
        private short[] raw;
        private int first = -1; // first row in the block

        RowReader(TensorStore store, String name, int dOut, int dIn, Scratch scratch, boolean alignedSide) {
            this.info = store.info(name);
            this.dOut = dOut;
            this.dIn = dIn;
            this.rowBytes = dIn * info.dtype().bytes();
            if (info.dtype() != DType.BF16 && info.dtype() != DType.F32) {
                whole = store.readFloats(name);
                channel = null;
                block = null;
                rowsPerBlock = 0;
                shorts = null;
                floats = null;
                return;
            }
            whole = null;
            rowsPerBlock = Math.max(1, Math.min(dOut, BLOCK_BYTES / rowBytes));
            int bytes = rowsPerBlock * rowBytes;
            if (scratch == null) {
                block = ByteBuffer.allocateDirect(bytes);
            } else if (alignedSide) {
                block = scratch.alignedBlock = Scratch.block(scratch.alignedBlock, bytes);
            } else {
                block = scratch.baseBlock = Scratch.block(scratch.baseBlock, bytes);
            }
            block.order(ByteOrder.LITTLE_ENDIAN).clear();
            shorts = block.asShortBuffer();
            floats = block.asFloatBuffer();
            try {
                channel = FileChannel.open(info.file(), StandardOpenOption.READ);
            } catch (IOException e) {
                throw new CheckpointException(info.file(), name, "cannot open: " + e.getMessage(), e);
            }
        }

        boolean isBf16() {
            return info.dtype() == DType.BF16;
        }

        /** Row {@code i}'s BF16 bit patterns (BF16 tensors only). */
        void bf16(int i, short[] row) {
            load(i);
            shorts.get((i - first) * dIn, row, 0, dIn);
        }

        /** Row {@code i} widened to float32. */
        void floats(int i, float[] row) {
            if (whole != null) {
                System.arraycopy(whole, i * dIn, row, 0, dIn);
            } else if (isBf16()) {
                raw = raw != null ? raw : new short[dIn];
                bf16(i, raw);
                for (int j = 0; j < dIn; j++) {
                    row[j] = Float.intBitsToFloat(raw[j] << 16);
                }
            } else {
                load(i);
                floats.get((i - first) * dIn, row, 0, dIn);
            }
        }

        /** Makes the block hold row {@code i}: reads rows i, i+1, … (rows are asked for in order). */
        private void load(int i) {
            if (first >= 0 && i >= first && i < first + rowsPerBlock) {
                return;
            }
            ByteBuffer view = block.duplicate().clear().limit(Math.min(rowsPerBlock, dOut - i) * rowBytes);
            long pos = info.start() + (long) i * rowBytes;
            try {
                while (view.hasRemaining()) {
                    if (channel.read(view, pos + view.position()) < 0) {
                        throw new CheckpointException(info.file(), info.name(), "truncated file");
                    }
                }
            } catch (IOException e) {
                throw new CheckpointException(info.file(), info.name(), "cannot read tensor data: " + e.getMessage(), e);
            }
            first = i;
        }

        @Override
        public void close() {
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // a read-only channel has nothing left to write
                }
            }
        }
    }
}
