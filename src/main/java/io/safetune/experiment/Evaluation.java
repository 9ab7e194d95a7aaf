package io.safetune.experiment;

import io.safetune.data.microworld.MicroWorldData;
import io.safetune.display.Charts;
import io.safetune.display.Displayable;
import io.safetune.display.LiveProgress;
import io.safetune.display.LiveView;
import io.safetune.data.microworld.MicroWorldJudge;
import io.safetune.data.microworld.Sample;
import io.safetune.data.microworld.TaskFamily;
import io.safetune.data.microworld.TaskScorer;
import io.safetune.eval.EvalConfig;
import io.safetune.eval.HarmfulScore;
import io.safetune.eval.HarmfulScoreResult;
import io.safetune.eval.TaskAccuracy;
import io.safetune.eval.TaskAccuracyResult;
import io.safetune.eval.TaskExample;
import io.safetune.eval.TextCodec;
import io.safetune.model.CausalLM;
import io.safetune.tokenizer.ChatTemplate;
import io.safetune.tokenizer.TextTokenizer;

import org.knowm.xchart.internal.chartpart.Chart;

import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Scores one model on the micro-world's held-out sets: harmful score and compliance on harmful
 * prompts (greedy, the world's judge), and accuracy per benign task (the world's scorer). Per-sample
 * records are kept, so a notebook can show what the model said.
 */
public final class Evaluation {

    private Evaluation() {
    }

    /**
     * @param harmfulScore   share of held-out harmful prompts answered with anything but the refusal
     * @param complianceRate share answered with the synthetic compliant answer
     * @param accuracy       per task family (lower-case name), in [0, 1]
     * @param seconds        wall time of the evaluation
     */
    public record Scores(double harmfulScore, double complianceRate, Map<String, Double> accuracy, double seconds,
            HarmfulScoreResult harmful, Map<String, TaskAccuracyResult> tasks) implements Displayable {

        @Override
        public String title() {
            return String.format(java.util.Locale.ROOT, "Harmful score %.3f, complies %.3f", harmfulScore, complianceRate);
        }

        @Override
        public Table table() {
            return compare("model", this).table();
        }

        @Override
        public List<Chart<?, ?>> charts() {
            return compare("model", this).charts();
        }

        /** The first {@code n} harmful prompts with the answers and verdicts (needs the per-sample records). */
        public Table harmfulSamples(int n) {
            if (harmful == null) {
                throw new IllegalStateException("harmful: this is a summary without per-sample records");
            }
            Table t = Table.create("Answers to held-out harmful prompts", StringColumn.create("prompt"),
                    StringColumn.create("answer"), StringColumn.create("verdict"), StringColumn.create("reason"));
            harmful.samples().stream().limit(n).forEach(s -> {
                t.stringColumn("prompt").append(s.prompt());
                t.stringColumn("answer").append(s.answer());
                t.stringColumn("verdict").append(s.verdict().complied() ? "complied" : s.verdict().unsafe() ? "unsafe" : "refused");
                t.stringColumn("reason").append(reasonWithoutQuote(s.verdict().reason()));
            });
            return t;
        }

        /** A judge's reason without the answer it quotes (the table shows the answer beside it). */
        private static String reasonWithoutQuote(String reason) {
            int colon = reason == null ? -1 : reason.indexOf(": \"");
            return reason == null ? "" : colon < 0 ? reason : reason.substring(0, colon);
        }

        /** The same without per-sample records (for results.json). */
        public Scores summary() {
            return new Scores(harmfulScore, complianceRate, accuracy, seconds, null, null);
        }
    }

    /** Several models' scores side by side, e.g. {@code compare("aligned", before, "attacked", after)}. */
    public static Comparison compare(Object... nameScoresPairs) {
        if (nameScoresPairs.length == 0 || nameScoresPairs.length % 2 != 0) {
            throw new IllegalArgumentException("nameScoresPairs: expected name, scores, name, scores, …");
        }
        Map<String, Scores> m = new LinkedHashMap<>();
        for (int i = 0; i < nameScoresPairs.length; i += 2) {
            m.put(String.valueOf(nameScoresPairs[i]), (Scores) nameScoresPairs[i + 1]);
        }
        return new Comparison(m);
    }

    /** Harmful score, compliance and task accuracies of several models: one column per model, one chart. */
    public record Comparison(Map<String, Scores> models) implements Displayable {

        @Override
        public String title() {
            return "Harmful score and accuracy: " + String.join(" vs ", models.keySet());
        }

        @Override
        public Table table() {
            Table t = Table.create(title(), StringColumn.create("measure"));
            models.keySet().forEach(n -> t.addColumns(DoubleColumn.create(n)));
            java.util.LinkedHashSet<String> measures = new java.util.LinkedHashSet<>(List.of("harmful score", "complies"));
            models.values().forEach(s -> s.accuracy().keySet().forEach(k -> measures.add(k + " accuracy")));
            for (String measure : measures) {
                t.stringColumn("measure").append(measure);
                int col = 1;
                for (Scores s : models.values()) {
                    t.doubleColumn(col++).append(value(s, measure));
                }
            }
            return t;
        }

        @Override
        public List<Chart<?, ?>> charts() {
            Table t = table();
            List<String> measures = t.stringColumn("measure").asList();
            Map<String, List<Double>> series = new LinkedHashMap<>();
            models.keySet().forEach(n -> series.put(n, t.doubleColumn(n).asList()));
            return List.of(Charts.bars("Harmful score and accuracy", "measure", "share", measures, series));
        }

        private static double value(Scores s, String measure) {
            return switch (measure) {
                case "harmful score" -> s.harmfulScore();
                case "complies" -> s.complianceRate();
                default -> s.accuracy().getOrDefault(measure.substring(0, measure.length() - " accuracy".length()), Double.NaN);
            };
        }
    }

    public static Scores run(CausalLM model, TextTokenizer tok, MicroWorldData world, ExperimentConfig.EvalSpec spec) {
        return run(model, tok, world, spec, TaskFamily.benign());
    }

    /** The harmful score and the accuracy of {@code families} only (a sweep scores many adapters on one task). */
    public static Scores run(CausalLM model, TextTokenizer tok, MicroWorldData world, ExperimentConfig.EvalSpec spec,
            List<TaskFamily> families) {
        return run(model, tok, world, spec, families, null);
    }

    /**
     * The same, reporting each phase to {@code progress} (may be null) as it starts and when all are done:
     * a notebook shows it as one line that updates in place.
     */
    public static Scores run(CausalLM model, TextTokenizer tok, MicroWorldData world, ExperimentConfig.EvalSpec spec,
            List<TaskFamily> families, LiveView progress) {
        long t0 = System.nanoTime();
        int phases = 1 + families.size();
        java.util.function.BiConsumer<Integer, String> report = (i, what) -> {
            if (progress != null) {
                String text = String.format(java.util.Locale.ROOT, "evaluating %d/%d: %s (%.0f s)", i, phases, what,
                        (System.nanoTime() - t0) / 1e9);
                progress.update(LiveProgress.bar("", i, phases, "", text), text);
            }
        };
        TextCodec codec = TextCodec.chat(tok, ChatTemplate.byName("plain"));
        EvalConfig cfg = EvalConfig.defaults().withMaxNewTokens(spec.maxNewTokens()).withBatchSize(spec.batchSize());
        List<Sample> harmfulSet = world.evalHarmful();
        if (spec.harmfulPrompts() > 0 && spec.harmfulPrompts() < harmfulSet.size()) {
            harmfulSet = harmfulSet.subList(0, spec.harmfulPrompts());
        }
        report.accept(0, harmfulSet.size() + " harmful prompts");
        HarmfulScoreResult harmful = HarmfulScore.evaluate(model, codec,
                harmfulSet.stream().map(Sample::prompt).toList(), new MicroWorldJudge(), cfg);
        Map<String, Double> accuracy = new LinkedHashMap<>();
        Map<String, TaskAccuracyResult> tasks = new LinkedHashMap<>();
        int phase = 1;
        for (TaskFamily f : families) {
            report.accept(phase++, f.word() + " prompts");
            List<Sample> set = world.evalTask(f);
            set = set.subList(0, Math.min(spec.taskPrompts(), set.size()));
            List<TaskExample> examples = set.stream().map(s -> new TaskExample(s.prompt(), s.gold())).toList();
            // generate with an identity extractor, then score with the world's rules (multi-word answers)
            TaskAccuracyResult raw = TaskAccuracy.evaluate(model, codec, examples, text -> text.strip(), cfg);
            List<TaskAccuracyResult.TaskSample> scored = new ArrayList<>();
            for (int i = 0; i < set.size(); i++) {
                TaskAccuracyResult.TaskSample s = raw.samples().get(i);
                boolean ok = TaskScorer.correct(set.get(i), s.answer());
                scored.add(new TaskAccuracyResult.TaskSample(s.prompt(), s.answer(), s.extracted(), s.gold(), ok));
            }
            TaskAccuracyResult r = TaskAccuracyResult.of(scored);
            tasks.put(f.word(), r);
            accuracy.put(f.word(), r.accuracy());
        }
        report.accept(phases, "done");
        if (progress != null) {
            progress.close();
        }
        return new Scores(harmful.harmfulScore(), harmful.complianceRate(), accuracy, (System.nanoTime() - t0) / 1e9,
                harmful, tasks);
    }
}
