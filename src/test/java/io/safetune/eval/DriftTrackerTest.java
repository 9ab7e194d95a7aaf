package io.safetune.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.safetune.lora.LoraAdapter;
import io.safetune.lora.LoraConfig;
import io.safetune.model.CausalLM;
import io.safetune.testing.Fixtures;
import io.safetune.train.TrainConfig;
import io.safetune.train.Trainer;
import io.safetune.data.TrainingExample;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

class DriftTrackerTest {

    static List<TrainingExample> examples(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<TrainingExample> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] prompt = r.ints(3 + r.nextInt(4), 3, 128).toArray();
            int[] response = r.ints(2 + r.nextInt(4), 3, 128).toArray();
            out.add(new TrainingExample(prompt, response));
        }
        return out;
    }

    static TrainConfig config(int steps) {
        return TrainConfig.builder().learningRate(1e-2).batchSize(4).maxSteps(steps).maxLength(16).seed(3).build();
    }

    @Test
    void tracksDriftFromTheAlignedStateOverALoraRun() throws Exception {
        try (CausalLM model = CausalLM.load(Fixtures.get("llama-tiny"))) {
            AttentionCapture aligned = EmbeddingDrift.capture(model, EmbeddingDriftTest.INPUTS);
            try (LoraAdapter adapter = LoraAdapter.inject(model, LoraConfig.qv(4, 8), 11);
                    Trainer trainer = new Trainer(model, config(5))) {
                DriftTracker tracker = DriftTracker.against(model, aligned, 2, DriftConfig.defaults());
                trainer.fit(examples(16, 5), tracker);
                DriftSeries series = tracker.series();
                assertEquals(List.of(0L, 2L, 4L, 5L), series.steps(), "start, every 2 steps, and the last");
                // B = 0 at the start: the adapter adds exactly nothing
                assertEquals(List.of(0.0, 0.0, 0.0), series.points().get(0).drift().perLayer());
                for (int k = 1; k < 4; k++) {
                    for (double v : series.points().get(k).drift().perLayer()) {
                        assertTrue(v > 0, "step " + series.steps().get(k) + ": " + series.points().get(k));
                    }
                }
                List<Double> agg = series.aggregateValues();
                assertTrue(agg.get(3) > agg.get(1), "drift should grow with training: " + agg);
                assertEquals(series.layer(1).get(3), series.points().get(3).drift().perLayer().get(1));
                ObjectMapper json = new ObjectMapper();
                assertEquals(series, json.readValue(json.writeValueAsString(series), DriftSeries.class));
            }
        }
    }

    @Test
    void fromStartTakesTheModelAtTheFirstStepAsReference() {
        try (CausalLM model = CausalLM.load(Fixtures.get("llama-tiny"));
                LoraAdapter adapter = LoraAdapter.inject(model, LoraConfig.qv(4, 8), 11);
                Trainer trainer = new Trainer(model, config(3))) {
            DriftTracker tracker = DriftTracker.fromStart(model, EmbeddingDriftTest.INPUTS, 5,
                    DriftConfig.defaults().withAggregate(DriftAggregate.REFERENCE_SUM_SQUARED));
            trainer.fit(examples(12, 6), tracker);
            List<DriftPoint> points = tracker.points();
            assertEquals(List.of(0L, 3L), points.stream().map(DriftPoint::step).toList());
            assertEquals(0.0, points.get(0).drift().aggregateValue());
            assertEquals(DriftAggregate.REFERENCE_SUM_SQUARED, points.get(1).drift().aggregate());
            assertTrue(points.get(1).drift().aggregateValue() > 0);
            assertEquals(3, tracker.reference().samples());
        }
    }
}
