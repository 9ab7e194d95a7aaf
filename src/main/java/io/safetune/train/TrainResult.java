package io.safetune.train;

import java.util.List;

/**
 * The outcome of {@link Trainer#fit}. Histories cover the whole run, including the steps done before
 * a resume, so that a resumed result equals an uninterrupted one.
 *
 * @param losses          loss of every completed step (index = step − 1)
 * @param learningRates   learning rate of every completed step
 * @param gradNorms       pre-clip global gradient norm of every completed step
 * @param startStep       the step this run started from (0 unless resumed)
 * @param finalStep       optimiser steps completed
 * @param totalSteps      steps the run was configured for
 * @param stoppedEarly    true when {@link Trainer#requestStop()} ended it before totalSteps
 * @param wallSeconds     wall time of this run (not of the runs before a resume)
 * @param tokensPerSecond non-padding tokens per second in this run
 * @param checkpoints     checkpoint folders written by this run, oldest first (some may since have
 *                        been pruned)
 */
public record TrainResult(List<Double> losses, List<Double> learningRates, List<Double> gradNorms,
                          long startStep, long finalStep, long totalSteps, boolean stoppedEarly,
                          double wallSeconds, double tokensPerSecond, List<String> checkpoints) {

    public TrainResult {
        losses = List.copyOf(losses);
        learningRates = List.copyOf(learningRates);
        gradNorms = List.copyOf(gradNorms);
        checkpoints = List.copyOf(checkpoints);
    }

    /** Loss of the last step, NaN when no step was taken. */
    public double finalLoss() {
        return losses.isEmpty() ? Double.NaN : losses.get(losses.size() - 1);
    }

    @Override
    public String toString() {
        // "0 checkpoints" says nothing a reader needs: the count shows only when some were written
        return String.format(java.util.Locale.ROOT, "TrainResult[steps %d/%d%s, final loss %.4f, %.1f s, %.0f tok/s%s]",
                finalStep, totalSteps, stoppedEarly ? " (stopped)" : "", finalLoss(), wallSeconds,
                tokensPerSecond, checkpoints.isEmpty() ? "" : ", " + checkpoints.size() + (checkpoints.size() == 1 ? " checkpoint" : " checkpoints"));
    }
}
