package io.safetune.data;

import java.util.Arrays;

/**
 * One supervised example: a prompt the model reads and a response it learns to produce.
 *
 * <p>The loss is taken on the response tokens only, so the two parts are kept apart rather than
 * concatenated with a separate mask. Arrays are copied on the way in and out so that an example cannot
 * change after it was fingerprinted into a checkpoint.
 *
 * @param promptIds   token ids of the prompt (chat template included), may be empty
 * @param responseIds token ids of the answer (end-of-sequence token included), at least one
 */
public record TrainingExample(int[] promptIds, int[] responseIds) {

    public TrainingExample {
        if (promptIds == null) {
            throw new IllegalArgumentException("promptIds must not be null");
        }
        if (responseIds == null || responseIds.length == 0) {
            throw new IllegalArgumentException("responseIds must hold at least one token, got "
                    + (responseIds == null ? "null" : "an empty array"));
        }
        checkIds("promptIds", promptIds);
        checkIds("responseIds", responseIds);
        promptIds = promptIds.clone();
        responseIds = responseIds.clone();
    }

    private static void checkIds(String field, int[] ids) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0) {
                throw new IllegalArgumentException(field + "[" + i + "] must be >= 0, got " + ids[i]);
            }
        }
    }

    @Override
    public int[] promptIds() {
        return promptIds.clone();
    }

    @Override
    public int[] responseIds() {
        return responseIds.clone();
    }

    /** Prompt plus response length, before any truncation. */
    public int length() {
        return promptIds.length + responseIds.length;
    }

    /** Token {@code i} of prompt ++ response, without copying. */
    public int tokenAt(int i) {
        return i < promptIds.length ? promptIds[i] : responseIds[i - promptIds.length];
    }

    public int promptLength() {
        return promptIds.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TrainingExample e
                && Arrays.equals(promptIds, e.promptIds)
                && Arrays.equals(responseIds, e.responseIds);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(promptIds) + Arrays.hashCode(responseIds);
    }

    @Override
    public String toString() {
        return "TrainingExample[prompt=" + promptIds.length + " tokens, response="
                + responseIds.length + " tokens]";
    }
}
