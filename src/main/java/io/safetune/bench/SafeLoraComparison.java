package io.safetune.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.safetune.checkpoint.CheckpointException;
import io.safetune.checkpoint.TensorStore;
import io.safetune.lora.PeftFormat;
import io.safetune.safelora.SafeLora;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Ours against the dense algorithm, from what each wrote: the same weights selected, the largest
 * relative difference of the written B's (‖B_ours − B_dense‖_F / ‖B_dense‖_F, over every B of the
 * adapter, projected or not) and the largest cosine difference.
 *
 * @param sameSelection whether both projected exactly the same weights
 * @param oursOnly      weights only ours projected
 * @param denseOnly     weights only the dense algorithm projected
 * @param projected     how many weights ours projected
 * @param weights       how many weights were compared
 * @param maxRelB       max over B's of ‖ΔB‖_F / ‖B_dense‖_F
 * @param worstB        the adapter key where {@code maxRelB} was reached
 * @param maxCosDiff    max over weights of |cos_ours − cos_dense|
 * @param minCos        smallest of ours' cosines (to show how far they spread)
 * @param maxCos        largest of ours' cosines
 * @param tau           the τ ours selected with (number mode: the k-th smallest cosine)
 */
record SafeLoraComparison(boolean sameSelection, List<String> oursOnly, List<String> denseOnly, int projected,
        int weights, double maxRelB, String worstB, double maxCosDiff, double minCos, double maxCos, double tau) {

    /** Whether the two agree within {@code tol} on B and exactly on the selection. */
    boolean agrees(double tol) {
        return sameSelection && maxRelB <= tol;
    }

    /**
     * Compares the folders the two runs wrote: {@code oursOut} from {@link SafeLora#apply} (its
     * safelora.json and adapter), {@code denseOut} from {@link DenseSafeLora#run}.
     */
    static SafeLoraComparison of(Path oursOut, Path denseOut) {
        Path oursReport = oursOut.resolve(SafeLora.REPORT_JSON);
        Map<String, JsonNode> ours = rows(oursReport);
        Map<String, JsonNode> dense = rows(denseOut.resolve(DenseSafeLora.REPORT));
        if (!ours.keySet().equals(dense.keySet())) {
            throw new IllegalStateException("the two runs analysed different weights: ours " + ours.keySet()
                    + ", dense " + dense.keySet());
        }
        TreeSet<String> oursOnly = new TreeSet<>();
        TreeSet<String> denseOnly = new TreeSet<>();
        int projected = 0;
        double maxCosDiff = 0;
        double minCos = Double.POSITIVE_INFINITY;
        double maxCos = Double.NEGATIVE_INFINITY;
        for (String w : ours.keySet()) {
            boolean po = ours.get(w).path("projected").asBoolean();
            boolean pd = dense.get(w).path("projected").asBoolean();
            projected += po ? 1 : 0;
            if (po && !pd) {
                oursOnly.add(w);
            } else if (pd && !po) {
                denseOnly.add(w);
            }
            JsonNode co = ours.get(w).get("cosine");
            double cd = dense.get(w).path("cosine").asDouble(Double.NaN);
            if (co == null || co.isNull() || Double.isNaN(cd)) {
                if ((co == null || co.isNull()) != Double.isNaN(cd)) {
                    maxCosDiff = Double.POSITIVE_INFINITY; // defined in one and not the other
                }
            } else {
                maxCosDiff = Math.max(maxCosDiff, Math.abs(co.asDouble() - cd));
                minCos = Math.min(minCos, co.asDouble());
                maxCos = Math.max(maxCos, co.asDouble());
            }
        }
        double maxRel = 0;
        String worst = null;
        try (TensorStore a = TensorStore.open(oursOut.resolve(PeftFormat.WEIGHTS));
                TensorStore b = TensorStore.open(denseOut.resolve(PeftFormat.WEIGHTS))) {
            for (String key : a.names()) {
                if (!key.endsWith(".lora_B.weight")) {
                    continue;
                }
                if (!b.contains(key)) {
                    throw new CheckpointException(b.source(), key, "missing tensor (ours wrote it)");
                }
                double rel = relativeDifference(a.readFloats(key), b.readFloats(key));
                if (worst == null || rel > maxRel) {
                    maxRel = rel;
                    worst = key;
                }
            }
        }
        return new SafeLoraComparison(oursOnly.isEmpty() && denseOnly.isEmpty(), new ArrayList<>(oursOnly),
                new ArrayList<>(denseOnly), projected, ours.size(), maxRel, worst, maxCosDiff, minCos, maxCos,
                read(oursReport).path("tau").asDouble(Double.NaN));
    }

    /** ‖x − y‖_F / ‖y‖_F (0 when both are zero, infinite when only y is). */
    static double relativeDifference(float[] x, float[] y) {
        if (x.length != y.length) {
            return Double.POSITIVE_INFINITY;
        }
        double d = 0;
        double n = 0;
        for (int i = 0; i < x.length; i++) {
            double e = (double) x[i] - y[i];
            d += e * e;
            n += (double) y[i] * y[i];
        }
        return d == 0 ? 0 : n == 0 ? Double.POSITIVE_INFINITY : Math.sqrt(d / n);
    }

    private static JsonNode read(Path report) {
        try {
            return new ObjectMapper().readTree(report.toFile());
        } catch (IOException e) {
            throw new CheckpointException(report, null, "cannot read the run's report: " + e.getMessage(), e);
        }
    }

    private static Map<String, JsonNode> rows(Path report) {
        JsonNode n = read(report);
        Map<String, JsonNode> rows = new LinkedHashMap<>();
        n.path("weights").forEach(r -> rows.put(r.path("weight").asText(), r));
        if (rows.isEmpty()) {
            throw new CheckpointException(report, "weights", "no weights in the run's report");
        }
        return rows;
    }
}
