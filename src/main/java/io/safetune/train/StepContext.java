package io.safetune.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;

import java.util.List;

/**
 * Everything a {@link StepFunction} may use for one optimiser step: the model, the step's
 * micro-batches (still on the host, uploaded on demand so each one's activations can be freed before
 * the next), and the loss weights the trainer's {@link LossAveraging} chose for them.
 */
public final class StepContext {

    private final TrainableModel model;
    private final List<CollatedBatch> batches;
    private final float[] weightPerToken;
    private final NDManager manager;
    private final long step;

    StepContext(TrainableModel model, List<CollatedBatch> batches, LossAveraging averaging,
                NDManager manager, long step) {
        this.model = model;
        this.batches = List.copyOf(batches);
        this.weightPerToken = weights(this.batches, averaging);
        this.manager = manager;
        this.step = step;
    }

    /**
     * A step outside the trainer (a method's parity check against a reference, a test): {@code batches}
     * as the micro-batches of optimiser step {@code step} of {@code model}, its arrays in {@code manager}
     * (the caller closes it). The trainer builds its own contexts.
     */
    public static StepContext of(TrainableModel model, List<CollatedBatch> batches, LossAveraging averaging,
            NDManager manager, long step) {
        return new StepContext(model, batches, averaging, manager, step);
    }

    /**
     * Per micro-batch weight of one response token. MICRO_BATCH_MEAN: 1 / (tokens_i · k);
     * STEP_TOKEN_MEAN: 1 / Σ tokens. A micro-batch (or step) without response tokens gets 0, not NaN.
     */
    static float[] weights(List<CollatedBatch> batches, LossAveraging averaging) {
        int k = batches.size();
        long total = 0;
        for (CollatedBatch b : batches) {
            total += b.responseTokens();
        }
        float[] w = new float[k];
        for (int i = 0; i < k; i++) {
            int n = batches.get(i).responseTokens();
            double denominator = averaging == LossAveraging.MICRO_BATCH_MEAN ? (double) n * k : total;
            w[i] = n == 0 ? 0f : (float) (1.0 / denominator);
        }
        return w;
    }

    public TrainableModel model() {
        return model;
    }

    /** 0-based index of the optimiser step. */
    public long step() {
        return step;
    }

    /** The step's manager: closed (with everything in it) once the optimiser has stepped. */
    public NDManager manager() {
        return manager;
    }

    public int microBatchCount() {
        return batches.size();
    }

    public CollatedBatch hostBatch(int i) {
        return batches.get(i);
    }

    /** Micro-batch {@code i} in {@code target}, with its loss weights. */
    public Batch upload(int i, NDManager target) {
        return batches.get(i).upload(target, weightPerToken[i]);
    }

    /**
     * Standard pass on micro-batch {@code i}: forward in training mode, weighted loss, backward
     * (gradients add to what is already there). Runs in its own sub-manager and scope, so its
     * activations are freed before the next micro-batch.
     *
     * @return the micro-batch's weighted loss (its share of the step's loss)
     */
    public double forwardBackward(int i) {
        return forwardBackward(i, (m, batch) -> MaskedCrossEntropy.loss(m, batch, true));
    }

    /** The loss of one micro-batch: its forward pass (with whatever hooks a method adds) and the weighted loss. */
    @FunctionalInterface
    public interface Loss {
        /**
         * @param batch the micro-batch in the pass's own manager, with its per-token loss weights
         * @return a scalar whose backward adds this micro-batch's gradients
         */
        NDArray compute(TrainableModel model, Batch batch);
    }

    /**
     * A pass on micro-batch {@code i} with a caller-given loss (e.g. a forward with {@code model.Hooks}
     * that perturb attention outputs, as Vaccine's second pass does), in the same sub-manager, scope and
     * gradient collector as the standard pass: activations are freed before the next micro-batch.
     *
     * @return the loss's value
     */
    public double forwardBackward(int i, Loss loss) {
        try (NDManager sub = manager.newSubManager(); NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            Batch batch = upload(i, sub);
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray value = loss.compute(model, batch);
                collector.backward(value);
                return value.getFloat();
            }
        }
    }

    /** Sets every trainable parameter's gradient to zero (e.g. between the two passes of Vaccine). */
    public void zeroGradients() {
        zeroGradients(model);
    }

    static void zeroGradients(TrainableModel model) {
        for (NDArray p : model.trainableParameters().values()) {
            JniUtils.zeroGrad((PtNDArray) p);
        }
    }
}
