package io.safetune.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;

import io.safetune.engine.OneThread;

/**
 * One Llama decoder block: x + Attn(RMSNorm(x)), then + MLP(RMSNorm(·)).
 * Attention is grouped-query (kvHeads ≤ heads) with rotary embeddings; the MLP is SwiGLU,
 * down(silu(gate(h)) · up(h)).
 */
final class DecoderLayer {


    final int index;
    final RmsNorm inputLayernorm;
    final RmsNorm postAttentionLayernorm;
    final Projection qProj;
    final Projection kProj;
    final Projection vProj;
    final Projection oProj;
    final Projection gateProj;
    final Projection upProj;
    final Projection downProj;
    private final int heads;
    private final int kvHeads;
    private final int headDim;

    DecoderLayer(int index, RmsNorm inputLayernorm, RmsNorm postAttentionLayernorm, Projection[] p,
            int heads, int kvHeads, int headDim) {
        this.index = index;
        this.inputLayernorm = inputLayernorm;
        this.postAttentionLayernorm = postAttentionLayernorm;
        this.qProj = p[0];
        this.kProj = p[1];
        this.vProj = p[2];
        this.oProj = p[3];
        this.gateProj = p[4];
        this.upProj = p[5];
        this.downProj = p[6];
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
    }

    Projection projection(String module) {
        ModuleName.Linear m;
        try {
            m = ModuleName.Linear.of(module);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("module: " + e.getMessage(), e);
        }
        return switch (m) {
            case Q_PROJ -> qProj;
            case K_PROJ -> kProj;
            case V_PROJ -> vProj;
            case O_PROJ -> oProj;
            case GATE_PROJ -> gateProj;
            case UP_PROJ -> upProj;
            case DOWN_PROJ -> downProj;
        };
    }

    /** x [B, T, d] → [B, T, d]. */
    NDArray forward(NDArray x, Forward f) {
        NDArray h = inputLayernorm.apply(x);
        NDArray e = attention(h, f);
        NDArray delta = f.hooks.attentionDelta(index);
        if (delta != null) {
            e = e.add(delta);
        }
        if (f.hooks.capturesAttention()) {
            f.attentionOutputs.add(e);
        }
        x = x.add(e);
        h = postAttentionLayernorm.apply(x);
        capture(f, "gate_proj", h);
        capture(f, "up_proj", h);
        NDArray gate = gateProj.apply(h, f.training);
        // σ on one thread: libtorch cuts an elementwise op into one chunk per thread, and σ's vector and scalar
        // paths round differently, so a chunk edge off the 8-float vector grid changed bits with --threads.
        // Its backward, g·σ·(1 − σ), is the same products on both paths and runs on every thread.
        NDArray sigma = OneThread.compute(() -> Activation.sigmoid(gate));
        NDArray act = gate.mul(sigma).mul(upProj.apply(h, f.training));
        capture(f, "down_proj", act);
        return x.add(downProj.apply(act, f.training));
    }

    /** h [B, T, d] → attention output e [B, T, d] (after o_proj). */
    private NDArray attention(NDArray h, Forward f) {
        long b = h.getShape().get(0);
        long t = h.getShape().get(1);
        capture(f, "q_proj", h);
        capture(f, "k_proj", h);
        capture(f, "v_proj", h);
        NDArray q = qProj.apply(h, f.training).reshape(b, t, heads, headDim).transpose(0, 2, 1, 3);
        NDArray k = kProj.apply(h, f.training).reshape(b, t, kvHeads, headDim).transpose(0, 2, 1, 3);
        NDArray v = vProj.apply(h, f.training).reshape(b, t, kvHeads, headDim).transpose(0, 2, 1, 3);
        q = Rope.apply(q, f.cos, f.sin);
        k = Rope.apply(k, f.cos, f.sin);
        if (f.cache != null) {
            NDArray[] kv = f.cache.append(index, k, v);
            k = kv[0];
            v = kv[1];
        }
        if (kvHeads != heads) {
            k = repeatKv(k);
            v = repeatKv(v);
        }
        // scores [B, H, T, S] = q kᵀ / sqrt(hd) + mask; softmax over keys
        NDArray scores = q.mul(f.constants.attentionScale()).matMul(k.transpose(0, 1, 3, 2)).add(f.maskBias);
        NDArray attn = scores.softmax(-1).matMul(v);
        NDArray merged = attn.transpose(0, 2, 1, 3).reshape(b, t, (long) heads * headDim);
        capture(f, "o_proj", merged);
        return oProj.apply(merged, f.training);
    }

    /** [B, kvHeads, S, hd] → [B, heads, S, hd], each kv head shared by heads/kvHeads query heads. */
    private NDArray repeatKv(NDArray kv) {
        long[] s = kv.getShape().getShape();
        int rep = heads / kvHeads;
        return kv.expandDims(2).broadcast(s[0], kvHeads, rep, s[2], s[3]).reshape(s[0], heads, s[2], s[3]);
    }

    private void capture(Forward f, String module, NDArray x) {
        if (f.hooks.capturesLinearInputs()) {
            f.hooks.linearInput(index, module, x, f.linearInputs);
        }
    }
}
