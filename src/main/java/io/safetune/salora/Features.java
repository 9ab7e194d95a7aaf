package io.safetune.salora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import io.safetune.model.CausalLM;
import io.safetune.model.Hooks;
import io.safetune.model.ModelOutput;
import io.safetune.model.ModuleName;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * SaLoRA's features: the inputs of target linear layers at the response tokens of some sequences
 * (where the labels are not −100, as the reference records them), one forward pass per sequence with
 * {@link Hooks#captureLinearInput}. Layers that read the same input (q, k and v; gate and up) are
 * captured once.
 */
final class Features {

    private Features() {
    }

    /** A sequence and which of its positions are response tokens. */
    record Sequence(int[] ids, boolean[] response) {
        Sequence {
            if (ids.length != response.length) {
                throw new IllegalArgumentException("response mask: " + response.length + " positions for " + ids.length + " ids");
            }
        }
    }

    /** The module whose input stands for {@code m}'s (q_proj for k and v, gate_proj for up). */
    static ModuleName.Linear inputOf(ModuleName.Linear m) {
        return switch (m) {
            case Q_PROJ, K_PROJ, V_PROJ -> ModuleName.Linear.Q_PROJ;
            case GATE_PROJ, UP_PROJ -> ModuleName.Linear.GATE_PROJ;
            default -> m;
        };
    }

    /**
     * X per target (n × d_in, row-major, double), n the number of response tokens over all sequences.
     *
     * @param what named in errors ("the safety set", "the task set")
     */
    static Map<ModuleName, double[]> capture(CausalLM model, List<ModuleName> targets, List<Sequence> sequences, String what) {
        Map<ModuleName, List<float[]>> rows = new LinkedHashMap<>();
        List<ModuleName> captured = targets.stream().map(t -> new ModuleName(t.layer(), inputOf(t.module()))).distinct().toList();
        int tokens = 0;
        for (Sequence s : sequences) {
            int n = 0;
            for (boolean r : s.response()) {
                n += r ? 1 : 0;
            }
            if (n == 0) {
                continue;
            }
            tokens += n;
            try (NDManager m = model.manager().newSubManager()) {
                NDArray ids = m.create(toLongs(s.ids()), new Shape(1, s.ids().length));
                NDArray mask = m.create(s.response(), new Shape(1, s.response().length));
                Hooks hooks = new Hooks();
                captured.forEach(c -> hooks.captureLinearInput(c.layer(), c.module().hfName(), mask));
                ModelOutput out = model.forward(ids, null, hooks, null, false, false);
                for (ModuleName c : captured) {
                    rows.computeIfAbsent(c, k -> new ArrayList<>())
                            .add(out.linearInput(c.layer(), c.module().hfName()).toType(DataType.FLOAT32, false).toFloatArray());
                }
            }
        }
        if (tokens == 0) {
            throw new IllegalArgumentException(what + ": no response tokens in " + sequences.size()
                    + " sequences (features are the inputs at response positions)");
        }
        Map<ModuleName, double[]> out = new LinkedHashMap<>();
        for (ModuleName t : targets) {
            List<float[]> parts = rows.get(new ModuleName(t.layer(), inputOf(t.module())));
            int total = parts.stream().mapToInt(p -> p.length).sum();
            double[] x = new double[total];
            int at = 0;
            for (float[] p : parts) {
                for (float v : p) {
                    x[at++] = v;
                }
            }
            out.put(t, x);
        }
        return out;
    }

    private static long[] toLongs(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            l[i] = ids[i];
        }
        return l;
    }
}
