package io.safetune.eval;

import io.safetune.model.CausalLM;
import io.safetune.model.Generation;
import io.safetune.model.GenerationConfig;
import io.safetune.model.Generator;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The decoding both generative evaluations share: encode every prompt, decode in batches of similar
 * length (less padding; greedy rows decode as they would alone, so grouping does not change answers),
 * and return the answers in the prompts' order.
 */
final class GeneratedAnswers {

    /**
     * One answer.
     *
     * @param tokens     the generated ids, EOS included when generation stopped on it
     * @param text       the decoded answer: EOS dropped, cut before a stop string
     * @param stopReason why generation stopped
     */
    record Answer(String prompt, List<Integer> tokens, String text, io.safetune.model.StopReason stopReason) {
    }

    private GeneratedAnswers() {
    }

    static List<Answer> generate(CausalLM model, TextCodec codec, List<String> prompts, EvalConfig config) {
        if (model == null || codec == null || config == null) {
            throw new IllegalArgumentException((model == null ? "model" : codec == null ? "codec" : "config")
                    + ": must not be null");
        }
        if (prompts == null || prompts.isEmpty()) {
            throw new IllegalArgumentException("prompts: at least one prompt is needed");
        }
        int n = prompts.size();
        int vocab = model.config().vocabSize();
        int[][] ids = new int[n][];
        for (int i = 0; i < n; i++) {
            String p = prompts.get(i);
            if (p == null) {
                throw new IllegalArgumentException("prompts[" + i + "]: must not be null");
            }
            ids[i] = codec.encodePrompt(p);
            if (ids[i] == null || ids[i].length == 0) {
                throw new IllegalArgumentException("prompts[" + i + "]: encodes to no tokens");
            }
            for (int j = 0; j < ids[i].length; j++) {
                if (ids[i][j] < 0 || ids[i][j] >= vocab) {
                    throw new IllegalArgumentException("prompts[" + i + "]: token " + j + " is id " + ids[i][j]
                            + ", outside the model's vocabulary [0, " + vocab + ")");
                }
            }
        }
        GenerationConfig gen = config.generation();
        if (gen.eosTokenIds().isEmpty() && !codec.eosTokenIds().isEmpty()) {
            gen = gen.withEos(codec.eosTokenIds());
        }
        Integer[] order = IntStream.range(0, n).boxed().sorted(Comparator.comparingInt(i -> ids[i].length))
                .toArray(Integer[]::new);
        Generator generator = new Generator(model, codec::decode);
        Answer[] out = new Answer[n];
        try (NoGrad g = NoGrad.enter()) {
            for (int start = 0; start < n; start += config.batchSize()) {
                int end = Math.min(n, start + config.batchSize());
                List<int[]> batch = new ArrayList<>(end - start);
                for (int k = start; k < end; k++) {
                    batch.add(ids[order[k]]);
                }
                List<Generation> gens = generator.generate(batch, gen);
                for (int k = start; k < end; k++) {
                    int i = order[k];
                    out[i] = answer(prompts.get(i), gens.get(k - start), codec, gen);
                }
            }
        }
        return List.of(out);
    }

    private static Answer answer(String prompt, Generation g, TextCodec codec, GenerationConfig gen) {
        int[] tokens = g.tokens();
        int kept = g.stopReason() == io.safetune.model.StopReason.EOS ? tokens.length - 1 : tokens.length;
        String text = codec.decode(Arrays.copyOf(tokens, kept));
        for (String stop : gen.stopStrings()) {
            int at = text.indexOf(stop);
            if (at >= 0) {
                text = text.substring(0, at);
            }
        }
        return new Answer(prompt, Arrays.stream(tokens).boxed().toList(), text, g.stopReason());
    }
}
