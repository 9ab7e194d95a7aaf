package io.safetune.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import io.safetune.testing.Fixtures;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

class GeneratorTest {

    private static final List<int[]> PROMPTS = List.of(new int[] {5, 17, 99, 3, 42, 8, 77}, new int[] {12, 4}, new int[] {60, 61, 62});

    @ParameterizedTest
    @ValueSource(strings = {"llama-tiny", "qwen2-tiny"})
    void greedyWithCacheEqualsGreedyWithout(String fixture) {
        try (CausalLM model = CausalLM.load(Fixtures.get(fixture))) {
            Generator g = new Generator(model);
            GenerationConfig cfg = GenerationConfig.greedy(12).withEos(List.of(-1));
            List<Generation> cached = g.generate(PROMPTS, cfg);
            List<Generation> plain = g.generate(PROMPTS, cfg.withCache(false));
            for (int i = 0; i < PROMPTS.size(); i++) {
                assertEquals(12, cached.get(i).tokens().length);
                assertArrayEquals(plain.get(i).tokens(), cached.get(i).tokens(), "row " + i);
            }
        }
    }

    @Test
    void aLeftPaddedRowDecodesAsItWouldAlone() {
        try (CausalLM model = CausalLM.load(Fixtures.get("qwen2-tiny"))) {
            Generator g = new Generator(model);
            GenerationConfig cfg = GenerationConfig.greedy(10).withEos(List.of(-1));
            List<Generation> batch = g.generate(PROMPTS, cfg);
            for (int i = 0; i < PROMPTS.size(); i++) {
                int[] alone = g.generate(List.of(PROMPTS.get(i)), cfg).get(0).tokens();
                assertArrayEquals(alone, batch.get(i).tokens(), "row " + i);
            }
        }
    }

    @Test
    void cachedDecodingGivesTheSameLogitsAsAFullForward() {
        try (CausalLM model = CausalLM.load(Fixtures.get("qwen2-tiny"));
                NDManager m = model.newStepManager();
                KvCache cache = new KvCache(model.manager(), model.numLayers())) {
            long[] ids = {5, 17, 99, 3, 42, 8, 77, 1, 2};
            float[] full = model.forward(m.create(ids, new Shape(1, 9))).logits().get(":, -1, :").toFloatArray();
            model.forward(m.create(Arrays.copyOf(ids, 6), new Shape(1, 6)), null, Hooks.NONE, cache, false, true);
            model.forward(m.create(new long[] {77, 1}, new Shape(1, 2)), null, Hooks.NONE, cache, false, true);
            NDArray last = model.forward(m.create(new long[] {2}, new Shape(1, 1)), null, Hooks.NONE, cache, false, true).logits();
            assertEquals(9, cache.length());
            float[] inc = last.toFloatArray();
            for (int i = 0; i < full.length; i++) {
                assertEquals(full[i], inc[i], 1e-5, "logit " + i);
            }
        }
    }

    @Test
    void stopsAtEosAndSamplesReproducibly() {
        try (CausalLM model = CausalLM.load(Fixtures.get("llama-tiny"))) {
            Generator g = new Generator(model, ids -> Arrays.toString(ids));
            int[] greedy = g.generate(List.of(PROMPTS.get(0)), GenerationConfig.greedy(8).withEos(List.of(-1))).get(0).tokens();
            Generation stopped = g.generate(List.of(PROMPTS.get(0)), GenerationConfig.greedy(8).withEos(List.of(greedy[3]))).get(0);
            int firstEos = 0;
            while (greedy[firstEos] != greedy[3]) {
                firstEos++;
            }
            assertEquals(StopReason.EOS, stopped.stopReason());
            assertArrayEquals(Arrays.copyOf(greedy, firstEos + 1), stopped.tokens());
            Generation stop = g.generate(List.of(PROMPTS.get(0)), GenerationConfig.greedy(8).withEos(List.of(-1))
                    .withStopStrings(List.of(", " + greedy[2]))).get(0);
            assertEquals(StopReason.STOP_STRING, stop.stopReason());
            assertEquals(3, stop.tokens().length);
            assertEquals("[" + greedy[0] + ", " + greedy[1], stop.text());

            GenerationConfig sample = GenerationConfig.greedy(20).withEos(List.of(-1)).withSampling(1.5, 0.95, 11);
            int[] a = g.generate(PROMPTS, sample).get(1).tokens();
            int[] b = g.generate(PROMPTS, sample).get(1).tokens();
            assertArrayEquals(a, b);
            int[] c = g.generate(PROMPTS, sample.withSampling(1.5, 0.95, 12)).get(1).tokens();
            assertNotEquals(Arrays.toString(a), Arrays.toString(c));
            // a tiny nucleus keeps only the top token: sampling becomes greedy
            int[] nucleus = g.generate(List.of(PROMPTS.get(0)), GenerationConfig.greedy(8).withEos(List.of(-1)).withSampling(1.0, 1e-9, 3)).get(0).tokens();
            assertArrayEquals(greedy, nucleus);
            assertTrue(greedy.length == 8);
        }
    }
}
