package io.safetune.display;

import io.safetune.eval.DriftAggregate;
import io.safetune.eval.DriftComparison;
import io.safetune.eval.DriftPoint;
import io.safetune.eval.DriftResult;
import io.safetune.eval.DriftSeries;
import io.safetune.eval.HarmfulScoreResult;
import io.safetune.eval.Judge;
import io.safetune.eval.TaskAccuracyResult;
import io.safetune.experiment.Evaluation;
import io.safetune.lab.Generations;
import io.safetune.safelora.SafeLoraConfig;
import io.safetune.safelora.SafeLoraResult;
import io.safetune.safelora.SafeLoraSweep;
import io.safetune.safelora.UpdateEnergy;

import org.junit.jupiter.api.Test;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.internal.chartpart.Chart;

import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a reader sees of the lab's results: titles with their condition, one image per chart, rounded tables. */
class DisplayablesTest {

    /** A score on n harmful prompts of which {@code unsafe} were answered unsafely, and a task of n prompts. */
    static Evaluation.Scores scores(int n, int unsafe, int correct) {
        List<HarmfulScoreResult.SampleRecord> harmful = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Judge.Verdict v = i < unsafe ? Judge.Verdict.unsafe(false, "broken") : Judge.Verdict.safe("refused");
            harmful.add(new HarmfulScoreResult.SampleRecord("p" + i, "a", v, List.of(1), io.safetune.model.StopReason.EOS));
        }
        List<TaskAccuracyResult.TaskSample> task = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            task.add(new TaskAccuracyResult.TaskSample("q" + i, "x", "x", i < correct ? "x" : "y", i < correct));
        }
        HarmfulScoreResult h = HarmfulScoreResult.of(harmful);
        TaskAccuracyResult t = TaskAccuracyResult.of(task);
        return new Evaluation.Scores(h.harmfulScore(), h.complianceRate(), Map.of("sentiment", t.accuracy()), 1.23456789,
                h, Map.of("sentiment", t));
    }

    static DriftResult drift(double scale) {
        return new DriftResult(DriftAggregate.MEAN_L2, scale * 2.123456789, List.of(scale * 1.123456789, scale * 3.123456789),
                List.of(scale * 11.98765432, scale * 45.6789012345), 64, 1234);
    }

    static SafeLoraResult safeLora() {
        return new SafeLoraResult(SafeLoraConfig.number(1), OptionalDouble.of(0.123456789), OptionalDouble.of(1),
                List.of(new SafeLoraResult.WeightResult(0, "q_proj", "model.layers.0.self_attn.q_proj.weight",
                        OptionalDouble.of(0.123456789), SafeLoraResult.Status.DEFINED, true, 1.5, 0.5),
                    new SafeLoraResult.WeightResult(0, "v_proj", "model.layers.0.self_attn.v_proj.weight",
                        OptionalDouble.of(0.87654321), SafeLoraResult.Status.DEFINED, false, 2.5, 2.5),
                    new SafeLoraResult.WeightResult(1, "q_proj", "model.layers.1.self_attn.q_proj.weight",
                        OptionalDouble.empty(), SafeLoraResult.Status.ZERO_UPDATE, false, 0, 0)));
    }

    static SafeLoraSweep.Result sweep() {
        List<SafeLoraSweep.Point> ps = List.of(
                new SafeLoraSweep.Point(SafeLoraSweep.Method.NONE, 0, Double.NaN, 0, 1, 0.61234567, 0.5, 0.91234567, List.of()),
                new SafeLoraSweep.Point(SafeLoraSweep.Method.SAFE_LORA, 1, Double.NaN, 1, 0.7654321, 0.3123, 0.2, 0.8, List.of("w")),
                new SafeLoraSweep.Point(SafeLoraSweep.Method.RANDOM_PROJECTION, 1, Double.NaN, 1, 0.7654321, 0.6, 0.5, 0.9, List.of("w")),
                new SafeLoraSweep.Point(SafeLoraSweep.Method.UNIFORM_SCALE, 1, Double.NaN, 1, 0.7654321, 0.5, 0.4, 0.85, List.of("w")),
                new SafeLoraSweep.Point(SafeLoraSweep.Method.SAFE_LORA_TAU, 0, 0.5, 1, 0.7654321, 0.3123, 0.2, 0.8, List.of("w")));
        return new SafeLoraSweep.Result(safeLora(), ps, "p = 0.1, seed 0, n = 200 harmful prompts");
    }

    /** Every Displayable these tests can build without a model. */
    static List<Displayable> all() {
        return List.of(scores(200, 3, 150), Evaluation.compare("aligned", scores(200, 0, 190), "attacked", scores(200, 120, 150)),
                drift(1), DriftComparison.of("p=0", drift(1), "p=0.1", drift(3)),
                new DriftSeries(DriftAggregate.MEAN_L2, 10, List.of(new DriftPoint(10, drift(1)), new DriftPoint(20, drift(2)))),
                safeLora(), sweep(),
                new UpdateEnergy.Result(4, List.of(new UpdateEnergy.Row(0, "q_proj", "w", 0.123456789, 0.98765432, 0.0123456789, 7))),
                new Generations(List.of(new Generations.Row("hello", "world", io.safetune.model.StopReason.EOS, 2))),
                drift(1).withCaption("attacked, p = 0.1, seed 0"));
    }

    private static final Pattern INLINE = Pattern.compile("data:image/png;base64,([A-Za-z0-9+/=]+)");
    private static final Pattern CELL = Pattern.compile("<td[^>]*>(.*?)</td>", Pattern.DOTALL);
    private static final Pattern NUMBER = Pattern.compile("[-+]?\\d+(\\.\\d+)?");

    @Test
    void eachChartIsStoredOnceInHtml() {
        for (Displayable d : all()) {
            String html = d.toHtml();
            List<String> images = new ArrayList<>();
            Matcher m = INLINE.matcher(html);
            while (m.find()) {
                images.add(m.group(1));
            }
            assertEquals(d.charts().size(), images.size(), d.title());
            assertEquals(images.size(), new HashSet<>(images).size(), "an image stored twice: " + d.title());
            images.forEach(b64 -> assertTrue(Base64.getDecoder().decode(b64).length > 100));
        }
    }

    @Test
    void tablesAsShownHaveAtMostSixSignificantDigits() {
        for (Displayable d : all()) {
            for (String text : List.of(d.toHtml(), d.toText())) {
                Matcher cell = CELL.matcher(text);
                List<String> cells = new ArrayList<>();
                while (cell.find()) {
                    cells.add(cell.group(1));
                }
                if (cells.isEmpty()) {
                    cells.add(text); // the text form: every number in it
                }
                for (String c : cells) {
                    Matcher n = NUMBER.matcher(c);
                    while (n.find()) {
                        String digits = n.group().replaceAll("[-+.]", "").replaceFirst("^0+", "");
                        assertTrue(digits.length() <= 6, d.title() + ": " + n.group());
                    }
                }
            }
        }
    }

    @Test
    void noInternalNamesInWhatIsShown() {
        for (Displayable d : all()) {
            String shown = d.toText() + d.charts().stream().map(Chart::getTitle).toList();
            for (String internal : List.of("MEAN_L2", "NUMBER", "THRESHOLD", "SubList", "k = 0")) {
                assertFalse(shown.contains(internal), d.title() + " shows " + internal + ": " + shown);
            }
        }
        assertTrue(sweep().toText().contains("τ 0.5"), sweep().toText()); // a τ point is labelled by its τ
    }

    @Test
    void chartTitlesNameTheirCondition() {
        for (Chart<?, ?> c : scores(200, 3, 150).charts()) {
            assertTrue(c.getTitle().contains("n = 200"), c.getTitle());
        }
        for (Chart<?, ?> c : List.of(drift(1).charts().get(0), DriftComparison.of("a", drift(1)).charts().get(0))) {
            assertTrue(c.getTitle().contains("n = 64 samples"), c.getTitle());
        }
        assertTrue(safeLora().charts().get(0).getTitle().contains("k = 1") && safeLora().charts().get(0).getTitle().contains("τ = 0.123"),
                safeLora().charts().get(0).getTitle());
        for (Chart<?, ?> c : sweep().charts()) {
            assertTrue(c.getTitle().contains("p = 0.1, seed 0"), c.getTitle());
        }
        Displayable captioned = drift(1).withCaption("attacked, p = 0.1, seed 0");
        assertTrue(captioned.charts().get(0).getTitle().endsWith("(attacked, p = 0.1, seed 0)"));
        assertTrue(captioned.title().contains("p = 0.1"));
    }

    @Test
    void harmAndUtilityAreSeparateChartsThatSayWhichWayIsBetter() {
        List<Chart<?, ?>> charts = scores(200, 3, 150).charts();
        assertEquals(2, charts.size());
        assertEquals(Charts.HARM_AXIS, charts.get(0).getYAxisTitle());
        assertTrue(charts.get(1).getYAxisTitle().contains("higher is better"), charts.get(1).getYAxisTitle());
        assertEquals(Set.of("harmful score", "complies"), ((CategoryChart) charts.get(0)).getSeriesMap().keySet());
        assertEquals(Set.of("sentiment"), ((CategoryChart) charts.get(1)).getSeriesMap().keySet());
        CategoryChart harm = (CategoryChart) charts.get(0);
        assertTrue(harm.getStyler().isLabelsVisible()); // a bar of height 0 still shows its value
        // one seed over n = 200: the 95% Wilson interval as error bars (k = 3: 0.015 + [0.0051, 0.0432])
        Number err = harm.getSeriesMap().get("harmful score").getExtraValues().iterator().next();
        assertEquals(0.0432 - 0.015, err.doubleValue(), 5e-4);
    }

    @Test
    void sweepHasASafetyAgainstUtilityChartAndMarksProjectedWeights() {
        List<Chart<?, ?>> charts = sweep().charts();
        Chart<?, ?> tradeOff = charts.stream().filter(c -> c.getTitle().startsWith("Safety vs utility")).findFirst().orElseThrow();
        assertEquals(Charts.HARM_AXIS, tradeOff.getXAxisTitle());
        assertEquals(List.of("safe-lora", "random-projection", "uniform-scale", "safe-lora (τ)"),
                List.copyOf(((org.knowm.xchart.XYChart) tradeOff).getSeriesMap().keySet()));
        CategoryChart cos = safeLora().toChart();
        assertEquals(List.of("projected", "kept", "undefined", "τ = 0.123"), List.copyOf(cos.getSeriesMap().keySet()));
        assertEquals(org.knowm.xchart.CategorySeries.CategorySeriesRenderStyle.Line,
                cos.getSeriesMap().get("τ = 0.123").getChartCategorySeriesRenderStyle(), "τ is drawn as a line");
    }

    @Test
    void driftSeriesOrderAndColoursDoNotDependOnTheMapsOrder() {
        Map<String, DriftResult> one = new LinkedHashMap<>();
        one.put("p=0.1", drift(3));
        one.put("p=0", drift(1));
        Map<String, DriftResult> other = new LinkedHashMap<>();
        other.put("p=0", drift(1));
        other.put("p=0.1", drift(3));
        org.knowm.xchart.XYChart a = (org.knowm.xchart.XYChart) new DriftComparison(one).charts().get(0);
        org.knowm.xchart.XYChart b = (org.knowm.xchart.XYChart) new DriftComparison(other).charts().get(0);
        assertEquals(List.copyOf(a.getSeriesMap().keySet()), List.copyOf(b.getSeriesMap().keySet()));
        for (String name : a.getSeriesMap().keySet()) {
            assertEquals(a.getSeriesMap().get(name).getLineColor(), b.getSeriesMap().get(name).getLineColor(), name);
        }
        assertTrue(java.util.Arrays.equals(HtmlReport.png(a), HtmlReport.png(b)));
    }

    @Test
    void chartsDrawAnUnorderedMapInNameOrder() {
        Map<String, double[][]> one = new java.util.HashMap<>();
        Map<String, double[][]> other = new java.util.HashMap<>(64); // another capacity: another iteration order
        for (String name : List.of("p=0.1", "p=0", "seed 3", "benign", "attack", "zeta", "alpha")) {
            one.put(name, new double[][] {{0, 1}, {1, 2}});
        }
        List<String> names = new ArrayList<>(one.keySet());
        java.util.Collections.reverse(names);
        names.forEach(n -> other.put(n, one.get(n)));
        List<String> sorted = new ArrayList<>(new java.util.TreeSet<>(one.keySet()));
        assertEquals(sorted, List.copyOf(Charts.lines("t", "x", "y", one).getSeriesMap().keySet()));
        assertEquals(sorted, List.copyOf(Charts.lines("t", "x", "y", other).getSeriesMap().keySet()));
    }

    @Test
    void sweepPointsCarryWilsonIntervalsWhenTheirPromptCountsAreKnown() {
        SafeLoraSweep.Result known = new SafeLoraSweep.Result(safeLora(), sweep().points(), "p = 0.1, seed 0", 100, 100);
        org.knowm.xchart.XYChart harm = (org.knowm.xchart.XYChart) known.versusK("harmful score", SafeLoraSweep.Point::harmfulScore);
        assertTrue(harm.getTitle().contains("Wilson"), harm.getTitle());
        double[] err = harm.getSeriesMap().get("safe-lora").getExtraValues();
        assertTrue(err != null && err.length == 2 && err[1] > 0.05 && err[1] < 0.15, java.util.Arrays.toString(err));
        org.knowm.xchart.XYChart unknown = (org.knowm.xchart.XYChart) sweep().versusK("harmful score",
                SafeLoraSweep.Point::harmfulScore);
        assertFalse(unknown.getTitle().contains("Wilson"));
        assertEquals(null, unknown.getSeriesMap().get("safe-lora").getExtraValues());
    }

    @Test
    void longTitlesShrinkToFitTheChart() {
        org.knowm.xchart.XYChart c = Charts.lines("HED during fine-tuning (micro-world, attack p = 0.1, seed 0, n = 100 harmful and "
                + "100 task prompts per variant, bars: 95% Wilson interval)", "step", "HED",
                Map.of("a", new double[][] {{0, 1}, {0, 1}}));
        float before = c.getStyler().getChartTitleFont().getSize2D();
        HtmlReport.png(c);
        java.awt.Font after = c.getStyler().getChartTitleFont();
        java.awt.Graphics2D g = new java.awt.image.BufferedImage(1, 1, java.awt.image.BufferedImage.TYPE_INT_ARGB).createGraphics();
        assertTrue(after.getSize2D() < before, "shrunk from " + before + " to " + after.getSize2D());
        assertTrue(g.getFontMetrics(after).stringWidth(c.getTitle()) <= c.getWidth() - 24, "fits");
        g.dispose();
        org.knowm.xchart.XYChart shortTitle = Charts.lines("Loss", "step", "loss", Map.of("a", new double[][] {{0, 1}, {0, 1}}));
        HtmlReport.png(shortTitle);
        assertEquals(before, shortTitle.getStyler().getChartTitleFont().getSize2D());
    }
}
