package io.safetune.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/**
 * Batched autoregressive decoding. Prompts are left-padded to a common length (so every row's next
 * token sits in the last column); rotary positions count real tokens only, so a padded prompt
 * decodes exactly as it would alone. Each decoding step runs in its own NDManager.
 */
public final class Generator {

    private final CausalLM model;
    private final Function<int[], String> decoder;

    /** @param decoder token ids → text, for stop strings and {@link Generation#text()}; may be null */
    public Generator(CausalLM model, Function<int[], String> decoder) {
        this.model = model;
        this.decoder = decoder;
    }

    public Generator(CausalLM model) {
        this(model, null);
    }

    public List<Generation> generate(List<int[]> prompts, GenerationConfig cfg) {
        if (prompts.isEmpty()) {
            return List.of();
        }
        if (!cfg.stopStrings().isEmpty() && decoder == null) {
            throw new IllegalArgumentException("stopStrings: need a decoder (construct the Generator with a tokenizer)");
        }
        List<Integer> eos = cfg.eosTokenIds().isEmpty() ? model.config().eosTokenIds() : cfg.eosTokenIds();
        int b = prompts.size();
        int promptLen = 0;
        for (int[] p : prompts) {
            if (p.length == 0) {
                throw new IllegalArgumentException("prompts: an empty prompt cannot be continued");
            }
            promptLen = Math.max(promptLen, p.length);
        }
        int pad = Math.max(model.config().padTokenId(), 0);
        // sequences [B][promptLen + new] left-padded; mask 0 on padding
        List<long[]> seq = new ArrayList<>();
        List<long[]> mask = new ArrayList<>();
        for (int[] p : prompts) {
            long[] s = new long[promptLen];
            long[] m = new long[promptLen];
            Arrays.fill(s, pad);
            for (int i = 0; i < p.length; i++) {
                s[promptLen - p.length + i] = p[i];
                m[promptLen - p.length + i] = 1;
            }
            seq.add(s);
            mask.add(m);
        }
        Sampler sampler = Sampler.of(cfg.temperature(), cfg.topP());
        Random rng = new Random(cfg.seed());
        List<List<Integer>> out = new ArrayList<>();
        StopReason[] reason = new StopReason[b];
        for (int i = 0; i < b; i++) {
            out.add(new ArrayList<>());
        }
        KvCache cache = cfg.useCache() ? new KvCache(model.manager(), model.numLayers()) : null;
        try {
            long[][] next = null;
            for (int step = 0; step < cfg.maxNewTokens(); step++) {
                float[][] logits;
                try (NDManager m = model.newStepManager()) {
                    NDArray ids;
                    NDArray am;
                    if (cache != null && step > 0) {
                        ids = m.create(flatten(next), new Shape(b, 1));
                        am = null; // the cache extends its mask with ones
                    } else {
                        int len = seq.get(0).length;
                        ids = m.create(flatten(seq.toArray(new long[0][])), new Shape(b, len));
                        am = m.create(flatten(mask.toArray(new long[0][])), new Shape(b, len));
                    }
                    NDArray last = model.forward(ids, am, Hooks.NONE, cache, false, true).logits();
                    logits = rows(last.toFloatArray(), b);
                }
                next = new long[b][1];
                boolean allDone = true;
                for (int i = 0; i < b; i++) {
                    if (reason[i] != null) {
                        next[i][0] = pad; // finished rows keep a harmless token; nothing reads it
                        continue;
                    }
                    int tok = sampler.sample(logits[i], rng);
                    next[i][0] = tok;
                    out.get(i).add(tok);
                    if (eos.contains(tok)) {
                        reason[i] = StopReason.EOS;
                    } else if (hitsStop(out.get(i), cfg)) {
                        reason[i] = StopReason.STOP_STRING;
                    }
                    allDone &= reason[i] != null;
                }
                for (int i = 0; i < b; i++) {
                    seq.set(i, append(seq.get(i), next[i][0]));
                    mask.set(i, append(mask.get(i), 1));
                }
                if (allDone) {
                    break;
                }
            }
        } finally {
            if (cache != null) {
                cache.close();
            }
        }
        List<Generation> result = new ArrayList<>();
        for (int i = 0; i < b; i++) {
            int[] toks = out.get(i).stream().mapToInt(Integer::intValue).toArray();
            result.add(new Generation(prompts.get(i).clone(), toks, text(toks, cfg),
                    reason[i] == null ? StopReason.LENGTH : reason[i]));
        }
        return result;
    }

    private boolean hitsStop(List<Integer> tokens, GenerationConfig cfg) {
        if (cfg.stopStrings().isEmpty()) {
            return false;
        }
        String s = decoder.apply(tokens.stream().mapToInt(Integer::intValue).toArray());
        return cfg.stopStrings().stream().anyMatch(s::contains);
    }

    private String text(int[] tokens, GenerationConfig cfg) {
        if (decoder == null) {
            return null;
        }
        String s = decoder.apply(tokens);
        for (String stop : cfg.stopStrings()) {
            int at = s.indexOf(stop);
            if (at >= 0) {
                s = s.substring(0, at);
            }
        }
        return s;
    }

    private static long[] flatten(long[][] rows) {
        int w = rows[0].length;
        long[] flat = new long[rows.length * w];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, flat, i * w, w);
        }
        return flat;
    }

    private static float[][] rows(float[] flat, int b) {
        int v = flat.length / b;
        float[][] r = new float[b][];
        for (int i = 0; i < b; i++) {
            r[i] = Arrays.copyOfRange(flat, i * v, (i + 1) * v);
        }
        return r;
    }

    private static long[] append(long[] a, long x) {
        long[] r = Arrays.copyOf(a, a.length + 1);
        r[a.length] = x;
        return r;
    }
}
