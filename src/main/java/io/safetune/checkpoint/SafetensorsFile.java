package io.safetune.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.MappedByteBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/**
 * One {@code .safetensors} file, read lazily: the JSON header is parsed and checked on open, and each
 * tensor is memory-mapped only while it is read. Files of any size work (real 7B shards are 5–10 GB;
 * DJL's own {@code NDList.decode} stops at 2 GB and cannot read BF16).
 *
 * <p>Every float type is widened to float32 on read: DJL cannot hold BF16 arrays (it aborts the JVM),
 * and all of our arithmetic runs in fp32 or fp64 anyway.
 */
public final class SafetensorsFile implements AutoCloseable {

    /** Refuse headers above 100 MB, as the reference library does: anything larger is corruption. */
    private static final long MAX_HEADER = 100L * 1024 * 1024;

    private final Path path;
    private final FileChannel channel;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, FileChannel channel, Map<String, TensorInfo> tensors,
            Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Opens and validates the header; throws {@link CheckpointException} naming the fault. */
    public static SafetensorsFile open(Path path) {
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(path, null, "file not found");
        } catch (IOException e) {
            throw new CheckpointException(path, null, "cannot open: " + e.getMessage(), e);
        }
        try {
            long size = ch.size();
            if (size < 8) {
                throw new CheckpointException(path, null,
                        "truncated file: " + size + " bytes, not even the 8-byte header length");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, path);
            long headerLen = lenBuf.flip().getLong();
            // The length is the file's first 8 bytes: when implausible, do not print it (it may not be
            // a safetensors file at all, and errors never echo file contents).
            if (headerLen < 2 || headerLen > MAX_HEADER) {
                throw new CheckpointException(path, null, "corrupt file: the header length is "
                        + (headerLen < 2 ? "below 2 bytes" : "above the 100 MB limit") + " (not a safetensors file?)");
            }
            if (8 + headerLen > size) {
                throw new CheckpointException(path, null, "header larger than the file: header says "
                        + headerLen + " bytes, file has " + (size - 8) + " after the length field");
            }
            ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
            readFully(ch, headerBuf, 8, path);
            long dataStart = 8 + headerLen;
            SafetensorsHeader header = SafetensorsHeader.parse(path, headerBuf.array(), dataStart, size - dataStart);
            return new SafetensorsFile(path, ch, header.tensors(), header.metadata());
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        } catch (IOException e) {
            closeQuietly(ch);
            throw new CheckpointException(path, null, "cannot read: " + e.getMessage(), e);
        }
    }

    public Path path() {
        return path;
    }

    /** Tensors in header order. */
    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    public TensorInfo info(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new CheckpointException(path, name, "missing tensor");
        }
        return t;
    }

    /**
     * Reads one tensor owned by {@code manager}: float types widened to float32, integer and bool
     * types as they are (for callers that want them; weights go through {@link TensorStore#read},
     * which accepts floats only). Other types (FP8, unsigned above 8 bits, sub-byte) are refused.
     */
    public NDArray read(String name, NDManager manager) {
        TensorInfo t = info(name);
        Shape shape = new Shape(t.shape());
        if ((t.dtype() == DType.BF16 || t.dtype() == DType.F64) && t.numel() > Integer.MAX_VALUE / 4) {
            throw new CheckpointException(path, name, "a single tensor over 2 GiB once widened to float32 is not supported");
        }
        ByteBuffer src = map(t);
        return switch (t.dtype()) {
            case F32 -> manager.create(copyDirect(src), shape, DataType.FLOAT32);
            case F16 -> {
                try (NDArray half = manager.create(copyDirect(src), shape, DataType.FLOAT16)) {
                    yield half.toType(DataType.FLOAT32, true);
                }
            }
            case BF16, F64 -> {
                ByteBuffer out = ByteBuffer.allocateDirect(Math.toIntExact(t.numel() * 4)).order(ByteOrder.nativeOrder());
                widen(t.dtype(), src, out.asFloatBuffer());
                yield manager.create(out, shape, DataType.FLOAT32);
            }
            case I64 -> manager.create(copyDirect(src), shape, DataType.INT64);
            case I32 -> manager.create(copyDirect(src), shape, DataType.INT32);
            case I8 -> manager.create(copyDirect(src), shape, DataType.INT8);
            case U8 -> manager.create(copyDirect(src), shape, DataType.UINT8);
            case BOOL -> manager.create(copyDirect(src), shape, DataType.BOOLEAN);
            case F4, F6_E2M3, F6_E3M2, F8_E5M2, F8_E4M3, F8_E8M0, I16, U16, U32, U64, C64 ->
                    throw new CheckpointException(path, name, t.dtype() + " tensors cannot be read (only floats, and I64, I32, I8, U8, BOOL)");
        };
    }

    /** Reads one float tensor into a Java array (row-major), widened to float32. */
    public float[] readFloats(String name) {
        TensorInfo t = info(name);
        if (!t.dtype().isFloat()) {
            throw new CheckpointException(path, name, "expected a float tensor (F32, F16, BF16, F64), found " + t.dtype());
        }
        ByteBuffer src = map(t); // refuses tensors over 2 GiB before the array is sized
        float[] out = new float[Math.toIntExact(t.numel())];
        widen(t.dtype(), src, FloatBuffer.wrap(out));
        return out;
    }

    private static void widen(DType dtype, ByteBuffer src, FloatBuffer dst) {
        switch (dtype) {
            case F32 -> dst.put(src.asFloatBuffer());
            case BF16 -> {
                // bf16 is the top half of an fp32: widening is exact.
                ShortBuffer s = src.asShortBuffer();
                while (s.hasRemaining()) {
                    dst.put(Float.intBitsToFloat((s.get() & 0xFFFF) << 16));
                }
            }
            case F16 -> {
                ShortBuffer s = src.asShortBuffer();
                while (s.hasRemaining()) {
                    dst.put(Half.toFloat(s.get()));
                }
            }
            case F64 -> {
                var d = src.asDoubleBuffer();
                while (d.hasRemaining()) {
                    dst.put((float) d.get());
                }
            }
            default -> throw new IllegalArgumentException("not a float type: " + dtype);
        }
    }

    private ByteBuffer map(TensorInfo t) {
        if (t.length() > Integer.MAX_VALUE) {
            throw new CheckpointException(path, t.name(), "a single tensor over 2 GiB is not supported ("
                    + t.length() + " bytes)");
        }
        try {
            MappedByteBuffer m = channel.map(FileChannel.MapMode.READ_ONLY, t.start(), t.length());
            return m.order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new CheckpointException(path, t.name(), "cannot map tensor data: " + e.getMessage(), e);
        }
    }

    /** DJL wants native-order direct memory it may keep; never hand it the mapping itself. */
    private static ByteBuffer copyDirect(ByteBuffer src) {
        ByteBuffer dst = ByteBuffer.allocateDirect(src.remaining()).order(ByteOrder.nativeOrder());
        if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            dst.put(src);
        } else {
            throw new UnsupportedOperationException("big-endian hosts are not supported");
        }
        return dst.flip();
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos, Path path) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos + buf.position());
            if (n < 0) {
                throw new CheckpointException(path, null, "truncated file");
            }
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // already failing; the first error is the one to report
        }
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }
}
