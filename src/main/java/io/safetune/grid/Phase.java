package io.safetune.grid;

/** The three jobs of a grid, in the order they run; each has its own job script. */
public enum Phase {
    /** One array task per shared unit: the base and aligned models every cell builds on. */
    SHARED("shared"),
    /** One array task per cell: a combination's fine-tune at one p and its post-process, on one seed. */
    CELLS("cells"),
    /** One task that reads every cell's stages into results.json and report.html. */
    GATHER("gather");

    private final String word;

    Phase(String word) {
        this.word = word;
    }

    /** The job script's name and the word status uses. */
    public String word() {
        return word;
    }
}
