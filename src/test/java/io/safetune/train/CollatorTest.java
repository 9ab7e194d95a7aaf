package io.safetune.train;

import io.safetune.data.TrainingExample;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CollatorTest {

    private static final TrainingExample A = new TrainingExample(new int[] {5, 6}, new int[] {7, 8, 9});
    private static final TrainingExample B = new TrainingExample(new int[] {1}, new int[] {2});

    @Test
    void padsRightAndShiftsLabelsOntoResponseTokens() {
        CollatedBatch b = new Collator(16, 0).collate(List.of(A, B));
        assertEquals(2, b.batchSize());
        assertEquals(5, b.length());
        assertArrayEquals(new long[] {5, 6, 7, 8, 9, 1, 2, 0, 0, 0}, b.inputIds());
        assertArrayEquals(new long[] {1, 1, 1, 1, 1, 1, 1, 0, 0, 0}, b.attentionMask());
        // position t is trained to predict token t+1, and only where t+1 is a response token
        assertArrayEquals(new long[] {6, 7, 8, 9, 0, 2, 0, 0, 0, 0}, b.labels());
        assertArrayEquals(new float[] {0, 1, 1, 1, 0, 1, 0, 0, 0, 0}, b.lossMask());
        assertEquals(4, b.responseTokens());
        assertEquals(7, b.realTokens());
    }

    @Test
    void truncatesFromTheRightAtMaxLength() {
        CollatedBatch b = new Collator(3, 0).collate(List.of(A, B));
        assertEquals(3, b.length());
        assertArrayEquals(new long[] {5, 6, 7, 1, 2, 0}, b.inputIds());
        assertArrayEquals(new long[] {6, 7, 0, 2, 0, 0}, b.labels());
        assertArrayEquals(new float[] {0, 1, 0, 1, 0, 0}, b.lossMask());
    }

    @Test
    void aResponseCutAwayCarriesNoLoss() {
        CollatedBatch b = new Collator(2, 0).collate(List.of(A));
        assertArrayEquals(new float[] {0, 0}, b.lossMask());
        assertEquals(0, b.responseTokens());
    }

    @Test
    void usesThePadId() {
        CollatedBatch b = new Collator(8, 3).collate(List.of(A, B));
        assertArrayEquals(new long[] {5, 6, 7, 8, 9, 1, 2, 3, 3, 3}, b.inputIds());
    }

    @Test
    void examplesAreValidatedAndImmutable() {
        assertThrows(IllegalArgumentException.class, () -> new TrainingExample(new int[] {1}, new int[0]));
        assertThrows(IllegalArgumentException.class, () -> new TrainingExample(null, new int[] {1}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new TrainingExample(new int[] {1, -4}, new int[] {1}));
        assertTrue(e.getMessage().contains("promptIds[1]") && e.getMessage().contains("-4"));
        int[] prompt = {1, 2};
        TrainingExample x = new TrainingExample(prompt, new int[] {3});
        prompt[0] = 99;
        x.promptIds()[1] = 99;
        assertArrayEquals(new int[] {1, 2}, x.promptIds());
        assertEquals(new TrainingExample(new int[] {1, 2}, new int[] {3}), x);
        assertThrows(IllegalArgumentException.class, () -> new Collator(1));
    }

    @Test
    void dataPlanIsAPureFunctionOfSeedAndStep() {
        DataPlan p = new DataPlan(10, 3, 2, 7);
        assertEquals(2, p.stepsPerEpoch());               // 4 micro-batches (3,3,3,1) in 2 steps
        DataPlan fresh = new DataPlan(10, 3, 2, 7);
        for (long step = 7; step >= 0; step--) {          // any order of queries
            List<int[]> a = p.microBatches(step);
            List<int[]> b = fresh.microBatches(step);
            assertEquals(a.size(), b.size());
            for (int i = 0; i < a.size(); i++) {
                assertArrayEquals(a.get(i), b.get(i));
            }
        }
        // one epoch covers every example exactly once
        Set<Integer> seen = new HashSet<>();
        int count = 0;
        for (long step = 2; step < 4; step++) {
            for (int[] mb : p.microBatches(step)) {
                for (int i : mb) {
                    seen.add(i);
                    count++;
                }
            }
        }
        assertEquals(10, count);
        assertEquals(10, seen.size());
        assertEquals(1, p.microBatches(1).get(1).length);  // last micro-batch of the epoch is short
        assertFalse(java.util.Arrays.equals(p.order(0), p.order(1)), "each epoch reshuffles");
        assertFalse(java.util.Arrays.equals(p.order(0), new DataPlan(10, 3, 2, 8).order(0)),
                "the seed changes the order");
        assertEquals(1, p.epochOf(3));
    }
}
