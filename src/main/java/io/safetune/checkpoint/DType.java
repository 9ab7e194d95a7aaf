package io.safetune.checkpoint;

import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * Every element type the safetensors format defines, with its size in bits.
 *
 * <p>All of them parse, so that a checkpoint carrying a tensor we never read (FP8 scales, U16 token
 * tables, a packed F4 block) still opens and its byte ranges are still checked. Only the float types
 * can be read as weights; {@link TensorStore#read} refuses the rest by name.
 */
public enum DType {
    BOOL(8), F4(4), F6_E2M3(6), F6_E3M2(6), U8(8), I8(8), F8_E5M2(8), F8_E4M3(8), F8_E8M0(8),
    I16(16), U16(16), F16(16), BF16(16), I32(32), U32(32), F32(32), C64(64), F64(64), I64(64), U64(64);

    /** What a dtype name must look like before we quote it back in an error (it comes from the file). */
    private static final Pattern QUOTABLE = Pattern.compile("[A-Za-z0-9_]{1,16}");

    private final int bits;

    DType(int bits) {
        this.bits = bits;
    }

    public int bits() {
        return bits;
    }

    /** Bytes per element; only the types that fill whole bytes have one. */
    public int bytes() {
        if (bits % 8 != 0) {
            throw new IllegalStateException(this + " is a sub-byte type (" + bits + " bits per element)");
        }
        return bits / 8;
    }

    /** True for the types that read as floats (widened to F32): the only ones a weight may have. */
    public boolean isFloat() {
        return this == F64 || this == F32 || this == F16 || this == BF16;
    }

    static DType parse(String name, Path file, String tensor) {
        try {
            return valueOf(name);
        } catch (IllegalArgumentException | NullPointerException e) {
            String shown = name != null && QUOTABLE.matcher(name).matches() ? "'" + name + "'" : "(not a dtype name)";
            throw new CheckpointException(file, tensor, "unsupported dtype " + shown);
        }
    }
}
