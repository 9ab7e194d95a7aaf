package io.safetune.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Safetensors files built byte by byte for tests, independently of the reader under test: the
 * 8-byte little-endian header length, the header exactly as given, then the data.
 */
final class StBytes {

    /** One tensor: its header fields and raw data bytes. */
    record Raw(String name, String dtype, long[] shape, byte[] data) {

        Raw withDtype(String d, byte[] bytes) {
            return new Raw(name, d, shape, bytes);
        }
    }

    private StBytes() {
    }

    static byte[] file(String header, byte[] data) {
        return file(header.getBytes(StandardCharsets.UTF_8), data);
    }

    static byte[] file(byte[] header, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        return b.putLong(header.length).put(header).put(data).array();
    }

    /** A header entry as JSON text; {@code shape} and {@code offsets} are pasted as written. */
    static String entry(String name, String dtype, String shape, String offsets) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
    }

    /** The tensors of a well-formed file, in data order (read with plain Jackson, not our reader). */
    static List<Raw> tensorsOf(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        int n = (int) ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).getLong();
        JsonNode root = new ObjectMapper().readTree(new String(all, 8, n, StandardCharsets.UTF_8));
        List<Raw> out = new ArrayList<>();
        List<Integer> begins = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) {
                continue;
            }
            JsonNode t = e.getValue();
            long[] shape = new long[t.get("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = t.get("shape").get(i).asLong();
            }
            int begin = 8 + n + t.get("data_offsets").get(0).asInt();
            int end = 8 + n + t.get("data_offsets").get(1).asInt();
            out.add(new Raw(e.getKey(), t.get("dtype").asText(), shape, Arrays.copyOfRange(all, begin, end)));
            begins.add(begin);
        }
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < out.size(); i++) {
            order.add(i);
        }
        order.sort((a, b) -> Integer.compare(begins.get(a), begins.get(b)));
        return order.stream().map(out::get).collect(Collectors.toCollection(ArrayList::new));
    }

    /** A well-formed file holding {@code tensors} back to back, header padded with spaces to 8 bytes. */
    static byte[] build(List<Raw> tensors) {
        StringBuilder h = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long offset = 0;
        for (Raw t : tensors) {
            String shape = Arrays.stream(t.shape()).mapToObj(Long::toString).collect(Collectors.joining(",", "[", "]"));
            h.append(',').append(entry(t.name(), t.dtype(), shape, "[" + offset + "," + (offset + t.data().length) + "]"));
            offset += t.data().length;
        }
        h.append('}');
        while (h.length() % 8 != 0) {
            h.append(' ');
        }
        ByteBuffer data = ByteBuffer.allocate((int) offset);
        tensors.forEach(t -> data.put(t.data()));
        return file(h.toString(), data.array());
    }
}
