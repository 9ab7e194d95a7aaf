package io.safetune.checkpoint;

import static io.safetune.checkpoint.StBytes.entry;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Malformed safetensors headers that the reference reader refuses: each must be refused here with
 * one CheckpointException naming the file and, where there is one, the tensor.
 */
class SafetensorsValidationTest {

    private static final String F32x2 = "\"F32\",\"shape\":[2]";

    @TempDir
    Path tmp;

    private CheckpointException refused(String name, String header, int dataLen) throws Exception {
        return refused(name, StBytes.file(header, new byte[dataLen]));
    }

    private CheckpointException refused(String name, byte[] bytes) throws Exception {
        Path p = tmp.resolve(name + ".safetensors");
        Files.write(p, bytes);
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(p).close());
        assertEquals(p, e.file(), e.getMessage());
        assertTrue(e.getMessage().contains(name + ".safetensors"), e.getMessage());
        return e;
    }

    private static String two(String a, String b) {
        return "{" + entry("a", "F32", "[2]", a) + "," + entry("b", "F32", "[2]", b) + "}";
    }

    @Test
    void overlappingOffsetsAreRefused() throws Exception {
        CheckpointException e = refused("overlap", two("[0,8]", "[4,12]"), 12);
        assertEquals("b", e.field());
        assertTrue(e.getMessage().contains("overlap"), e.getMessage());
    }

    @Test
    void aliasedOffsetsAreRefused() throws Exception {
        // two names for the same 8 bytes: the later entry is the one named
        CheckpointException e = refused("alias", two("[0,8]", "[0,8]"), 8);
        assertEquals("b", e.field());
        assertTrue(e.getMessage().contains("overlap tensor 'a'"), e.getMessage());
    }

    @Test
    void shiftedOffsetsLeavingAGapAreRefused() throws Exception {
        CheckpointException gap = refused("gap", two("[0,8]", "[12,20]"), 20);
        assertEquals("b", gap.field());
        assertTrue(gap.getMessage().contains("gap of 4 bytes"), gap.getMessage());
        CheckpointException start = refused("start", "{" + entry("a", "F32", "[2]", "[4,12]") + "}", 12);
        assertEquals("a", start.field());
        assertTrue(start.getMessage().contains("start of the data section"), start.getMessage());
    }

    @Test
    void trailingBytesAfterTheLastTensorAreRefused() throws Exception {
        CheckpointException e = refused("trailing", two("[0,8]", "[8,16]"), 17);
        assertEquals("b", e.field());
        assertTrue(e.getMessage().contains("1 trailing bytes"), e.getMessage());
    }

    @Test
    void duplicateKeysAreRefusedNotLastOneWins() throws Exception {
        CheckpointException e = refused("dup", "{" + entry("a", "F32", "[2]", "[0,8]") + ","
                + entry("a", "F32", "[4]", "[0,16]") + "}", 16);
        assertEquals("a", e.field());
        assertTrue(e.getMessage().contains("duplicate key"), e.getMessage());
        CheckpointException inner = refused("dupinner",
                "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8);
        assertEquals("a.dtype", inner.field());
    }

    @ParameterizedTest
    @ValueSource(strings = {"2.5", "\"2\"", "true", "-2", "2e0", "null", "[2]", "18446744073709551616"})
    void shapeEntriesMustBeNonNegativeIntegers(String dim) throws Exception {
        CheckpointException e = refused("shape", "{" + entry("a", "F32", "[" + dim + "]", "[0,8]") + "}", 8);
        assertEquals("a", e.field());
        assertTrue(e.getMessage().contains("shape[0] must be a non-negative integer"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"[0,8.0]", "[\"0\",8]", "[false,8]", "[0,-8]", "[0.0,8]", "[0,{}]"})
    void dataOffsetsMustBeNonNegativeIntegers(String offsets) throws Exception {
        CheckpointException e = refused("offsets", "{" + entry("a", "F32", "[2]", offsets) + "}", 8);
        assertEquals("a", e.field());
        assertTrue(e.getMessage().contains("data_offsets["), e.getMessage());
    }

    @Test
    void shapeProductsThatOverflowALongAreRefused() throws Exception {
        // 2^32 · 2^32 · 16 wraps to 0 in long arithmetic, which matched data_offsets [0,0] before
        CheckpointException e = refused("numel", "{" + entry("a", "F32", "[4294967296,4294967296,16]", "[0,0]") + "}", 0);
        assertEquals("a", e.field());
        assertTrue(e.getMessage().contains("more elements than a long"), e.getMessage());
        // 2^62 elements fit, but 2^62 · 4 bytes wraps to 0
        CheckpointException b = refused("nbytes", "{" + entry("a", "F32", "[4611686018427387904]", "[0,0]") + "}", 0);
        assertEquals("a", b.field());
        assertTrue(b.getMessage().contains("more bytes than a long"), b.getMessage());
    }

    @Test
    void invalidUtf8InTheHeaderIsRefused() throws Exception {
        byte[] head = ("{\"__metadata__\":{\"k\":\"..\"}," + entry("a", "F32", "[2]", "[0,8]") + "}")
                .getBytes(StandardCharsets.US_ASCII);
        head[23] = (byte) 0xC3; // a lead byte followed by '.', not a continuation byte
        CheckpointException e = refused("utf8", StBytes.file(head, new byte[8]));
        assertTrue(e.getMessage().contains("not valid UTF-8"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"x", "\n", "\t", "{}", "0", "}", " \0"})
    void onlySpacesMayFollowTheJsonObject(String suffix) throws Exception {
        CheckpointException e = refused("suffix", "{" + entry("a", "F32", "[2]", "[0,8]") + "}" + suffix, 8);
        assertTrue(e.getMessage().contains("corrupt header"), e.getMessage());
    }

    @Test
    void headerMustStartWithABraceAndMayBePaddedWithSpaces() throws Exception {
        String json = "{" + entry("a", "F32", "[2]", "[0,8]") + "}";
        CheckpointException e = refused("lead", " " + json, 8);
        assertTrue(e.getMessage().contains("does not start with '{'"), e.getMessage());
        Path padded = tmp.resolve("padded.safetensors");
        Files.write(padded, StBytes.file(json + "       ", new byte[8]));
        try (SafetensorsFile f = SafetensorsFile.open(padded)) {
            assertEquals(2, f.readFloats("a").length);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"k\":1}", "{\"k\":null}", "{\"k\":{\"x\":\"y\"}}", "[\"pt\"]", "\"pt\""})
    void metadataMustMapStringsToStrings(String meta) throws Exception {
        CheckpointException e = refused("meta", "{\"__metadata__\":" + meta + "," + entry("a", "F32", "[2]", "[0,8]") + "}", 8);
        assertTrue(e.field().startsWith("__metadata__"), e.getMessage());
    }

    @Test
    void everySpecDtypeParsesWithItsSizeAndSubByteTypesMustFillBytes() throws Exception {
        String[] names = {"BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "I16", "U16", "F16", "BF16", "I32",
            "U32", "F32", "F64", "I64", "U64", "C64", "F4", "F6_E2M3", "F6_E3M2"};
        int[] bits = {8, 8, 8, 8, 8, 8, 16, 16, 16, 16, 32, 32, 32, 64, 64, 64, 64, 4, 6, 6};
        for (int i = 0; i < names.length; i++) {
            int bytes = 4 * bits[i] / 8; // shape [4]
            Path p = tmp.resolve(names[i] + ".safetensors");
            Files.write(p, StBytes.file("{" + entry("t", names[i], "[4]", "[0," + bytes + "]") + "}", new byte[bytes]));
            try (SafetensorsFile f = SafetensorsFile.open(p)) {
                assertEquals(names[i], f.info("t").dtype().name());
                assertEquals(bits[i], f.info("t").dtype().bits());
            }
        }
        // three 4-bit elements are a byte and a half: the reference refuses it as misaligned
        CheckpointException e = refused("f4", "{" + entry("t", "F4", "[3]", "[0,2]") + "}", 2);
        assertEquals("t", e.field());
        assertTrue(e.getMessage().contains("do not fill whole bytes"), e.getMessage());
    }
}
