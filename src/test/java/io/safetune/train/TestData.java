package io.safetune.train;

import io.safetune.data.TrainingExample;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Synthetic examples with a learnable rule: each response token is (previous token + 1) mod V. */
final class TestData {

    private TestData() {
    }

    /** {@code n} examples, prompts of 1..maxPrompt tokens, responses of 1..maxResponse tokens. */
    static List<TrainingExample> examples(int n, int vocab, int maxPrompt, int maxResponse, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<TrainingExample> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(example(r, vocab, 1 + r.nextInt(maxPrompt), 1 + r.nextInt(maxResponse)));
        }
        return out;
    }

    /** {@code n} examples all with exactly {@code prompt} + {@code response} tokens. */
    static List<TrainingExample> fixedLength(int n, int vocab, int prompt, int response, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<TrainingExample> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(example(r, vocab, prompt, response));
        }
        return out;
    }

    private static TrainingExample example(SplittableRandom r, int vocab, int promptLen, int responseLen) {
        int[] prompt = new int[promptLen];
        for (int j = 0; j < promptLen; j++) {
            prompt[j] = r.nextInt(vocab);
        }
        int[] response = new int[responseLen];
        int prev = prompt[promptLen - 1];
        for (int j = 0; j < responseLen; j++) {
            prev = (prev + 1) % vocab;
            response[j] = prev;
        }
        return new TrainingExample(prompt, response);
    }
}
