package io.safetune.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON header of a safetensors file, checked by the rules of the format and of its reference
 * reader (Hugging Face's Rust {@code safetensors}), so that a file it refuses is refused here too:
 *
 * <ul>
 *   <li>the header is UTF-8, starts with '{' and is one JSON object, padded at the end with spaces
 *       (0x20) only; a key may appear once;</li>
 *   <li>{@code __metadata__}, if present, maps strings to strings;</li>
 *   <li>each tensor has a known dtype, a shape of non-negative integers and two non-negative integer
 *       data_offsets whose distance is exactly shape × dtype size (no overflow);</li>
 *   <li>sorted by offsets, the tensors tile the data section from byte 0 to its very end: no gap, no
 *       overlap, no alias, no trailing byte. Anything else means two names read the same bytes or
 *       bytes nobody accounts for, which a writer never produces.</li>
 * </ul>
 *
 * Errors name the file and the tensor or key; they never quote header content except names.
 *
 * @param tensors  tensors in header order
 * @param metadata the string map under {@code __metadata__}
 */
record SafetensorsHeader(Map<String, TensorInfo> tensors, Map<String, String> metadata) {

    static final String METADATA = "__metadata__";

    /**
     * @param header    the header bytes (after the 8-byte length)
     * @param dataStart absolute offset of the data section in the file
     * @param dataLen   length of the data section (the rest of the file)
     */
    static SafetensorsHeader parse(Path path, byte[] header, long dataStart, long dataLen) {
        String text = decodeUtf8(path, header);
        int end = text.length();
        while (end > 0 && text.charAt(end - 1) == ' ') {
            end--;
        }
        if (end == 0 || text.charAt(0) != '{') {
            throw new CheckpointException(path, null, "corrupt header: does not start with '{'");
        }
        if (text.charAt(end - 1) != '}') {
            throw new CheckpointException(path, null,
                    "corrupt header: bytes after the JSON object (only spaces may pad the header)");
        }
        // FAIL_ON_TRAILING_TOKENS in the mapper catches a second value before the last '}'.
        JsonNode root = CheckpointJson.parse(path, text.substring(0, end), "corrupt header");
        if (root == null || !root.isObject()) {
            throw new CheckpointException(path, null, "corrupt header: not a JSON object");
        }
        Map<String, String> meta = new LinkedHashMap<>();
        Map<String, TensorInfo> infos = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals(METADATA)) {
                readMetadata(path, e.getValue(), meta);
            } else {
                infos.put(e.getKey(), entry(path, e.getKey(), e.getValue(), dataStart));
            }
        }
        checkTiling(path, infos, dataStart, dataLen);
        return new SafetensorsHeader(Collections.unmodifiableMap(infos), Collections.unmodifiableMap(meta));
    }

    /** Strict UTF-8: Java's {@code new String} would silently replace a bad byte with U+FFFD. */
    private static String decodeUtf8(Path path, byte[] header) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(header)).toString();
        } catch (CharacterCodingException e) {
            throw new CheckpointException(path, null, "corrupt header: not valid UTF-8");
        }
    }

    private static void readMetadata(Path path, JsonNode n, Map<String, String> meta) {
        if (!n.isObject()) {
            throw new CheckpointException(path, METADATA, "must be an object of strings, found " + CheckpointJson.describe(n));
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> m = it.next();
            if (!m.getValue().isTextual()) {
                throw new CheckpointException(path, METADATA + "." + m.getKey(), "metadata values must be strings, found "
                        + CheckpointJson.describe(m.getValue()));
            }
            meta.put(m.getKey(), m.getValue().textValue());
        }
    }

    private static TensorInfo entry(Path path, String name, JsonNode n, long dataStart) {
        if (!n.isObject()) {
            throw new CheckpointException(path, name, "corrupt header entry: must be an object, found "
                    + CheckpointJson.describe(n));
        }
        JsonNode dt = n.get("dtype");
        JsonNode sh = n.get("shape");
        JsonNode off = n.get("data_offsets");
        if (dt == null || sh == null || !sh.isArray() || off == null || !off.isArray() || off.size() != 2) {
            throw new CheckpointException(path, name, "corrupt header entry: needs dtype, shape and two data_offsets");
        }
        if (!dt.isTextual()) {
            throw new CheckpointException(path, name, "dtype must be a string, found " + CheckpointJson.describe(dt));
        }
        DType dtype = DType.parse(dt.textValue(), path, name);
        long[] shape = new long[sh.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = count(path, name, "shape[" + i + "]", sh.get(i));
            try {
                numel = Math.multiplyExact(numel, shape[i]);
            } catch (ArithmeticException e) {
                throw new CheckpointException(path, name, "shape " + java.util.Arrays.toString(shape)
                        + "... has more elements than a long can count");
            }
        }
        long begin = count(path, name, "data_offsets[0]", off.get(0));
        long end = count(path, name, "data_offsets[1]", off.get(1));
        if (end > Long.MAX_VALUE - dataStart) {
            throw new CheckpointException(path, name, "data_offsets end beyond the size of any file");
        }
        if (end < begin) {
            throw new CheckpointException(path, name, "data_offsets [" + begin + ", " + end + "] end before they begin");
        }
        long bytes;
        try {
            long bits = Math.multiplyExact(numel, dtype.bits());
            if (bits % 8 != 0) {
                throw new CheckpointException(path, name, numel + " elements of " + dtype + " (" + dtype.bits()
                        + " bits each) do not fill whole bytes");
            }
            bytes = bits / 8;
        } catch (ArithmeticException e) {
            throw new CheckpointException(path, name, "shape " + java.util.Arrays.toString(shape) + " of " + dtype
                    + " has more bytes than a long can count");
        }
        if (end - begin != bytes) {
            throw new CheckpointException(path, name, "data_offsets [" + begin + ", " + end + "] hold " + (end - begin)
                    + " bytes but shape " + java.util.Arrays.toString(shape) + " of " + dtype + " needs " + bytes);
        }
        return new TensorInfo(name, dtype, shape, path, dataStart + begin, bytes);
    }

    /**
     * A non-negative JSON integer. Jackson's {@code asLong(-1)} would turn 2.5 into 2, "4" into 4 and
     * true into 1; the reference reader refuses all three, and so do we.
     */
    private static long count(Path path, String name, String what, JsonNode v) {
        if (v == null || !v.isIntegralNumber() || !v.canConvertToLong()) {
            throw new CheckpointException(path, name, what + " must be a non-negative integer, found "
                    + CheckpointJson.describe(v));
        }
        long x = v.longValue();
        if (x < 0) {
            throw new CheckpointException(path, name, what + " must be a non-negative integer, found " + x);
        }
        return x;
    }

    /**
     * Sorted by (begin, end), with header order breaking ties so the error names the later entry, each
     * tensor must begin where the previous one ended, the first at 0, and the last must end exactly
     * at the end of the file.
     */
    private static void checkTiling(Path path, Map<String, TensorInfo> infos, long dataStart, long dataLen) {
        List<TensorInfo> sorted = new ArrayList<>(infos.values());
        sorted.sort(Comparator.comparingLong(TensorInfo::start).thenComparingLong(TensorInfo::length));
        long expected = 0;
        String previous = null;
        for (TensorInfo t : sorted) {
            long begin = t.start() - dataStart;
            long end = begin + t.length();
            if (begin < expected) {
                throw new CheckpointException(path, t.name(), "data_offsets [" + begin + ", " + end + "] overlap tensor '"
                        + previous + "', which ends at " + expected + " (each byte must belong to one tensor)");
            }
            if (begin > expected) {
                throw new CheckpointException(path, t.name(), "data_offsets [" + begin + ", " + end + "] leave a gap of "
                        + (begin - expected) + " bytes before it" + (previous == null ? " at the start of the data section"
                        : " after tensor '" + previous + "'") + " (tensors must tile the data section)");
            }
            if (end > dataLen) {
                throw new CheckpointException(path, t.name(), "truncated file: tensor ends at byte " + end
                        + " of the data section, which has only " + dataLen + " bytes");
            }
            expected = end;
            previous = t.name();
        }
        if (expected != dataLen) {
            throw new CheckpointException(path, previous, (dataLen - expected) + " trailing bytes after the "
                    + (previous == null ? "header, which lists no tensor" : "last tensor")
                    + " (the data section must end where the last tensor ends)");
        }
    }
}
