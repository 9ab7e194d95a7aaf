package io.safetune.salora;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.core.Linear;

import io.safetune.lora.AdapterLayer;
import io.safetune.lora.LoraDropout;
import io.safetune.model.Projection;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * SaLoRA on one linear layer (its weight already the residual W′): delta(x) = s · C · B A dropout(x)
 * with the fixed safety module C = I − V_s V_sᵀ, applied as y − V_s (V_sᵀ y) so the d_out × d_out C is
 * never formed. A [r, d_in] and B [d_out, r] train; V_s [d_out, r_s] is frozen (null: C = I).
 */
public final class SaLoraLayer implements AdapterLayer {

    private final Projection target;
    private final NDArray a;
    private final NDArray b;
    private final NDArray vs;
    private final NDArray vsT;
    /** s as a 0-d array: multiplying by a Number inside autograd is unsafe in DJL. */
    private final NDArray scaling;
    private final float dropout;
    private boolean merged;

    SaLoraLayer(Projection target, NDArray a, NDArray b, NDArray vs, NDArray scaling, float dropout) {
        this.target = target;
        this.a = a;
        this.b = b;
        this.vs = vs;
        this.vsT = vs == null ? null : vs.transpose();
        this.scaling = scaling;
        this.dropout = dropout;
    }

    @Override
    public NDArray delta(NDArray x, boolean training) {
        NDArray in = training && dropout > 0 ? LoraDropout.apply(x, dropout) : x;
        NDArray y = Linear.linear(Linear.linear(in, a).singletonOrThrow(), b).singletonOrThrow(); // [..., d_out]
        return safety(y).mul(scaling);
    }

    /** C·y along the last axis: y − (y V_s) V_sᵀ. */
    private NDArray safety(NDArray y) {
        return vs == null ? y : y.sub(y.matMul(vs).matMul(vsT));
    }

    @Override
    public Projection target() {
        return target;
    }

    @Override
    public Map<String, NDArray> trainable() {
        Map<String, NDArray> t = new LinkedHashMap<>();
        t.put("lora_A", a);
        t.put("lora_B", b);
        return t;
    }

    /** s·C·B·A [d_out, d_in]. */
    @Override
    public NDArray deltaWeight() {
        NDArray ba = b.matMul(a);
        return (vs == null ? ba : ba.sub(vs.matMul(vsT.matMul(ba)))).mul(scaling);
    }

    /** C·B [d_out, r]: B folded through the fixed module (a plain LoRA B on the residual base). */
    public NDArray foldedB() {
        return vs == null ? b.duplicate() : b.sub(vs.matMul(vsT.matMul(b)));
    }

    public NDArray a() {
        return a;
    }

    public NDArray b() {
        return b;
    }

    /** V_s [d_out, r_s], or null when C = I. */
    public NDArray safetyBasis() {
        return vs;
    }

    public float scaling() {
        return scaling.getFloat();
    }

    @Override
    public boolean merged() {
        return merged;
    }

    @Override
    public void setMerged(boolean merged) {
        this.merged = merged;
    }
}
