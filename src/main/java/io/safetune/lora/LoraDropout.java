package io.safetune.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

/**
 * The adapters' dropout, drawn the same way on every CPU: keep = (U &lt; 1 − p), U ~ U[0, 1) in float64
 * from libtorch's generator, and dropout(x) = x · keep / (1 − p).
 *
 * <p>Why not libtorch's own {@code dropout}: its Bernoulli draw checks the CPU's vendor. On Intel it
 * takes MKL's stream; elsewhere it draws from the generator one value at a time. So the same seed gave
 * other masks, and other LoRA results, on Intel and AMD machines. This class is that serial draw written
 * out. It makes the same U from the same generator state (one 64-bit draw per value, in order), compares
 * in double with the same 1 − p, and scales by the same float32 1 / (1 − p). On a CPU that is not Intel
 * it is libtorch's dropout bit for bit, and it leaves the generator in the same state
 * ({@code LoraDropoutTest}). On Intel it computes the same thing too. The gradient is the same product:
 * x's gradient is the incoming one times keep / (1 − p).
 *
 * <p>On CUDA the masks are CUDA's uniform draws, not its fused dropout's.
 */
public final class LoraDropout {

    private LoraDropout() {
    }

    /**
     * @param x [..., d_in], float32 or float16 (DJL cannot make bfloat16 arrays)
     * @param p the probability of dropping a value, in (0, 1)
     * @return x with each value zeroed with probability p and the rest scaled by 1 / (1 − p), in x's type
     */
    public static NDArray apply(NDArray x, float p) {
        NDManager m = x.getManager();
        double keepProbability = 1 - (double) p; // libtorch takes p as a double and draws with 1 − p
        NDArray noise;
        // 0-d arrays, not mul(Number): no scalar over a freed Java buffer inside autograd (djl-notes.md).
        // The draw's temporaries (U is float64, 8 bytes a value) are closed at once; autograd keeps noise.
        try (NDArray u = m.randomUniform(0f, 1f, x.getShape(), DataType.FLOAT64, x.getDevice());
                NDArray bound = m.create(keepProbability);
                NDArray keep = u.lt(bound);
                NDArray mask = keep.toType(x.getDataType(), false); // 1 where kept, 0 where dropped
                NDArray scale32 = m.create(1f / (float) keepProbability); // libtorch's div_ in float32
                NDArray scale = scale32.toType(x.getDataType(), false)) {
            noise = mask.mul(scale);
        }
        NDArray out = x.mul(noise);
        noise.close();
        return out;
    }
}
