package io.safetune.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.core.Linear;

import io.safetune.model.Projection;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * LoRA on one linear layer: delta(x) = s · B A dropout(x), with A [r, d_in] and B [d_out, r]
 * (PEFT's lora_A.weight and lora_B.weight layouts).
 */
public final class LoraLayer implements AdapterLayer {

    private final Projection target;
    private final NDArray a;
    private final NDArray b;
    /** s as a 0-d array: multiplying by a Number inside autograd is unsafe in DJL. */
    private final NDArray scaling;
    private final float dropout;
    private boolean merged;

    LoraLayer(Projection target, NDArray a, NDArray b, NDArray scaling, float dropout) {
        this.target = target;
        this.a = a;
        this.b = b;
        this.scaling = scaling;
        this.dropout = dropout;
    }

    @Override
    public NDArray delta(NDArray x, boolean training) {
        NDArray in = training && dropout > 0 ? LoraDropout.apply(x, dropout) : x;
        NDArray down = Linear.linear(in, a).singletonOrThrow();
        return Linear.linear(down, b).singletonOrThrow().mul(scaling);
    }

    /** The adapted linear layer. */
    @Override
    public Projection target() {
        return target;
    }

    /** lora_A.weight [r, d_in] (live). */
    public NDArray a() {
        return a;
    }

    /** lora_B.weight [d_out, r] (live). */
    public NDArray b() {
        return b;
    }

    public float scaling() {
        return scaling.getFloat();
    }

    @Override
    public Map<String, NDArray> trainable() {
        Map<String, NDArray> t = new LinkedHashMap<>();
        t.put("lora_A", a);
        t.put("lora_B", b);
        return t;
    }

    @Override
    public boolean merged() {
        return merged;
    }

    /** s·B·A [d_out, d_in], owned by the caller's manager of choice via {@code attach}. */
    @Override
    public NDArray deltaWeight() {
        return b.matMul(a).mul(scaling);
    }

    @Override
    public void setMerged(boolean merged) {
        this.merged = merged;
    }
}
