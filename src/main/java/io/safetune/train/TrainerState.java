package io.safetune.train;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The {@code trainer_state.json} of a checkpoint: everything besides tensors that a resumed run
 * needs, plus the history so that its result covers the whole run.
 *
 * @param formatVersion        version of this layout
 * @param globalStep           optimiser steps completed; the resumed run starts at this 0-based step
 * @param epoch                fractional epoch reached (globalStep / steps per epoch)
 * @param seed                 the run's seed (also in config, kept apart for readers of the JSON)
 * @param config               the run's configuration; a resumed run uses it unchanged
 * @param examples             number of training examples
 * @param examplesFingerprint  SHA-256 over the examples, to refuse resuming on different data
 * @param parameterNames       the trainable parameters, in order
 * @param optimizerSteps       AdamW's step count (bias correction)
 * @param losses               loss of every completed step
 * @param learningRates        learning rate of every completed step
 * @param gradNorms            pre-clip gradient norm of every completed step
 * @param elapsedSeconds       training time summed over all runs that led here
 * @param rng                  how random state is restored (a note: it is derived, not stored)
 * @param settings             the model's {@link TrainableModel#trainingSettings()} (LoRA r, alpha,
 *                             dropout, targets, layers, rsLoRA; LoRA or full), by key; null in
 *                             formatVersion 1 checkpoints, which did not record them
 */
public record TrainerState(int formatVersion, long globalStep, double epoch, long seed,
                           TrainConfig config, int examples, String examplesFingerprint,
                           List<String> parameterNames, long optimizerSteps, List<Double> losses,
                           List<Double> learningRates, List<Double> gradNorms,
                           double elapsedSeconds, String rng, Map<String, String> settings) {

    /** 2 added {@code settings}. */
    public static final int FORMAT_VERSION = 2;

    /** What the checkpoint stores as "RNG state". */
    public static final String RNG_NOTE = "derived, not stored: at the start of optimiser step k "
            + "(0-based) libtorch's generator and DJL's Java RNG are reseeded with "
            + "Seeds.mix(seed, STEP_RNG, k), and epoch e shuffles the data with SplittableRandom("
            + "Seeds.mix(seed, DATA_ORDER, e)); the random state at step k is a function of (seed, k)";

    public TrainerState {
        parameterNames = List.copyOf(parameterNames);
        losses = List.copyOf(losses);
        learningRates = List.copyOf(learningRates);
        gradNorms = List.copyOf(gradNorms);
        settings = settings == null ? null : Collections.unmodifiableMap(new TreeMap<>(settings));
    }
}
