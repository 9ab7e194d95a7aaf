package io.safetune.vaccine;

import io.safetune.checkpoint.DType;
import io.safetune.display.Charts;
import io.safetune.display.Displayable;
import io.safetune.method.AlignDefence;
import io.safetune.method.AlignFlow;
import io.safetune.method.AlignInputs;
import io.safetune.method.Json;
import io.safetune.method.StageOutput;
import io.safetune.method.TrainLog;
import io.safetune.model.CausalLM;
import io.safetune.tokenizer.TextTokenizer;
import io.safetune.train.ProgressBar;
import io.safetune.train.TrainConfig;
import io.safetune.train.Trainer;

import org.knowm.xchart.internal.chartpart.Chart;

import tech.tablesaw.api.BooleanColumn;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.Table;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Vaccine (Huang et al., NeurIPS 2024) as the story's alignment: the alignment set trained with
 * {@link VaccineStep} (perturbation-aware: pass 2 sees every attention output pushed by ε).
 * <ul>
 *   <li>FULL: every weight trained with the story's optimiser (SFT's flow, Vaccine's step);</li>
 *   <li>LORA: the reference's flow, an alignment adapter (r 8, α 4, dropout 0.1, every linear module; AdamW
 *       1e-3, weight decay 0.1, cosine with 10% warm-up) trained, then merged into the weights; the story
 *       then trains a fresh adapter for the attack as usual.</li>
 * </ul>
 * Either way the stage holds the full aligned checkpoint, the base's tokenizer files, train.json and
 * vaccine.json ({@link Report}).
 */
public final class VaccineDefence implements AlignDefence<VaccineSettings> {

    public static final String NAME = "vaccine";
    public static final String REPORT = "vaccine.json";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "Vaccine (Huang et al. 2024): alignment with every attention output perturbed by rho g/|g| (two passes a step)";
    }

    @Override
    public Class<VaccineSettings> configType() {
        return VaccineSettings.class;
    }

    @Override
    public VaccineSettings defaultConfig() {
        return VaccineSettings.defaults();
    }

    @Override
    public void align(AlignInputs in, VaccineSettings s, Path out) throws IOException {
        TextTokenizer.copyFiles(in.base(), out);
        AlignFlow flow = s.flow(in.flow());
        TrainConfig t = s.training(flow, in.training());
        VaccineStep step = new VaccineStep(s, t.seed());
        try (CausalLM model = CausalLM.load(in.base())) {
            in.log().printf("[vaccine] %s flow, %s, rho = %s, refresh every %d; %d examples, %d steps of %d%n", flow,
                    s.perturbation(), s.rho(), s.refreshEvery(), in.data().size(), t.maxSteps(), t.batchSize());
            TrainLog log = s.alignmentLora().train(model, flow, t.seed(), () -> train(model, t, step, in));
            model.writeFiles(out, DType.F32); // the stage's own work folder: its rename is the atomic step
            Json.write(out.resolve(TrainLog.FILE), log);
            Json.write(out.resolve(REPORT), Report.of(s, flow, step.stats()));
        }
    }

    private static TrainLog train(CausalLM model, TrainConfig t, VaccineStep step, AlignInputs in) {
        try (Trainer trainer = new Trainer(model, t).withStepFunction(step)) {
            return TrainLog.of(trainer.fit(in.data(), new ProgressBar(in.log(), System.console() != null, 50)), in.data().size());
        }
    }

    /** Each stage's vaccine.json, captioned with its seed. */
    @Override
    public List<Displayable> report(List<StageOutput> stages, String condition) {
        List<Displayable> out = new ArrayList<>();
        for (StageOutput st : stages) {
            if (Files.exists(st.dir().resolve(REPORT))) {
                out.add(Report.read(st.dir()).withCaption(condition + ", seed " + st.seed()));
            }
        }
        return out;
    }

    /**
     * One step in vaccine.json.
     *
     * @param step      0-based optimiser step
     * @param twoPass   whether ε was recomputed (pass 1 ran)
     * @param gradNorm  ‖g‖ = sqrt(Σ_l ‖∂L/∂e_l‖²) before scaling; null on one-pass steps
     * @param cleanLoss pass 1's (unperturbed) loss; null on one-pass steps
     * @param loss      the perturbed loss the optimiser stepped on
     */
    public record StepReport(long step, boolean twoPass, Double gradNorm, Double cleanLoss, double loss) {
    }

    /**
     * What vaccine.json holds.
     *
     * @param rho           ρ
     * @param perturbation  ADVERSARIAL or RANDOM
     * @param refreshEvery  K
     * @param flow          FULL or LORA
     * @param steps         optimiser steps run
     * @param twoPassSteps  steps that ran both passes
     * @param meanGradNorm  mean ‖g‖ over the two-pass steps (null when there were none)
     * @param perStep       every step
     */
    public record Report(double rho, VaccineSettings.Perturbation perturbation, int refreshEvery, AlignFlow flow,
            int steps, int twoPassSteps, Double meanGradNorm, List<StepReport> perStep) implements Displayable {

        public Report {
            perStep = List.copyOf(perStep);
        }

        static Report of(VaccineSettings s, AlignFlow flow, List<VaccineStep.StepStat> stats) {
            List<StepReport> rows = stats.stream().map(x -> new StepReport(x.step(), x.twoPass(),
                    x.twoPass() ? x.gradNorm() : null, x.twoPass() ? x.cleanLoss() : null, x.loss())).toList();
            double[] norms = stats.stream().filter(VaccineStep.StepStat::twoPass).mapToDouble(VaccineStep.StepStat::gradNorm)
                    .toArray();
            Double mean = norms.length == 0 ? null : java.util.Arrays.stream(norms).average().orElseThrow();
            return new Report(s.rho(), s.perturbation(), s.refreshEvery(), flow, stats.size(), norms.length, mean, rows);
        }

        public static Report read(Path stage) {
            return Json.read(stage.resolve(REPORT), Report.class);
        }

        @Override
        public String title() {
            return "Vaccine (" + flow + ", " + perturbation + ", rho = " + rho + ", K = " + refreshEvery + "): " + twoPassSteps
                    + " of " + steps + " steps with two passes, mean |g| = " + meanGradNorm;
        }

        /** One row per step. */
        @Override
        public Table table() {
            Table t = Table.create(title(), LongColumn.create("step"), BooleanColumn.create("two passes"),
                    DoubleColumn.create("|g|"), DoubleColumn.create("clean loss"), DoubleColumn.create("perturbed loss"));
            for (StepReport r : perStep) {
                t.longColumn("step").append(r.step());
                t.booleanColumn("two passes").append(r.twoPass());
                t.doubleColumn("|g|").append(r.gradNorm() == null ? Double.NaN : r.gradNorm());
                t.doubleColumn("clean loss").append(r.cleanLoss() == null ? Double.NaN : r.cleanLoss());
                t.doubleColumn("perturbed loss").append(r.loss());
            }
            return t;
        }

        /** ‖g‖ over the two-pass steps: how strongly the alignment loss reacts to the attention outputs. */
        @Override
        public List<Chart<?, ?>> charts() {
            double[][] xy = new double[2][twoPassSteps];
            int k = 0;
            for (StepReport r : perStep) {
                if (r.twoPass()) {
                    xy[0][k] = r.step();
                    xy[1][k++] = r.gradNorm();
                }
            }
            return k < 2 ? List.of() : new ArrayList<>(List.of(Charts.lines("Vaccine: |dL/de| per refresh (rho = " + rho + ", K = "
                    + refreshEvery + ")", "step", "|g| before scaling", Map.of("|g|", xy))));
        }
    }
}
