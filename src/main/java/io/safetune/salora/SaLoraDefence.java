package io.safetune.salora;

import ai.djl.ndarray.types.DataType;

import io.safetune.checkpoint.DType;
import io.safetune.checkpoint.SafetensorsWriter;
import io.safetune.data.TrainingExample;
import io.safetune.eval.DriftConfig;
import io.safetune.eval.DriftTracker;
import io.safetune.lora.Injection;
import io.safetune.lora.LoraConfig;
import io.safetune.lora.PeftFormat;
import io.safetune.method.FineTuneDefence;
import io.safetune.method.FineTuneInputs;
import io.safetune.method.Json;
import io.safetune.method.TrainLog;
import io.safetune.model.CausalLM;
import io.safetune.train.ProgressBar;
import io.safetune.train.TrainListener;
import io.safetune.train.TrainResult;
import io.safetune.train.Trainer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * SaLoRA as the story's fine-tune: features of the safety data and of the user's data on the aligned
 * model, the fixed module C and the task-specific initialisation ({@link SaLora}), then training with
 * A and B trainable (C and W′ frozen), HED recorded as for plain LoRA.
 *
 * <p>What the stage writes is a plain PEFT LoRA adapter <em>on the aligned model</em>, exact: the trained
 * model is W′ + s·C·B·A = W + s·(C·B·A − C·B₀·A₀), so B′ = [C·B, −C·B₀] and A′ = [A; A₀] (rank 2r,
 * α′ = s·2r) give it on W itself. Every evaluation and post-process then applies unchanged; with the
 * plain initialisation (B₀ = 0) it is rank r. salora.json records the settings and the spectra.
 */
public final class SaLoraDefence implements FineTuneDefence<SaLoraSettings> {

    public static final String NAME = "salora";
    public static final String REPORT = "salora.json";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "SaLoRA (Li et al. 2025): LoRA behind the fixed safety module C = I - V_s V_sᵀ, with the task-specific "
                + "initialisation and the residual base W′";
    }

    @Override
    public Class<SaLoraSettings> configType() {
        return SaLoraSettings.class;
    }

    @Override
    public SaLoraSettings defaultConfig() {
        return SaLoraSettings.defaults();
    }

    /**
     * What salora.json holds: the settings, SaLoRA's rank r and whether the stage's adapter carries the
     * initialisation (rank 2r, B′ = [C·B, −C·B₀]) or not (rank r), how much data fed the features, and per
     * weight the spectra.
     */
    public record Report(SaLoraSettings settings, int r, boolean withInit, int safetySequences, int taskSequences,
            List<WeightReport> weights)
            implements io.safetune.display.Displayable {

        public static Report read(Path stage) {
            return Json.read(stage.resolve(REPORT), Report.class);
        }

        @Override
        public String title() {
            return "SaLoRA's subspaces per weight (r_s = " + settings.rankSafety() + " from " + safetySequences
                    + " safety sequences, r_t = " + settings.rankTask() + " from " + taskSequences + " task sequences)";
        }

        /** One row per weight: the largest and the r_s-th singular value of X_s·Wᵀ and of X_t·Wᵀ. */
        @Override
        public tech.tablesaw.api.Table table() {
            var t = tech.tablesaw.api.Table.create(title(), tech.tablesaw.api.StringColumn.create("weight"),
                    tech.tablesaw.api.DoubleColumn.create("σ1 safety"), tech.tablesaw.api.DoubleColumn.create("σ_rs safety"),
                    tech.tablesaw.api.DoubleColumn.create("σ1 task"), tech.tablesaw.api.DoubleColumn.create("σ_rt task"));
            for (WeightReport w : weights) {
                t.stringColumn("weight").append(w.module().replace("model.layers.", "").replace("self_attn.", ""));
                t.doubleColumn("σ1 safety").append(w.safetySingular().length == 0 ? Double.NaN : w.safetySingular()[0]);
                t.doubleColumn("σ_rs safety").append(last(w.safetySingular()));
                t.doubleColumn("σ1 task").append(w.taskSingular().length == 0 ? Double.NaN : w.taskSingular()[0]);
                t.doubleColumn("σ_rt task").append(last(w.taskSingular()));
            }
            return t;
        }

        /** The smallest of the top singular values; 0 when it is rounding below σ_1 (the features span fewer directions). */
        private static double last(double[] sv) {
            if (sv.length == 0) {
                return Double.NaN;
            }
            double v = sv[sv.length - 1];
            return v < 1e-12 * sv[0] ? 0 : v;
        }

        /** The singular values of X_s·Wᵀ per weight, normalised by the largest: how concentrated the safety outputs are. */
        @Override
        public List<org.knowm.xchart.internal.chartpart.Chart<?, ?>> charts() {
            Map<String, double[][]> lines = new LinkedHashMap<>();
            for (WeightReport w : weights) {
                double[] sv = w.safetySingular();
                if (sv.length == 0) {
                    continue;
                }
                double[] x = new double[sv.length];
                double[] y = new double[sv.length];
                for (int i = 0; i < sv.length; i++) {
                    x[i] = i + 1;
                    y[i] = sv[i] / sv[0];
                }
                lines.put(w.module().replace("model.layers.", "").replace("self_attn.", ""), new double[][] {x, y});
            }
            return lines.isEmpty() ? List.of() : new ArrayList<>(List.of(io.safetune.display.Charts.lines(
                    "Singular values of X_s·Wᵀ, σ_i/σ_1 (one line per weight; C removes the first " + settings.rankSafety() + ")",
                    "i", "σ_i / σ_1", lines)));
        }
    }

    public record WeightReport(String module, int rankSafety, double[] safetySingular, double[] taskSingular,
            double[] weightSingular) {
    }

    @Override
    public void fineTune(FineTuneInputs in, SaLoraSettings s, Path out) {
        List<Features.Sequence> safety = sequences(in.safetyData(), s.safetySamples());
        List<Features.Sequence> task = sequences(in.data(), s.taskSamples());
        String module = switch (s.module()) {
            case SAFETY -> "C from " + safety.size() + " safety sequences, r_s = " + s.rankSafety();
            case RANDOM -> "C from a random subspace, r_s = " + s.rankSafety();
            case NONE -> "C = I";
        };
        String init = s.init() == SaLoraSettings.Init.TASK ? "task init from " + task.size() + " sequences, r_t = " + s.rankTask()
                : "LoRA's init";
        in.log().printf("[salora] %s; %s; %s SVD%n", module, init, s.svd());
        try (CausalLM model = CausalLM.load(in.aligned())) {
            List<SaLora.WeightInit> inits = SaLora.initialise(model, in.lora(), s, safety, task, in.training().seed());
            try (Injection<SaLoraLayer> adapter = SaLora.attach(model, in.lora(), inits);
                    Trainer trainer = new Trainer(model, in.training())) {
                DriftTracker drift = DriftTracker.fromStart(model, in.hedInputs(), in.driftEvery(), DriftConfig.defaults());
                TrainResult r = trainer.fit(in.data(), TrainListener.of(drift, new ProgressBar(in.log(), System.console() != null, 50)));
                writeOnAligned(adapter, inits, in.lora(), in.baseModel(), out);
                Json.write(out.resolve(TrainLog.FILE), TrainLog.of(r, in.data().size()));
                Json.write(out.resolve(DRIFT_FILE), drift.series());
                Json.write(out.resolve(REPORT), new Report(s, in.lora().r(), withInit(inits), safety.size(), task.size(),
                        inits.stream().map(i -> new WeightReport(
                        i.module().path(), i.rs(), i.safetySingular(), i.taskSingular(), i.weightSingular())).toList()));
            }
        }
    }

    /** Examples as sequences (prompt + response) with the response marked; the first {@code n} with a response. */
    static List<Features.Sequence> sequences(List<TrainingExample> examples, int n) {
        List<Features.Sequence> out = new ArrayList<>();
        for (TrainingExample e : examples) {
            if (out.size() == n) {
                break;
            }
            if (e.responseIds().length == 0) {
                continue;
            }
            int[] ids = Arrays.copyOf(e.promptIds(), e.promptIds().length + e.responseIds().length);
            System.arraycopy(e.responseIds(), 0, ids, e.promptIds().length, e.responseIds().length);
            boolean[] response = new boolean[ids.length];
            Arrays.fill(response, e.promptIds().length, ids.length, true);
            out.add(new Features.Sequence(ids, response));
        }
        return out;
    }

    /** Whether any B₀ is non-zero: then the adapter on the aligned weights carries −C·B₀, A₀ too. */
    static boolean withInit(List<SaLora.WeightInit> inits) {
        return inits.stream().anyMatch(i -> Arrays.stream(i.b0()).anyMatch(v -> v != 0));
    }

    /**
     * The trained model as a PEFT LoRA on the aligned weights W: B′ = [C·B, −C·B₀], A′ = [A; A₀],
     * rank 2r and α′ = s·2r (rank r when B₀ = 0).
     */
    static void writeOnAligned(Injection<SaLoraLayer> adapter, List<SaLora.WeightInit> inits, LoraConfig lora, String baseModel,
            Path out) {
        boolean withInit = withInit(inits);
        int r = lora.r();
        int rank = withInit ? 2 * r : r;
        Map<String, SaLora.WeightInit> byPath = new LinkedHashMap<>();
        inits.forEach(i -> byPath.put(i.module().path(), i));
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        for (Map.Entry<String, SaLoraLayer> e : adapter.layers().entrySet()) {
            SaLora.WeightInit in = byPath.get(e.getKey());
            int dOut = in.dOut();
            int dIn = in.dIn();
            float[] a = e.getValue().a().toType(DataType.FLOAT32, false).toFloatArray();
            float[] cb = e.getValue().foldedB().toType(DataType.FLOAT32, false).toFloatArray();
            float[] aAll = Arrays.copyOf(a, rank * dIn);
            float[] bAll = new float[dOut * rank];
            double[] cb0 = SaLora.applyC(in.vs(), dOut, in.rs(), in.b0(), r);
            for (int row = 0; row < dOut; row++) {
                for (int j = 0; j < r; j++) {
                    bAll[row * rank + j] = cb[row * r + j];
                    if (withInit) {
                        bAll[row * rank + r + j] = (float) -cb0[row * r + j];
                    }
                }
            }
            if (withInit) {
                for (int i = 0; i < in.a0().length; i++) {
                    aAll[r * dIn + i] = (float) in.a0()[i];
                }
            }
            entries.add(SafetensorsWriter.Entry.ofFloats(Injection.key(e.getKey(), "lora_A"), new long[] {rank, dIn}, () -> aAll,
                    DType.F32));
            entries.add(SafetensorsWriter.Entry.ofFloats(Injection.key(e.getKey(), "lora_B"), new long[] {dOut, rank}, () -> bAll,
                    DType.F32));
        }
        LoraConfig folded = new LoraConfig(rank, lora.scaling() * rank, lora.dropout(), lora.targetModules(), lora.layers(), false);
        PeftFormat.writeFiles(out, folded, baseModel, entries);
    }
}
