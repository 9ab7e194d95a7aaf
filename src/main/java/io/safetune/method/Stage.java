package io.safetune.method;

/** The products of the story, in order: each one is evaluated. */
public enum Stage {
    BASE("base"),
    ALIGNED("aligned"),
    /** The aligned model with the fine-tuned adapter (the attack, when p > 0). */
    FINE_TUNED("attacked"),
    POST_PROCESSED("post-processed");

    private final String word;

    Stage(String word) {
        this.word = word;
    }

    /** How results and charts name it. */
    public String word() {
        return word;
    }
}
