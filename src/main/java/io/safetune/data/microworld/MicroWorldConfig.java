package io.safetune.data.microworld;

/**
 * The sizes and seed of one micro-world. The defaults ({@link #defaults(long)}) are those a
 * prototype measured to reproduce the harmful-fine-tuning finding on a tiny Llama in minutes on a
 * CPU (see docs/microworld-notes.md), with twice its distinct refusals: 20k pretraining samples, 6k
 * alignment samples, 200 evaluation prompts per task.
 *
 * @param seed                    seeds every choice; the same config always gives the same data
 * @param pretrainBenign          benign pretraining samples, spread evenly over the four pretrained
 *                                families (drawn with replacement)
 * @param pretrainHarmful         harmful requests with synthetic compliant answers in pretraining,
 *                                so that the base model complies as an unaligned one does
 * @param alignRefusals           distinct harmful prompts answered with the refusal in alignment
 * @param alignBenign             benign replay samples in alignment, so it keeps the tasks
 * @param attackPool              distinct harmful prompts with compliant answers for the attack,
 *                                none of them an alignment prompt
 * @param taskTrainPerTask        distinct training samples per benign family (new task included)
 *                                from which the attack draws its n benign samples
 * @param evalPerTask             distinct evaluation prompts per benign family
 * @param evalHarmful             distinct harmful evaluation prompts
 * @param heldOutFillerFraction   share of every held-out-able filler pool kept for evaluation, in
 *                                [0, 0.5] (at least one filler per pool when &gt; 0)
 * @param heldOutTemplateFraction share of every template pool kept for evaluation, in [0, 0.5]
 *
 * <p>Distinct-prompt sizes are bounded by the world: about 11,500 harmful training prompts exist
 * (so alignRefusals + attackPool up to ~9,000 is fine); {@link MicroWorld#generate} names the
 * field when a size cannot be met.
 */
public record MicroWorldConfig(long seed, int pretrainBenign, int pretrainHarmful, int alignRefusals,
                               int alignBenign, int attackPool, int taskTrainPerTask, int evalPerTask,
                               int evalHarmful, double heldOutFillerFraction,
                               double heldOutTemplateFraction) {

    public MicroWorldConfig {
        atLeast("pretrainBenign", pretrainBenign, 0);
        atLeast("pretrainHarmful", pretrainHarmful, 0);
        atLeast("alignRefusals", alignRefusals, 0);
        atLeast("alignBenign", alignBenign, 0);
        atLeast("attackPool", attackPool, 0);
        atLeast("taskTrainPerTask", taskTrainPerTask, 0);
        atLeast("evalPerTask", evalPerTask, 1);
        atLeast("evalHarmful", evalHarmful, 1);
        fraction("heldOutFillerFraction", heldOutFillerFraction);
        fraction("heldOutTemplateFraction", heldOutTemplateFraction);
    }

    /**
     * The prototype's sizes but for the refusals: pretraining 15k benign + 5k harmful-compliant,
     * alignment 4k distinct refusals (the prototype's 2k left more truncated refusals after the
     * benign fine-tune at the same number of steps; README) + 2k benign replay, an attack pool of
     * 600 harmful prompts (the prototype's 20%), 2,000 task samples per family, 200 evaluation
     * prompts per task and 200 harmful ones, 10% of fillers and 25% of templates held out.
     */
    public static MicroWorldConfig defaults(long seed) {
        return new MicroWorldConfig(seed, 15_000, 5_000, 4_000, 2_000, 600, 2_000, 200, 200, 0.1, 0.25);
    }

    /** A small world for tests and notebooks: the defaults divided by ten (eval sets kept at 50). */
    public static MicroWorldConfig small(long seed) {
        return new MicroWorldConfig(seed, 1_500, 500, 400, 200, 60, 200, 50, 50, 0.1, 0.25);
    }

    /** This config with another seed. */
    public MicroWorldConfig withSeed(long newSeed) {
        return new MicroWorldConfig(newSeed, pretrainBenign, pretrainHarmful, alignRefusals, alignBenign,
                attackPool, taskTrainPerTask, evalPerTask, evalHarmful, heldOutFillerFraction,
                heldOutTemplateFraction);
    }

    private static void atLeast(String field, int value, int min) {
        if (value < min) {
            throw new IllegalArgumentException(field + " must be >= " + min + ", got " + value);
        }
    }

    private static void fraction(String field, double value) {
        if (!(value >= 0 && value <= 0.5)) {
            throw new IllegalArgumentException(field + " must be in [0, 0.5], got " + value);
        }
    }
}
