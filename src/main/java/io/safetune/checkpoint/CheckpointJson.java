package io.safetune.checkpoint;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.regex.Pattern;

/**
 * JSON as the lab reads it from files it did not write (safetensors headers, config.json, shard
 * indexes, adapter configs): a repeated key is an error, not "the last one wins", nothing may follow
 * the document, and no error ever quotes the file.
 *
 * <p>Errors must not echo file contents: a crafted index or a symlink could point a reader at a
 * private file, and the message would carry its bytes into logs. Jackson's messages quote the
 * offending token and, by default, a snippet of the source, so they are never passed on; errors say
 * what is wrong, at which line and column, and under which key.
 */
public final class CheckpointJson {

    static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /** Values we quote back must look like a name (a dtype, a model type, an activation). */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.\\-]{1,40}");

    private CheckpointJson() {
    }

    /** Parses {@code text}, read from {@code file}; {@code what} starts the error ("not valid JSON"). */
    public static JsonNode parse(Path file, String text, String what) {
        try {
            return MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw error(file, e, what);
        }
    }

    /** The error for a Jackson failure, naming where it happened but quoting nothing. */
    public static CheckpointException error(Path file, JsonProcessingException e, String what) {
        String field = null;
        if (e.getProcessor() instanceof JsonParser p) {
            field = pathOf(p.getParsingContext());
        }
        // Jackson has no error codes; its duplicate-key message is stable and the one worth naming.
        String msg = e.getOriginalMessage();
        String kind = msg != null && msg.startsWith("Duplicate field") ? "duplicate key" : "not valid JSON";
        var loc = e.getLocation();
        String where = loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
        return new CheckpointException(file, field, what + ": " + kind + where);
    }

    /** The key path (a.b[2].c) of a parser position, or null at top level. */
    private static String pathOf(JsonStreamContext ctx) {
        Deque<String> parts = new ArrayDeque<>(); // root first
        for (JsonStreamContext c = ctx; c != null && !c.inRoot(); c = c.getParent()) {
            if (c.inArray()) {
                parts.push("[" + Math.max(0, c.getCurrentIndex()) + "]");
            } else if (c.getCurrentName() != null) {
                parts.push(c.getCurrentName());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (String part : parts) {
            sb.append(sb.length() == 0 || part.startsWith("[") ? "" : ".").append(part);
        }
        return sb.length() == 0 ? null : sb.toString();
    }

    /** What kind of JSON value {@code n} is, for "must be X, found Y" without quoting it. */
    public static String describe(JsonNode n) {
        if (n == null || n.isMissingNode()) {
            return "nothing";
        }
        return switch (n.getNodeType()) {
            case STRING -> "a string";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case NUMBER -> n.isIntegralNumber() ? (n.canConvertToLong() ? "the integer " + n.asLong() : "an integer too large")
                    : "a number with a fraction or exponent";
            default -> "a " + n.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
        };
    }

    /** {@code 'value'} when it looks like a name, else a placeholder: values from files are not echoed. */
    public static String quote(String value) {
        return value != null && NAME.matcher(value).matches() ? "'" + value + "'" : "(a value that is not a plain name)";
    }
}
