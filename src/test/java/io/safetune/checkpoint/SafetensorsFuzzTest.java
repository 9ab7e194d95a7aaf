package io.safetune.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.safetune.model.CausalLM;
import io.safetune.testing.Fixtures;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded mutations of the llama-tiny checkpoint. Each must either load as a whole model or be refused
 * with a CheckpointException naming the checkpoint; no other exception may escape (no engine error,
 * NPE, index or arithmetic exception, no JVM abort). Where the outcome is known it is required:
 * truncated, over-long and duplicate-key files are refused, data-byte flips load (they are valid
 * files with other numbers), and a file that loads with the original tensor values reproduces the
 * fixture's logits within 1e-4.
 */
class SafetensorsFuzzTest {

    private static final long SEED = 0x5AFE_7E45L;
    private static final int CASES = 400;
    private static final Pattern NUMBER = Pattern.compile("\\d+");
    private static final Pattern ENTRY = Pattern.compile("\"model\\.[^\"]+\":\\{[^}]*\\}");
    private static final String[] DTYPES = {"F16", "BF16", "F64", "I32", "I64", "U8", "BOOL", "F8_E4M3", "U16", "F4", "Q4", "f32", ""};
    private static final String[] NUMBER_EDITS = {"0", "1", "-1", "2.5", "\"4\"", "true", "1e3", "9223372036854775807",
        "18446744073709551616", "null"};

    private static final String JSON_CHARS = " {}[],:\"0123456789-.e\n\t";

    enum Kind { DATA_FLIP, HEADER_FLIP, LENGTH_FLIP, TRUNCATE, APPEND, NUMBER_EDIT, DTYPE_EDIT, DUPLICATE_KEY, GARBAGE, WHITESPACE }

    enum Outcome { LOADED_SAME, LOADED_OTHER, REFUSED }

    @TempDir
    Path tmp;

    @Test
    void mutatedCheckpointsLoadCorrectlyOrAreRefusedWithACheckpointException() throws Exception {
        Path fixture = Fixtures.get("llama-tiny");
        byte[] good = Files.readAllBytes(fixture.resolve("model.safetensors"));
        int headerLen = (int) ByteBuffer.wrap(good).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(good, 8, headerLen, StandardCharsets.UTF_8);
        byte[] data = Arrays.copyOfRange(good, 8 + headerLen, good.length);
        JsonNode expected = new ObjectMapper().readTree(fixture.resolve("expected.json").toFile());
        Map<String, float[]> original = new LinkedHashMap<>();
        try (TensorStore store = TensorStore.open(fixture)) {
            store.names().forEach(n -> original.put(n, store.readFloats(n)));
        }
        Path dir = Files.createDirectories(tmp.resolve("ckpt"));
        Files.copy(fixture.resolve("config.json"), dir.resolve("config.json"));
        Path file = dir.resolve("model.safetensors");

        Random rng = new Random(SEED);
        Map<Kind, Map<Outcome, Integer>> tally = new EnumMap<>(Kind.class);
        long t0 = System.nanoTime();
        for (int i = 0; i < CASES; i++) {
            Kind kind = Kind.values()[i % Kind.values().length];
            String what = "case " + i + " (" + kind + ", seed " + SEED + ")";
            byte[] bytes = mutate(kind, good, header, data, rng);
            Files.write(file, bytes);
            Outcome o = load(dir, file, expected, original, what);
            tally.computeIfAbsent(kind, k -> new EnumMap<>(Outcome.class)).merge(o, 1, Integer::sum);
            switch (kind) {
                case TRUNCATE, APPEND, DUPLICATE_KEY -> assertEquals(Outcome.REFUSED, o, what);
                case DATA_FLIP -> assertTrue(o != Outcome.REFUSED, what + ": a valid file was refused");
                case WHITESPACE -> assertEquals(Outcome.LOADED_SAME, o, what);
                default -> { }
            }
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("fuzz: " + CASES + " cases in " + ms + " ms: " + tally);
        // the mutations must reach every outcome, or the test proves little
        for (Outcome o : Outcome.values()) {
            assertTrue(tally.values().stream().anyMatch(m -> m.containsKey(o)), o + " never happened: " + tally);
        }
    }

    private static byte[] mutate(Kind kind, byte[] good, String header, byte[] data, Random rng) {
        switch (kind) {
            case DATA_FLIP -> {
                byte[] b = good.clone();
                int start = good.length - data.length;
                for (int k = 1 + rng.nextInt(4); k > 0; k--) {
                    b[start + rng.nextInt(data.length)] ^= (byte) (1 << rng.nextInt(8));
                }
                return b;
            }
            case HEADER_FLIP -> {
                byte[] b = good.clone();
                for (int k = 1 + rng.nextInt(3); k > 0; k--) {
                    b[8 + rng.nextInt(header.length())] = (byte) rng.nextInt(256);
                }
                return b;
            }
            case LENGTH_FLIP -> {
                byte[] b = good.clone();
                b[rng.nextInt(8)] ^= (byte) (1 << rng.nextInt(8));
                return b;
            }
            case TRUNCATE -> {
                // anywhere: in the length, the header or the data
                return Arrays.copyOf(good, rng.nextInt(good.length));
            }
            case APPEND -> {
                byte[] extra = new byte[1 + rng.nextInt(16)];
                rng.nextBytes(extra);
                byte[] b = Arrays.copyOf(good, good.length + extra.length);
                System.arraycopy(extra, 0, b, good.length, extra.length);
                return b;
            }
            case NUMBER_EDIT -> {
                List<int[]> spans = spans(NUMBER.matcher(header));
                int[] s = spans.get(rng.nextInt(spans.size()));
                long v = Long.parseLong(header.substring(s[0], s[1]));
                String[] near = {Long.toString(v + 1), Long.toString(Math.max(0, v - 4)), Long.toString(v * 2)};
                String repl = rng.nextBoolean() ? near[rng.nextInt(near.length)] : NUMBER_EDITS[rng.nextInt(NUMBER_EDITS.length)];
                return StBytes.file(header.substring(0, s[0]) + repl + header.substring(s[1]), data);
            }
            case DTYPE_EDIT -> {
                List<int[]> spans = spans(Pattern.compile("F32").matcher(header));
                int[] s = spans.get(rng.nextInt(spans.size()));
                return StBytes.file(header.substring(0, s[0]) + DTYPES[rng.nextInt(DTYPES.length)] + header.substring(s[1]), data);
            }
            case DUPLICATE_KEY -> {
                List<int[]> spans = spans(ENTRY.matcher(header));
                int[] s = spans.get(rng.nextInt(spans.size()));
                String entry = header.substring(s[0], s[1]);
                return StBytes.file(header.substring(0, s[1]) + "," + entry + header.substring(s[1]), data);
            }
            case GARBAGE -> {
                byte[] h = header.getBytes(StandardCharsets.UTF_8);
                int at = rng.nextInt(h.length + 1);
                byte[] junk = new byte[1 + rng.nextInt(6)];
                for (int k = 0; k < junk.length; k++) {
                    // half the time plausible JSON characters, else any byte
                    junk[k] = rng.nextBoolean() ? (byte) JSON_CHARS.charAt(rng.nextInt(JSON_CHARS.length())) : (byte) rng.nextInt(256);
                }
                byte[] out = new byte[h.length + junk.length];
                System.arraycopy(h, 0, out, 0, at);
                System.arraycopy(junk, 0, out, at, junk.length);
                System.arraycopy(h, at, out, at + junk.length, h.length - at);
                return StBytes.file(out, data);
            }
            case WHITESPACE -> {
                // JSON whitespace between tokens: the same header, which must load the same model
                List<int[]> spans = spans(Pattern.compile("[,:{\\[]").matcher(header));
                int at = spans.get(rng.nextInt(spans.size()))[1];
                String ws = " \n\t\r".substring(rng.nextInt(4)).substring(0, 1).repeat(1 + rng.nextInt(3));
                return StBytes.file(header.substring(0, at) + ws + header.substring(at), data);
            }
            default -> throw new AssertionError(kind);
        }
    }

    private static List<int[]> spans(Matcher m) {
        List<int[]> out = new ArrayList<>();
        while (m.find()) {
            out.add(new int[] {m.start(), m.end()});
        }
        return out;
    }

    /** Loads the whole model; anything but success or a CheckpointException naming the checkpoint fails. */
    private static Outcome load(Path dir, Path file, JsonNode expected, Map<String, float[]> original, String what) {
        try (CausalLM model = CausalLM.load(dir)) {
            boolean same;
            try (TensorStore store = TensorStore.open(dir)) {
                same = original.keySet().stream().allMatch(n -> Arrays.equals(original.get(n), store.readFloats(n)));
            }
            float[] logits = logits(model, expected.get("input_ids"));
            if (same) {
                JsonNode want = expected.get("logits");
                int k = 0;
                for (JsonNode row : want) {
                    for (JsonNode pos : row) {
                        for (JsonNode v : pos) {
                            assertEquals(v.asDouble(), logits[k++], 1e-4, what + ": same tensors, other logits");
                        }
                    }
                }
                return Outcome.LOADED_SAME;
            }
            return Outcome.LOADED_OTHER;
        } catch (CheckpointException e) {
            assertTrue(e.file() != null && e.file().startsWith(dir) && e.getMessage().contains(e.file().toString()),
                    what + ": error does not name the checkpoint file: " + e.getMessage());
            return Outcome.REFUSED;
        } catch (RuntimeException | Error e) {
            if (e instanceof AssertionError a) {
                throw a;
            }
            fail(what + ": " + e.getClass().getName() + " escaped: " + e.getMessage(), e);
            return null;
        }
    }

    private static float[] logits(CausalLM model, JsonNode ids) {
        try (NDManager m = model.newStepManager()) {
            long[] flat = new long[ids.size() * ids.get(0).size()];
            int k = 0;
            for (JsonNode row : ids) {
                for (JsonNode v : row) {
                    flat[k++] = v.asLong();
                }
            }
            return model.forward(m.create(flat, new Shape(ids.size(), ids.get(0).size()))).logits().toFloatArray();
        }
    }
}
