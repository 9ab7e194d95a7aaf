package io.safetune.safelora;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.safetune.checkpoint.AtomicFiles;
import io.safetune.display.Charts;
import io.safetune.display.Displayable;

import org.knowm.xchart.CategoryChart;

import tech.tablesaw.api.BooleanColumn;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * What Safe LoRA did to an adapter: one row per adapted weight, the τ it used and the reference's Pdst.
 *
 * @param config  the options it ran with
 * @param tau     τ used for the selection: the configured τ in threshold mode, the k-th smallest cosine
 *                in number mode; empty in number mode when no weight has a defined cosine
 * @param pdst    the reference's "Pdst": mean over projected weights of 1 / (1 + ‖B_new − C·B‖_F), with
 *                B_new the float32 B written (so 1 up to float32 rounding); empty when nothing was projected
 * @param weights one row per adapted weight, in layer order
 */
public record SafeLoraResult(SafeLoraConfig config, OptionalDouble tau, OptionalDouble pdst, List<WeightResult> weights)
        implements Displayable {

    /** Whether a weight's cosine is defined, and if not why. */
    public enum Status {
        /** cos(C·B·A, B·A) is defined. */
        DEFINED,
        /** V = W_aligned − W_base is exactly zero: no alignment direction, C undefined; never projected. */
        ZERO_ALIGNMENT_DELTA,
        /** B·A = 0 (B or A all zero, e.g. an untrained B): nothing to project; never projected. */
        ZERO_UPDATE
    }

    /**
     * One adapted weight.
     *
     * @param layer           decoder layer index (-1 when the name has no {@code layers.<i>.})
     * @param module          the module's own name, e.g. {@code q_proj}
     * @param weight          the base model's tensor name, e.g. {@code model.layers.0.self_attn.q_proj.weight}
     * @param cosine          cos(flatten(C·B·A), flatten(B·A)); empty when {@code status} is not DEFINED
     * @param status          why the cosine is or is not defined
     * @param projected       whether B was replaced by C·B
     * @param deltaNormBefore ‖s·B·A‖_F, the adapter's update of this weight (s = LoRA scaling)
     * @param deltaNormAfter  ‖s·B_new·A‖_F after Safe LoRA (equal to before when not projected)
     */
    public record WeightResult(int layer, String module, String weight, OptionalDouble cosine, Status status,
            boolean projected, double deltaNormBefore, double deltaNormAfter) {

        public WeightResult {
            if (module == null || weight == null || cosine == null || status == null) {
                throw new IllegalArgumentException("module, weight, cosine and status must not be null (" + weight + ")");
            }
            if (cosine.isPresent() != (status == Status.DEFINED)) {
                throw new IllegalArgumentException("cosine: present exactly when status is DEFINED (" + weight + ")");
            }
            if (projected && status != Status.DEFINED) {
                throw new IllegalArgumentException("projected: a weight without a cosine is never projected (" + weight + ")");
            }
        }
    }

    public SafeLoraResult {
        if (config == null || tau == null || pdst == null || weights == null) {
            throw new IllegalArgumentException("config, tau, pdst and weights must not be null");
        }
        weights = List.copyOf(weights);
    }

    /** Tensor names of the projected weights, in layer order. */
    public List<String> projectedWeights() {
        return weights.stream().filter(WeightResult::projected).map(WeightResult::weight).toList();
    }

    public int numProjected() {
        return (int) weights.stream().filter(WeightResult::projected).count();
    }

    /** The row of a weight by tensor name. */
    public WeightResult weight(String name) {
        return weights.stream().filter(w -> w.weight().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("weight: no adapted weight named " + name));
    }

    @Override
    public String title() {
        return "Safe LoRA: " + numProjected() + " of " + weights.size() + " weights projected (" + condition() + ")";
    }

    /** The selection rule in words: "number mode, k = 3, τ = 0.123" or "threshold mode, τ = 0.500". */
    public String condition() {
        String mode = config.mode() == SafeLoraConfig.Mode.NUMBER
                ? "number mode, k = " + (config.numProjLayers() == Integer.MAX_VALUE ? "all" : config.numProjLayers())
                : "threshold mode";
        return mode + ", τ = " + fmt(tau);
    }

    @Override
    public Table table() {
        return toTable();
    }

    @Override
    public List<org.knowm.xchart.internal.chartpart.Chart<?, ?>> charts() {
        return List.of(toChart());
    }

    /** layer, module, cosine (missing when undefined), projected. */
    public Table toTable() {
        IntColumn layer = IntColumn.create("layer");
        StringColumn module = StringColumn.create("module");
        DoubleColumn cosine = DoubleColumn.create("cosine");
        BooleanColumn projected = BooleanColumn.create("projected");
        for (WeightResult w : weights) {
            layer.append(w.layer());
            module.append(w.module());
            if (w.cosine().isPresent()) {
                cosine.append(w.cosine().getAsDouble());
            } else {
                cosine.appendMissing();
            }
            projected.append(w.projected());
        }
        return Table.create("Safe LoRA (" + condition() + ")", layer, module, cosine, projected);
    }

    /**
     * Cosine per weight, one bar per layer and module, coloured by what Safe LoRA did: "projected"
     * (cos ≤ τ) or "kept"; a weight without a cosine is drawn as 0 in "undefined". τ is a line.
     */
    public CategoryChart toChart() {
        List<String> names = weights.stream().map(w -> w.layer() + "." + w.module()).toList();
        Map<String, List<Double>> series = new LinkedHashMap<>();
        series.put("projected", weights.stream().map(w -> w.projected() ? w.cosine().getAsDouble() : null).toList());
        series.put("kept", weights.stream().map(w -> !w.projected() && w.cosine().isPresent() ? w.cosine().getAsDouble() : null).toList());
        if (weights.stream().anyMatch(w -> w.cosine().isEmpty())) {
            series.put("undefined", weights.stream().map(w -> w.cosine().isEmpty() ? 0.0 : null).toList());
        }
        series.values().removeIf(v -> v.stream().allMatch(java.util.Objects::isNull));
        CategoryChart c = Charts.bars("Safe LoRA: cos(C·B·A, B·A) per weight (" + condition() + ": cos ≤ τ projected)",
                "layer.module", "cosine with the alignment direction", names, series);
        c.getStyler().setOverlapped(true); // one bar per weight: its series is its colour
        if (tau.isPresent() && Double.isFinite(tau.getAsDouble())) {
            // τ as a line across the weights: every bar at or below it was projected
            List<Double> level = java.util.Collections.nCopies(names.size(), tau.getAsDouble());
            c.addSeries("τ = " + io.safetune.display.Tables.round(tau.getAsDouble()), names, level)
                    .setChartCategorySeriesRenderStyle(org.knowm.xchart.CategorySeries.CategorySeriesRenderStyle.Line);
        }
        return c;
    }

    /** CSV with a header; an undefined cosine is an empty cell. Doubles in full precision. */
    public String toCsv() {
        StringBuilder sb = new StringBuilder("layer,module,weight,cosine,status,projected,delta_norm_before,delta_norm_after\n");
        for (WeightResult w : weights) {
            sb.append(w.layer()).append(',').append(w.module()).append(',').append(w.weight()).append(',')
                    .append(w.cosine().isPresent() ? Double.toString(w.cosine().getAsDouble()) : "").append(',')
                    .append(w.status()).append(',').append(w.projected()).append(',')
                    .append(w.deltaNormBefore()).append(',').append(w.deltaNormAfter()).append('\n');
        }
        return sb.toString();
    }

    /** JSON: the options, tau, pdst and one object per weight; undefined values are null. */
    public String toJson() {
        ObjectMapper json = new ObjectMapper();
        ObjectNode n = json.createObjectNode();
        n.put("mode", config.mode().name());
        n.put("projector", config.projector().name());
        n.put("precision", config.precision().name());
        if (config.mode() == SafeLoraConfig.Mode.NUMBER) {
            n.put("num_proj_layers", config.numProjLayers());
        }
        putOptional(n, "tau", tau);
        putOptional(n, "pdst", pdst);
        n.put("num_projected", numProjected());
        ArrayNode rows = n.putArray("weights");
        for (WeightResult w : weights) {
            ObjectNode r = rows.addObject();
            r.put("layer", w.layer());
            r.put("module", w.module());
            r.put("weight", w.weight());
            putOptional(r, "cosine", w.cosine());
            r.put("status", w.status().name());
            r.put("projected", w.projected());
            r.put("delta_norm_before", w.deltaNormBefore());
            r.put("delta_norm_after", w.deltaNormAfter());
        }
        return n.toPrettyString();
    }

    public void writeCsv(Path file) {
        AtomicFiles.writeString(file, toCsv());
    }

    public void writeJson(Path file) {
        AtomicFiles.writeString(file, toJson());
    }

    private static void putOptional(ObjectNode n, String field, OptionalDouble v) {
        if (v.isPresent()) {
            n.put(field, v.getAsDouble());
        } else {
            n.putNull(field);
        }
    }

    private static String fmt(OptionalDouble v) {
        return v.isPresent() ? String.format(java.util.Locale.ROOT, "%.3g", v.getAsDouble()) : "undefined";
    }
}
