package io.safetune.method;

import io.safetune.lora.LoraAdapter;
import io.safetune.lora.LoraConfig;
import io.safetune.model.CausalLM;
import io.safetune.train.ScheduleType;
import io.safetune.train.TrainConfig;

import java.util.List;
import java.util.function.Supplier;

/**
 * The alignment adapter of the {@link AlignFlow#LORA} flow and its optimiser. {@link #REFERENCE} is the
 * Vaccine reference's (git-disl/Vaccine train.py and script/alignment/*.sh, for SFT and Vaccine alike):
 * r 8, α 4, dropout 0.1 on q, k, v, o, gate, up, down; AdamW lr 1e-3, weight decay 0.1, cosine with 10 %
 * warm-up. Steps, batch and seed stay the story's, so a flow changes what is trained, not for how long.
 *
 * @param r            the adapter's rank
 * @param alpha        lora_alpha (s = α/r)
 * @param dropout      dropout on the adapter's input
 * @param modules      adapted linear modules, every layer
 * @param learningRate AdamW's peak learning rate
 * @param weightDecay  AdamW's decoupled weight decay
 * @param warmupRatio  warm-up share of the cosine schedule
 */
public record AlignmentLora(int r, double alpha, double dropout, List<String> modules, double learningRate,
        double weightDecay, double warmupRatio) {

    public static final AlignmentLora REFERENCE = new AlignmentLora(8, 4.0, 0.1, CausalLM.linearModules(), 1e-3, 0.1, 0.1);

    public AlignmentLora {
        modules = List.copyOf(modules);
        new LoraConfig(r, alpha, dropout, modules, List.of(), false); // names r, alpha, dropout or targetModules
        if (!(learningRate > 0) || !Double.isFinite(learningRate)) {
            throw new IllegalArgumentException("learningRate: must be > 0, got " + learningRate);
        }
        if (!(weightDecay >= 0) || !Double.isFinite(weightDecay)) {
            throw new IllegalArgumentException("weightDecay: must be >= 0, got " + weightDecay);
        }
        if (!(warmupRatio >= 0 && warmupRatio < 1)) {
            throw new IllegalArgumentException("warmupRatio: must be in [0, 1), got " + warmupRatio);
        }
    }

    /** The adapter, every layer. */
    public LoraConfig lora() {
        return new LoraConfig(r, alpha, dropout, modules, List.of(), false);
    }

    /** The flow's optimiser: FULL keeps the story's; LORA takes this AdamW and the story's steps, batch and seed. */
    public TrainConfig training(AlignFlow flow, TrainConfig story) {
        if (flow == AlignFlow.FULL) {
            return story;
        }
        return story.toBuilder().learningRate(learningRate).weightDecay(weightDecay).schedule(ScheduleType.COSINE)
                .warmupSteps(0).warmupRatio(warmupRatio).build();
    }

    /**
     * Runs {@code fit} on {@code model} under {@code flow}: FULL unfreezes every weight; LORA injects this
     * adapter (seeded), fits, and merges W += s·B·A, so the model written afterwards holds the alignment.
     */
    public <T> T train(CausalLM model, AlignFlow flow, long seed, Supplier<T> fit) {
        if (flow == AlignFlow.FULL) {
            model.unfreezeAll();
            return fit.get();
        }
        try (LoraAdapter adapter = LoraAdapter.inject(model, lora(), seed)) {
            T result = fit.get();
            adapter.merge(); // closing the adapter leaves the merge in the weights
            return result;
        }
    }
}
