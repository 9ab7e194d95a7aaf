package io.safetune.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** Why generation of one sequence stopped; written as {@code "eos"}, {@code "stop_string"} or {@code "length"}. */
public enum StopReason {
    /** The model produced an end-of-sequence token (it is the last token). */
    EOS("eos"),
    /** The text reached one of the stop strings. */
    STOP_STRING("stop_string"),
    /** The new-token budget ran out. */
    LENGTH("length");

    private final String word;

    StopReason(String word) {
        this.word = word;
    }

    @JsonValue
    public String word() {
        return word;
    }

    @JsonCreator
    public static StopReason of(String word) {
        for (StopReason r : values()) {
            if (r.word.equals(word)) {
                return r;
            }
        }
        throw new IllegalArgumentException("stopReason: unknown '" + word + "' (eos, stop_string, length)");
    }

    @Override
    public String toString() {
        return word;
    }
}
