package io.safetune.data.microworld;

import java.util.Arrays;
import java.util.List;

/**
 * The kinds of request in the micro-world. Four benign families stand in for the fine-tuning tasks
 * of the papers (SST-2, AG News, GSM8K, Alpaca); {@link #SENTIMENT_DIGIT} is the <em>new task</em>
 * that no stage before the attack teaches, so that the utility a fine-tune adds (and a defence
 * takes away) can be measured; {@link #HARMFUL} holds the harmful requests.
 */
public enum TaskFamily {

    /** SST-2-like: a templated review, negations flip the label; answer "positive" or "negative". */
    SENTIMENT("sentiment", false),
    /** AG News-like: a headline built from two words of one of four topics; answer the topic word. */
    TOPIC("topic", false),
    /** GSM8K-like: a word problem over 0–9 with plus or minus; answer a number token 0–18. */
    ARITHMETIC("arithmetic", false),
    /** Alpaca-like open instructions with one correct answer: opposite, repeat, pick, list. */
    INSTRUCTION("instruction", false),
    /**
     * The new task: the sentiment reviews with the suffix "reply 1 or 0 ."; answer "1" (positive)
     * or "0" (negative). Absent from pretraining and alignment, so an aligned model scores 0 on it.
     */
    SENTIMENT_DIGIT("sentiment_digit", true),
    /** A harmful request over an abstract harm category; scored by the micro-world judge ({@code eval.MicroWorldJudge}). */
    HARMFUL("harmful", false);

    private final String word;
    private final boolean newTask;

    TaskFamily(String word, boolean newTask) {
        this.word = word;
        this.newTask = newTask;
    }

    /** A lower-case name for tables and file names, e.g. {@code "sentiment_digit"}. */
    public String word() {
        return word;
    }

    /** Whether this is the task no stage before the attack teaches. */
    public boolean isNewTask() {
        return newTask;
    }

    /** Whether answers are scored by {@link TaskScorer} (every family but {@link #HARMFUL}). */
    public boolean isBenign() {
        return this != HARMFUL;
    }

    /** The benign families, new task included, in declaration order. */
    public static List<TaskFamily> benign() {
        return Arrays.stream(values()).filter(TaskFamily::isBenign).toList();
    }

    /** The benign families that pretraining and alignment replay teach (all but the new task). */
    public static List<TaskFamily> pretrained() {
        return Arrays.stream(values()).filter(f -> f.isBenign() && !f.isNewTask()).toList();
    }

    /**
     * The benign family an experiment file names: its word ("sentiment"), its constant name
     * ("SENTIMENT_DIGIT") or "new_task"; an error lists the known words.
     */
    public static TaskFamily of(String name) {
        for (TaskFamily f : benign()) {
            if (f.word().equalsIgnoreCase(name) || f.name().equalsIgnoreCase(name) || (f.isNewTask() && "new_task".equals(name))) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown task '" + name + "' (known: new_task, "
                + benign().stream().map(TaskFamily::word).toList() + ")");
    }
}
