package io.safetune.train;

import io.safetune.data.TrainingExample;
import java.util.List;

/**
 * Turns examples into a {@link CollatedBatch}: prompt ++ response, truncated from the right to the
 * maximum length, right-padded to the longest sequence of the batch.
 *
 * <p>Right padding keeps every real token at the same position as in an unpadded run, so a causal
 * model needs no position offsets. Truncating from the right cuts the end of the response first; an
 * example whose response is cut away entirely contributes no loss (and a batch with no response
 * token at all contributes zero, see {@link LossAveraging}).
 */
public final class Collator {

    private final int maxLength;
    private final long padId;

    /**
     * @param maxLength longest sequence kept, at least 2 (one input and one label)
     * @param padId     id written at padding positions; masked out, so any valid id will do
     */
    public Collator(int maxLength, long padId) {
        if (maxLength < 2) {
            throw new IllegalArgumentException("maxLength must be >= 2, got " + maxLength);
        }
        if (padId < 0) {
            throw new IllegalArgumentException("padId must be >= 0, got " + padId);
        }
        this.maxLength = maxLength;
        this.padId = padId;
    }

    public Collator(int maxLength) {
        this(maxLength, 0);
    }

    public CollatedBatch collate(List<TrainingExample> examples) {
        if (examples.isEmpty()) {
            throw new IllegalArgumentException("examples must not be empty");
        }
        int b = examples.size();
        int t = 0;
        for (TrainingExample e : examples) {
            t = Math.max(t, Math.min(e.length(), maxLength));
        }
        long[] inputIds = new long[b * t];
        long[] attention = new long[b * t];
        long[] labels = new long[b * t];
        float[] lossMask = new float[b * t];
        java.util.Arrays.fill(inputIds, padId);
        java.util.Arrays.fill(labels, padId);
        for (int row = 0; row < b; row++) {
            TrainingExample e = examples.get(row);
            int len = Math.min(e.length(), maxLength);
            int base = row * t;
            for (int pos = 0; pos < len; pos++) {
                inputIds[base + pos] = e.tokenAt(pos);
                attention[base + pos] = 1;
            }
            // logits at pos predict token pos + 1; train only where that token is a response token
            for (int pos = 0; pos + 1 < len; pos++) {
                labels[base + pos] = e.tokenAt(pos + 1);
                lossMask[base + pos] = pos + 1 >= e.promptLength() ? 1f : 0f;
            }
        }
        return new CollatedBatch(b, t, inputIds, attention, labels, lossMask);
    }

    public int maxLength() {
        return maxLength;
    }
}
