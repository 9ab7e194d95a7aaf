package io.safetune.method;

import java.util.Locale;

/**
 * The three places of the harmful-fine-tuning story a defence can fill: align (base → aligned model),
 * fine-tune (aligned model + the user's data → adapter) and post-process (base, aligned and adapter →
 * a new adapter). Evaluation is not a slot: it runs on every product the same way.
 */
public enum Slot {
    ALIGN("align"),
    FINE_TUNE("fineTune"),
    POST_PROCESS("post");

    private final String field;

    Slot(String field) {
        this.field = field;
    }

    /** The slot's key in an experiment file's {@code defences} entries. */
    public String field() {
        return field;
    }

    /** The slot whose experiment-file key is {@code field}, or an error listing the three. */
    public static Slot ofField(String field) {
        for (Slot s : values()) {
            if (s.field.equals(field)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown slot '" + field + "' (slots: align, fineTune, post)");
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
