package io.safetune.engine;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;

import java.util.function.Supplier;

/**
 * Runs a few libtorch operations on one intra-op thread, so that their bits do not depend on
 * {@code --threads}.
 *
 * <p>Why: libtorch cuts work over more than its grain of 32,768 values into one part per thread, and
 * two kinds of operation round differently by how it is cut. A sum of a whole tensor to one number
 * ({@code sum()}) adds the threads' parts at the end. An elementwise σ computes a chunk with 8-float
 * vectors and the chunk's last few values one at a time, and the two paths round differently, so a chunk
 * edge that moves with the thread count changes values next to it. On one thread both are computed the
 * same way whatever the thread count. The other operations of our steps compute each output whole on
 * one thread (products, softmax, reductions along a dimension, each tensor's norm) or are exact either
 * way (+, ×, ÷, √): with these two on one thread, the stages came out the same on 1, 2 and 4 threads
 * (docs/reliability.md; 4 threads checked on the SFT, LoRA-attack, Safe LoRA, SaLoRA and Vaccine
 * stages). The thread count is set back afterwards, also when the block throws.
 *
 * <p>Cost: two {@code at::set_num_threads} calls around a block (0.2 µs a pair, measured over 1,000),
 * and the block on one core: σ of [64, 48, 344] took 0.49–0.64 ms on one thread against 0.38–0.44 ms
 * on two. {@code at::set_num_threads} also sets libtorch's process-wide default, so a thread that first
 * touches libtorch during the block starts with one thread; the lab computes from one thread at a time.
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
