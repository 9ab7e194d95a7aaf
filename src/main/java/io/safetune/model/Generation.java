package io.safetune.model;

/**
 * One generated continuation.
 *
 * @param tokens     new tokens, without the prompt; includes the EOS token when it stopped on one
 * @param text       decoded new text, cut before a stop string (null without a decoder)
 * @param stopReason why it stopped
 */
public record Generation(int[] promptIds, int[] tokens, String text, StopReason stopReason) {
}
