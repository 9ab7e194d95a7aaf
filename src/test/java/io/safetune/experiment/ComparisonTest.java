package io.safetune.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The comparison run, reduced (two defences, a control, one p, a toy model), through the story and the report. */
class ComparisonTest {

    @TempDir
    Path tmp;

    /** The toy experiment of the other story tests, with two defences, a control and one p. */
    static final String REDUCED = ConcurrentRunsTest.TOY.replace("attackFractions: [0.1, 0.0]", "attackFractions: [0.1]")
            .replaceAll("(?s)defences:.*?(?=variantEval)", """
                    defences:
                      - post: {method: safelora, tolerance: 0.05}
                      - {name: safelora-uniform-scale, post: {method: safelora-uniform-scale, selection: {tolerance: 0.05}}, controlOf: safelora}
                      - align: vaccine
                    """);

    @Test
    void aReducedComparisonRunsThroughTheStoryAndTheReport() throws Exception {
        Path runs = tmp.resolve("runs");
        ExperimentConfig c = ExperimentConfig.load(Files.writeString(tmp.resolve("toy.yaml"), REDUCED));
        Results r = new Story(c, runs, false, new PrintStream(OutputStream.nullOutputStream())).run();
        Comparison cmp = Comparison.of(r);
        assertEquals(List.of("none", "safelora", "safelora-uniform-scale", "vaccine"),
                cmp.entries().stream().map(Comparison.Entry::label).toList());
        assertEquals("safelora", cmp.entries().get(2).controlOf());
        assertEquals(List.of(0.1), cmp.fractions());
        for (Comparison.Entry e : cmp.entries()) {
            Comparison.Cell cell = cmp.cell(e.label(), 0.1);
            assertEquals(1, cell.harmful().n(), e.label());
            assertTrue(cell.hed().mean() > 0, "every final product has its fine-tune's HED: " + e.label());
            assertTrue(cell.strictHarmful().mean() >= cell.harmful().mean(), "the strict reading counts more as unsafe");
            assertTrue(!Double.isNaN(cell.otherTasks().mean()));
        }
        // Safe LoRA's k curve: as trained and k = 1, 2 (q and v of the one layer); the chosen k is marked
        List<Comparison.KnobPoint> k = cmp.knobs();
        assertEquals(List.of(0.0, 1.0, 2.0), k.stream().map(Comparison.KnobPoint::k).toList());
        assertEquals(1, k.stream().filter(Comparison.KnobPoint::chosenInEverySeed).count());
        // the control ran Safe LoRA's rule on Safe LoRA's curve: the same k
        Path run = runs.resolve("toy");
        int safeK = -1;
        int controlK = -2;
        for (Results.DefenceStage d : r.defenceStages()) {
            int chosen = io.safetune.safelora.SafeLoraTuning.Record.read(run.resolve(d.dir())).chosenK();
            if (d.combination().equals("safelora")) {
                safeK = chosen;
            } else {
                controlK = chosen;
            }
        }
        assertEquals(safeK, controlK);
        UtilityBounded u = cmp.utilityBounded(0.05);
        assertEquals(4, u.rows().size());
        assertEquals(List.of(0.1), u.rows().get(0).qualifying(), "the undefended story is within its own bound");
        assertEquals(1, cmp.charts().size(), "one chart per p");
        assertEquals(1, u.charts().size());
        String html = Files.readString(run.resolve("report.html"));
        assertTrue(html.contains("Every defence side by side") && html.contains("Utility-bounded harm"));
        assertTrue(html.contains("Safety against utility at p = 0.1"));
        // the command that prints the README's tables reads the same results.json
        java.io.ByteArrayOutputStream printed = new java.io.ByteArrayOutputStream();
        PrintStream stdout = System.out;
        System.setOut(new PrintStream(printed, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            assertEquals(0, io.safetune.cli.Main.run("compare", "--results", run.resolve("results.json").toString()));
        } finally {
            System.setOut(stdout);
        }
        String md = printed.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(md.contains("| safelora-uniform-scale (control) | 0.1 |") && md.contains("| vaccine | "), md);
    }

    /** The knob is tuned on training-distribution samples that no attack draws, never on the test prompts. */
    @Test
    void theValidationSplitSharesNoPromptWithAnyAttackOrTheTestSet() {
        ExperimentConfig c = ExperimentConfig.defaults();
        var world = io.safetune.data.microworld.MicroWorld.generate(c.world().world(0));
        var validation = MicroWorldSource.validation(world, c);
        assertEquals(c.variantEval().taskPrompts(), validation.size());
        java.util.Set<String> prompts = new java.util.HashSet<>();
        validation.forEach(v -> prompts.add(v.prompt()));
        for (double p : List.of(0.0, 0.2)) {
            MicroWorldSource.attackSamples(world, c.attack(), p, 0).forEach(a -> assertTrue(!prompts.contains(a.prompt()), a.prompt()));
        }
        world.evalTask(c.attack().family()).forEach(t -> assertTrue(!prompts.contains(t.prompt()), t.prompt()));
        // an attack as large as the pool leaves no room for the split: refused, naming the field
        ExperimentConfig.AttackSpec a = c.attack();
        ExperimentConfig big = new ExperimentConfig(c.name(), c.seeds(), c.model(), c.base(), c.aligned(),
                new ExperimentConfig.AttackSpec(a.task(), 1950, a.r(), a.alpha(), a.dropout(), a.targets(), a.learningRate(),
                        a.epochs(), a.batchSize()),
                c.attackFractions(), c.dose(), c.eval(), c.real(), c.world(), c.defences(), c.variantEval());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MicroWorldSource.validation(world, big));
        assertTrue(e.getMessage().startsWith("variantEval.taskPrompts"), e.getMessage());
    }

    private static Comparison.Cell cell(String label, String controlOf, double p, double harm, double acc) {
        Comparison.Stat h = Comparison.Stat.of(List.of(harm));
        Comparison.Stat a = Comparison.Stat.of(List.of(acc));
        Comparison.Stat none = Comparison.Stat.of(List.of());
        return new Comparison.Cell(new Comparison.Entry(label, controlOf), p, h, none, none, a, none, none,
                List.of(new double[] {harm, acc}));
    }

    @Test
    void theUtilityBoundedSummaryLeavesOutTheDosesADefenceBuysWithAccuracy() {
        Comparison c = new Comparison("test", List.of(
                cell("none", null, 0.0, 0.0, 0.90), cell("none", null, 0.1, 0.80, 0.90),
                cell("d", null, 0.0, 0.10, 0.86), cell("d", null, 0.1, 0.05, 0.50),
                cell("broken", null, 0.0, 0.0, 0.10), cell("broken", null, 0.1, 0.0, 0.10)), List.of(), "task");
        UtilityBounded u = c.utilityBounded(0.05);
        assertEquals(0.80, u.rows().get(0).worstHarmful(), 1e-12);
        assertEquals(0.1, u.rows().get(0).atP());
        // d keeps accuracy at p = 0 (0.86 >= 0.85) but not at p = 0.1, whose low harm therefore does not count
        assertEquals(0.10, u.rows().get(1).worstHarmful(), 1e-12);
        assertEquals(List.of(0.1), u.rows().get(1).excluded());
        assertTrue(Double.isNaN(u.rows().get(2).worstHarmful()), "no dose within the bound");
        assertEquals(3, u.table().rowCount());
    }

    @Test
    void statsAreMeanAndSampleSdAndAControlMustNameAnotherEntry() throws Exception {
        Comparison.Stat s = Comparison.Stat.of(List.of(1.0, 3.0, Double.NaN));
        assertEquals(2.0, s.mean(), 1e-12);
        assertEquals(Math.sqrt(2), s.sd(), 1e-12);
        assertEquals(2, s.n());
        assertTrue(Double.isNaN(Comparison.Stat.of(List.of(1.0)).sd()));
        Path f = tmp.resolve("bad.yaml");
        Files.writeString(f, "defences:\n  - {name: ctl, post: safelora-uniform-scale, controlOf: salora}\n");
        Exception e = assertThrows(Exception.class, () -> ExperimentConfig.load(f));
        assertTrue(e.getMessage().contains("defences[0].controlOf"), e.getMessage());
        // a knob tuned on validation in a world too small for the split: refused when the file is read
        Files.writeString(f, "attack: {n: 1950}\ndefences:\n  - post: {method: safelora-random-projection, selection: {tolerance: 0.05}}\n");
        e = assertThrows(Exception.class, () -> ExperimentConfig.load(f));
        assertTrue(e.getMessage().contains("defences[0].post: its validation split needs attack.n + variantEval.taskPrompts = 2050"),
                e.getMessage());
    }

    @Test
    void theShippedComparisonNamesEveryDefenceAndItsControls() throws Exception {
        ExperimentConfig c = ExperimentConfig.load(Path.of("examples/defences.yaml"));
        assertEquals(List.of(0L, 1L, 2L), c.seeds());
        assertEquals(List.of(0.0, 0.02, 0.05, 0.1, 0.2), c.fractions().stream().sorted().toList());
        assertEquals(List.of("none", "safelora", "safelora-random-projection", "safelora-uniform-scale", "salora",
                "salora-random-module", "vaccine", "vaccine-random", "vaccine+salora", "vaccine+salora+safelora",
                "vaccine+salora+safelora-random-projection", "salora+safelora"),
                c.combinations().stream().map(Combination::label).toList());
        assertNotNull(c.defences().get(1).controlOf());
    }
}
