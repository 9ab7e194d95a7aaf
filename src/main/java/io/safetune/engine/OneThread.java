package io.safetune.engine;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;

import java.util.function.Supplier;

/**
 * Runs a few libtorch operations on one intra-op thread, so that their bits do not depend on
 * {@code --threads}.
 *
 * <p>Why: a reduction of a whole tensor to one number ({@code sum()}, {@code norm()}) over more than
 * libtorch's grain of 32,768 values is cut into one part per thread, and the parts are added at the end:
 * 1 and 2 threads round differently. Reductions along a dimension (RMSNorm's mean over d, a column sum)
 * give each output to one thread and stay the same, and so do the products at our shapes, which is why
 * only such whole-tensor sums need this. On one thread libtorch adds the values serially, the same way on
 * any thread count. The thread count is set back afterwards, also when the block throws.
 *
 * <p>Cost: two {@code at::set_num_threads} calls around a block; use it for cheap reductions, not for
 * products. The thread count is the calling thread's (OpenMP keeps it per thread), so other threads'
 * work is not slowed.
 */
public final class OneThread {

    private OneThread() {
    }

    /** {@code block}'s result, computed with libtorch's intra-op threads set to 1. */
    public static <T> T compute(Supplier<T> block) {
        Engine.getInstance(); // loads libtorch before JniUtils is touched
        int threads = JniUtils.getNumThreads();
        if (threads == 1) {
            return block.get();
        }
        JniUtils.setNumThreads(1);
        try {
            return block.get();
        } finally {
            JniUtils.setNumThreads(threads);
        }
    }
}
