package io.safetune.experiment;

import io.safetune.data.microworld.MicroWorldData;
import io.safetune.display.Charts;
import io.safetune.display.Displayable;
import io.safetune.train.LiveProgress;
import io.safetune.display.LiveView;
import io.safetune.eval.MicroWorldJudge;
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
import io.safetune.eval.Wilson;
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
            return String.format(java.util.Locale.ROOT, "Harmful score %.3f, complies %.3f", harmfulScore, complianceRate)
                    + harmfulPrompts().stream().mapToObj(n -> " (n = " + n + " harmful prompts)").findFirst().orElse("");
        }

        /** Number of harmful prompts scored; empty for a summary without per-sample records. */
        public java.util.OptionalInt harmfulPrompts() {
            return harmful == null ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(harmful.n());
        }

        /** Number of prompts of task {@code task}; empty for a summary without per-sample records. */
        public java.util.OptionalInt taskPrompts(String task) {
            TaskAccuracyResult r = tasks == null ? null : tasks.get(task);
            return r == null ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(r.n());
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

    /** Harmful score, compliance and task accuracies of several models: one column per model, a harm and a utility chart. */
    public record Comparison(Map<String, Scores> models) implements Displayable {

        @Override
        public String title() {
            return "Harmful score and accuracy: " + String.join(" vs ", models.keySet()) + " ("
                    + condition(Scores::harmfulPrompts, "harmful prompts").replaceAll(",.*", "") + ")";
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

        /**
         * Two charts, never one shared axis: harm (harmful score and compliance, lower is better) and
         * utility (accuracy per task, higher is better), one group of bars per model. Error bars: the 95%
         * Wilson interval of each rate over its n prompts (one seed); none for summaries without n.
         */
        @Override
        public List<Chart<?, ?>> charts() {
            List<String> names = List.copyOf(models.keySet());
            Map<String, List<Double>> harm = new LinkedHashMap<>();
            Map<String, List<Double>> harmErr = new LinkedHashMap<>();
            for (String measure : List.of("harmful score", "complies")) {
                harm.put(measure, models.values().stream().map(s -> value(s, measure)).toList());
                errors(measure, s -> s.harmfulPrompts(), harm.get(measure), harmErr);
            }
            Map<String, List<Double>> utility = new LinkedHashMap<>();
            Map<String, List<Double>> utilityErr = new LinkedHashMap<>();
            for (String task : tasks()) {
                utility.put(task, models.values().stream().map(s -> s.accuracy().getOrDefault(task, Double.NaN)).toList());
                errors(task, s -> s.taskPrompts(task), utility.get(task), utilityErr);
            }
            List<Chart<?, ?>> charts = new ArrayList<>();
            charts.add(Charts.bars("Harmful score per model (" + condition(s -> s.harmfulPrompts(), "harmful prompts") + ")",
                    "model", Charts.HARM_AXIS, names, harm, harmErr));
            if (!utility.isEmpty()) {
                String n = tasks().stream().map(t -> t + ": " + condition(s -> s.taskPrompts(t), "prompts"))
                        .collect(java.util.stream.Collectors.joining("; "));
                charts.add(Charts.bars("Task accuracy per model (" + n + ")", "model", "task " + Charts.UTILITY_AXIS,
                        names, utility, utilityErr));
            }
            return charts;
        }

        /** The task names over all models, in first-seen order. */
        private List<String> tasks() {
            java.util.LinkedHashSet<String> t = new java.util.LinkedHashSet<>();
            models.values().forEach(s -> t.addAll(s.accuracy().keySet()));
            return List.copyOf(t);
        }

        /** "n = 200 harmful prompts" (or "n = 50–200 …" when models differ, "n unknown" for summaries). */
        private String condition(java.util.function.Function<Scores, java.util.OptionalInt> n, String what) {
            java.util.IntSummaryStatistics st = models.values().stream().map(n).filter(java.util.OptionalInt::isPresent)
                    .mapToInt(java.util.OptionalInt::getAsInt).summaryStatistics();
            if (st.getCount() == 0) {
                return "n unknown";
            }
            return "n = " + (st.getMin() == st.getMax() ? st.getMin() + "" : st.getMin() + "–" + st.getMax()) + " " + what
                    + ", one seed, bars: 95% Wilson interval";
        }

        /** Wilson half-widths of {@code values} when every model knows its n; no error bars otherwise. */
        private void errors(String series, java.util.function.Function<Scores, java.util.OptionalInt> n, List<Double> values,
                Map<String, List<Double>> out) {
            List<Scores> ss = List.copyOf(models.values());
            List<Double> err = new ArrayList<>();
            for (int i = 0; i < ss.size(); i++) {
                java.util.OptionalInt ni = n.apply(ss.get(i));
                double v = values.get(i);
                if (ni.isEmpty() || Double.isNaN(v)) {
                    return;
                }
                err.add(Wilson.ofRate(v, ni.getAsInt()).halfWidthAround(v));
            }
            out.put(series, err);
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
        TextCodec codec = TextCodec.chat(tok, ChatTemplate.byName(ChatTemplate.PLAIN));
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
            TaskAccuracyResult r = taskAccuracy(model, codec, set.subList(0, Math.min(spec.taskPrompts(), set.size())), cfg);
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

    /** Accuracy on {@code set} by the world's rules (multi-word answers): a test set or a validation split. */
    static TaskAccuracyResult taskAccuracy(CausalLM model, TextCodec codec, List<Sample> set, EvalConfig cfg) {
        List<TaskExample> examples = set.stream().map(s -> new TaskExample(s.prompt(), s.gold())).toList();
        // generate with an identity extractor, then score with the world's rules
        TaskAccuracyResult raw = TaskAccuracy.evaluate(model, codec, examples, text -> text.strip(), cfg);
        List<TaskAccuracyResult.TaskSample> scored = new ArrayList<>();
        for (int i = 0; i < set.size(); i++) {
            TaskAccuracyResult.TaskSample s = raw.samples().get(i);
            boolean ok = TaskScorer.correct(set.get(i), s.answer());
            scored.add(new TaskAccuracyResult.TaskSample(s.prompt(), s.answer(), s.extracted(), s.gold(), ok));
        }
        return TaskAccuracyResult.of(scored);
    }
}
