package io.safetune.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * A Hugging Face {@code tokenizer.json}, run by the Rust {@code tokenizers} library through DJL,
 * fully offline, giving the same ids as Python's {@code tokenizer.encode(text,
 * add_special_tokens=...)} and the same text as {@code tokenizer.decode(ids,
 * skip_special_tokens=...)}.
 *
 * <p>DJL's defaults would silently change results, so they are switched off: it truncates every
 * encoding to 512 tokens (logging a warning), pads batches, adds special tokens unless told not
 * to, and decoding silently drops ids it does not know (as Python's tokenizers does). Here nothing
 * is truncated or padded, special tokens are added only when asked, and an unknown id is an error.
 *
 * <p>{@link #close()} frees the native tokenizer; using it afterwards throws
 * {@link IllegalStateException}.
 */
public final class TextTokenizer implements AutoCloseable {

    /** The file name looked for when {@link #load(Path)} is given a folder. */
    public static final String TOKENIZER_FILE = "tokenizer.json";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** DJL options: no padding, no truncation, no special tokens unless asked per call. */
    private static final Map<String, String> DJL_OPTIONS =
            Map.of("addSpecialTokens", "false", "padding", "false", "truncation", "false");

    private final HuggingFaceTokenizer tokenizer;
    private final Path file;
    private final Vocabulary vocab;
    private final SpecialTokens specialTokens;

    private TextTokenizer(
            HuggingFaceTokenizer tokenizer, Path file, Vocabulary vocab, SpecialTokens special) {
        this.tokenizer = tokenizer;
        this.file = file;
        this.vocab = vocab;
        this.specialTokens = special;
    }

    /**
     * Loads a tokenizer.
     *
     * @param path a {@code tokenizer.json} file, or a checkpoint folder that contains one; special
     *     tokens are read from {@code tokenizer_config.json}, {@code special_tokens_map.json} and
     *     {@code generation_config.json} beside it when present (see {@link SpecialTokens})
     * @return the tokenizer; close it when done
     * @throws IllegalArgumentException if the file is missing or not a valid tokenizer.json (the
     *     message names the file)
     * @throws UncheckedIOException if the file exists but cannot be read
     */
    public static TextTokenizer load(Path path) {
        Path file = Files.isDirectory(path) ? path.resolve(TOKENIZER_FILE) : path;
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("tokenizer file not found: " + file);
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read tokenizer file " + file, e);
        }
        Vocabulary vocab = Vocabulary.fromTokenizerJson(parse(bytes, file), file);
        Path folder = file.toAbsolutePath().getParent();
        SpecialTokens special = SpecialTokensReader.read(JSON, folder, vocab);
        HuggingFaceTokenizer tokenizer;
        try {
            tokenizer = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(bytes), DJL_OPTIONS);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(
                    file + ": the tokenizers library cannot load it: " + e.getMessage(), e);
        }
        return new TextTokenizer(tokenizer, file, vocab, special);
    }

    private static JsonNode parse(byte[] bytes, Path file) {
        try {
            JsonNode root = JSON.readTree(bytes);
            if (root == null || !root.isObject()) {
                throw new IllegalArgumentException(file + ": expected a JSON object");
            }
            return root;
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot parse " + file, e);
        }
    }

    /**
     * Encodes text without adding special tokens; special-token strings inside the text (a chat
     * template's {@code <s>}) still become their ids.
     */
    public int[] encode(String text) {
        return encode(text, false);
    }

    /**
     * Encodes text.
     *
     * @param addSpecialTokens whether to apply the tokenizer's post-processor (e.g. Llama's leading
     *     {@code <s>}), as {@code add_special_tokens} in Python
     */
    public int[] encode(String text, boolean addSpecialTokens) {
        if (text == null) {
            throw new IllegalArgumentException("text to encode is null (tokenizer " + file + ")");
        }
        long[] ids = tokenizer.encode(text, addSpecialTokens, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    /** Decodes ids, skipping special tokens (Python's default for generated text is the same). */
    public String decode(int[] ids) {
        return decode(ids, true);
    }

    /**
     * Decodes ids.
     *
     * @param skipSpecial whether to drop tokens that tokenizer.json marks special
     * @throws IllegalArgumentException if an id is not a token of this tokenizer
     */
    public String decode(int[] ids, boolean skipSpecial) {
        long[] wide = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (!vocab.contains(ids[i])) {
                throw new IllegalArgumentException("id " + ids[i] + " at position " + i
                        + " is not a token of " + file + " (vocabulary size " + vocab.size() + ")");
            }
            wide[i] = ids[i];
        }
        return tokenizer.decode(wide, skipSpecial);
    }

    /** Number of distinct tokens including added tokens (Python's {@code len(tokenizer)}). */
    public int vocabSize() {
        return vocab.size();
    }

    /** The id of a token string (a vocabulary entry such as {@code "Ġbread"}, not plain text). */
    public OptionalInt tokenId(String token) {
        return vocab.id(token);
    }

    /**
     * The token string of an id.
     *
     * @throws IllegalArgumentException if the tokenizer has no such id
     */
    public String token(int id) {
        String token = vocab.tokenOrNull(id);
        if (token == null) {
            throw new IllegalArgumentException("id " + id + " is not a token of " + file);
        }
        return token;
    }

    /** The special tokens declared beside the tokenizer.json. */
    public SpecialTokens specialTokens() {
        return specialTokens;
    }

    /** The bos id, e.g. Llama's {@code <s>}; empty for models without one (Qwen2). */
    public OptionalInt bosTokenId() {
        return specialTokens.bosTokenId();
    }

    /** Every id that ends generation (see {@link SpecialTokens}). */
    public List<Integer> eosTokenIds() {
        return specialTokens.eosTokenIds();
    }

    /** The padding id, when the checkpoint declares one. */
    public OptionalInt padTokenId() {
        return specialTokens.padTokenId();
    }

    /** The tokenizer.json this was loaded from. */
    public Path file() {
        return file;
    }

    @Override
    public void close() {
        tokenizer.close();
    }

    @Override
    public String toString() {
        return "TextTokenizer[" + file + ", " + vocab.size() + " tokens]";
    }

    /** Copies a model folder's tokenizer files (tokenizer*.json, special_tokens_map.json) beside a new model in {@code to}. */
    public static void copyFiles(java.nio.file.Path from, java.nio.file.Path to) throws java.io.IOException {
        try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.list(from)) {
            for (java.nio.file.Path f : files.filter(java.nio.file.Files::isRegularFile).toList()) {
                String name = f.getFileName().toString();
                if (name.startsWith("tokenizer") || name.equals("special_tokens_map.json")) {
                    java.nio.file.Files.copy(f, to.resolve(name), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }
}
