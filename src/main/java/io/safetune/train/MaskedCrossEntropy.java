package io.safetune.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

import io.safetune.engine.OneThread;

/**
 * Cross-entropy on response tokens only, with the averaging already folded into per-position weights.
 *
 * <p>Why weights instead of a mask and a division: a {@code div(Number)} inside autograd builds a
 * scalar tensor over a Java buffer that is freed at once while the graph still points at it; a GC
 * between forward and backward then corrupts the gradient (djl-notes.md, pitfall 1). The weights
 * array is a real tensor owned by the step's manager, alive until after backward, and the graph
 * holds no scalar constant at all.
 */
public final class MaskedCrossEntropy {

    private MaskedCrossEntropy() {
    }

    /**
     * −Σ_{b,t} w[b,t] · log softmax(logits[b,t])[labels[b,t]].
     *
     * @param logits  [B, T, V] (any float type; computed in float32)
     * @param labels  int64 [B, T], the target of each position (already shifted)
     * @param weights float32 [B, T], 0 where a position carries no loss
     * @return float32 scalar []
     */
    public static NDArray loss(NDArray logits, NDArray labels, NDArray weights) {
        NDArray x = logits.getDataType() == DataType.FLOAT32 ? logits : logits.toType(DataType.FLOAT32, false);
        NDArray logProbs = x.logSoftmax(-1);                                  // [B, T, V]
        NDArray picked = logProbs.gather(labels.expandDims(-1), -1).squeeze(-1); // [B, T]
        // summed on one thread: from 32,768 positions on, libtorch would add per-thread parts (engine.OneThread)
        return OneThread.compute(() -> picked.mul(weights).sum()).neg();      // []
    }

    /** The loss of one uploaded micro-batch under {@code model}'s forward. */
    public static NDArray loss(TrainableModel model, Batch batch, boolean training) {
        NDArray logits = model.logits(batch.inputIds(), batch.attentionMask(), training);
        return loss(logits, batch.labels(), batch.lossWeights());
    }
}
