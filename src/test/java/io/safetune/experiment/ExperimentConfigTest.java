package io.safetune.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.safetune.checkpoint.CheckpointException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

class ExperimentConfigTest {

    @TempDir
    Path tmp;

    /** A record hashes like the map of its fields (StageStoreTest). */
    record Cfg(double lr, int steps) {
        static Cfg of(double lr, int steps) {
            return new Cfg(lr, steps);
        }
    }

    @Test
    void emptyFileIsTheDefaultAndJsonRoundTrips() throws Exception {
        Path empty = tmp.resolve("e.yaml");
        Files.writeString(empty, "");
        ExperimentConfig d = ExperimentConfig.load(empty);
        assertEquals(ExperimentConfig.defaults(), d);
        assertEquals(List.of(0.1, 0.0), d.attackFractions());
        assertEquals(2000, d.base().steps());
        Path json = tmp.resolve("c.json");
        Files.writeString(json, d.toJson());
        assertEquals(d, ExperimentConfig.load(json));
    }

    @Test
    void yamlOverridesOnlyWhatItNames() throws Exception {
        Path yaml = tmp.resolve("dose.yaml");
        Files.writeString(yaml, """
                name: dose
                seeds: [0, 1, 2]
                dose: [0.01, 0.02, 0.05]
                attack: {task: sentiment, n: 500, r: 4, alpha: 8, dropout: 0.05, learningRate: 0.001, epochs: 3, batchSize: 16}
                """);
        ExperimentConfig c = ExperimentConfig.load(yaml);
        assertEquals("dose", c.name());
        assertEquals(List.of(0L, 1L, 2L), c.seeds());
        assertEquals("sentiment", c.attack().task());
        assertEquals(List.of("q_proj", "v_proj"), c.attack().targets());
        assertEquals(ExperimentConfig.TrainingSpec.BASE, c.base());
    }

    @Test
    void errorsNameTheFileAndTheField() throws Exception {
        Path bad = tmp.resolve("bad.yaml");
        Files.writeString(bad, "eval: {maxNewTokens: 0, taskPrompts: 1, harmfulPrompts: 0, hedSamples: 1, batchSize: 1}\n");
        CheckpointException e = assertThrows(CheckpointException.class, () -> ExperimentConfig.load(bad));
        assertTrue(e.getMessage().contains("bad.yaml") && e.getMessage().contains("eval.maxNewTokens"), e.getMessage());
        Files.writeString(bad, "dose: [1.5]\n");
        e = assertThrows(CheckpointException.class, () -> ExperimentConfig.load(bad));
        assertTrue(e.getMessage().contains("dose"), e.getMessage());
        Files.writeString(bad, "learningrate: 3\n");
        e = assertThrows(CheckpointException.class, () -> ExperimentConfig.load(bad));
        assertTrue(e.getMessage().contains("learningrate"), e.getMessage());
    }

    /** Loads {@code text} as {@code file} and returns the error, which must name the file and {@code field}. */
    private CheckpointException refused(String file, String text, String field) throws Exception {
        Path f = tmp.resolve(file);
        Files.writeString(f, text);
        CheckpointException e = assertThrows(CheckpointException.class, () -> ExperimentConfig.load(f), text);
        assertTrue(e.getMessage().contains(file) && e.getMessage().contains(field), text + " -> " + e.getMessage());
        return e;
    }

    @Test
    void everyFieldHasADefaultEvenInsideASection() throws Exception {
        Path f = tmp.resolve("short.yaml");
        Files.writeString(f, "base: {steps: 50}\nattack: {epochs: 2}\neval: {taskPrompts: 20}\n");
        ExperimentConfig c = ExperimentConfig.load(f);
        assertEquals(new ExperimentConfig.TrainingSpec(50, 64, 2e-3, 0.05, 0.0), c.base());
        assertEquals(ExperimentConfig.TrainingSpec.ALIGNED, c.aligned());
        assertEquals(2, c.attack().epochs());
        assertEquals(ExperimentConfig.AttackSpec.DEFAULT.n(), c.attack().n());
        assertEquals(20, c.eval().taskPrompts());
        assertEquals(ExperimentConfig.EvalSpec.DEFAULT.maxNewTokens(), c.eval().maxNewTokens());
        Files.writeString(f, "aligned: {learningRate: 0.001}\n");
        assertEquals(new ExperimentConfig.TrainingSpec(900, 64, 1e-3, 0.05, 0.0), ExperimentConfig.load(f).aligned());
    }

    @Test
    void seedsMustBeGivenOnceEach() throws Exception {
        refused("s.yaml", "seeds: []\n", "seeds");
        refused("s.yaml", "seeds: [0, 0]\n", "seeds");
        refused("s.json", "{\"seeds\": [1, 2, 1]}", "seeds");
        refused("s.yaml", "dose: [0.02, 0.02]\n", "dose");
    }

    @Test
    void fractionsAndStringsAreNotIntegers() throws Exception {
        refused("f.yaml", "base: {steps: 0.5}\n", "base.steps");
        refused("f.yaml", "attack: {epochs: 50.7}\n", "attack.epochs");
        refused("f.json", "{\"seeds\": [0.5]}", "seeds");
        refused("f.json", "{\"base\": {\"steps\": \"50\"}}", "base.steps");
        refused("f.json", "{\"base\": {\"steps\": null}}", "steps");
    }

    @Test
    void duplicateKeysAndTrailingTextAreErrors() throws Exception {
        refused("d.json", "{\"name\": \"a\", \"name\": \"b\"}", "name");
        refused("d.yaml", "name: a\nname: b\n", "name");
        refused("d.yaml", "base: {steps: 5, steps: 6}\n", "steps");
        refused("t.json", "{\"name\": \"a\"} trailing garbage", "t.json");
        refused("t.json", "{} {\"name\": \"b\"}", "t.json");
        refused("t.json", "[1, 2]", "mapping");
    }

    @Test
    void evaluationSizesAreCheckedAgainstTheWorld() throws Exception {
        refused("e.yaml", "eval: {harmfulPrompts: -1}\n", "eval.harmfulPrompts");
        refused("e.yaml", "eval: {harmfulPrompts: 5000}\n", "eval.harmfulPrompts");
        refused("e.yaml", "eval: {taskPrompts: 201}\n", "eval.taskPrompts");
        refused("e.yaml", "variantEval: {taskPrompts: 999}\n", "variantEval.taskPrompts");
        refused("e.yaml", "eval: {hedSamples: 100000}\n", "eval.hedSamples");
        assertEquals(200, load("eval: {harmfulPrompts: 200, taskPrompts: 200}\n").eval().harmfulPrompts());
        // the variants' evaluation is checked only when a post-process runs, and it measures no HED
        assertEquals(32, load("world: {alignRefusals: 32}\neval: {hedSamples: 16}\ndefences: []\n")
                .world().alignRefusals());
        assertEquals(32, load("world: {alignRefusals: 32}\neval: {hedSamples: 16}\n").world().alignRefusals());
        assertEquals(999, load("variantEval: {taskPrompts: 999}\ndefences: []\n").variantEval().taskPrompts());
        refused("e.yaml", "variantEval: {taskPrompts: 999}\nattackFractions: [0.1]\n", "variantEval.taskPrompts");
    }

    @Test
    void defencesAreSlotFillersFromTheRegistryAndErrorsNameTheField() throws Exception {
        ExperimentConfig c = load("""
                defences:
                  - post: safelora
                  - {align: sft, fineTune: lora, post: {method: safelora-sweep, taus: [0.5], projector: EXACT}}
                  - {name: ctrl, post: {method: safelora-random-projection, selection: {mode: THRESHOLD, tau: 0.2}, randomRank: 4},
                     fractions: [0.1]}
                """);
        assertEquals(List.of("none", "safelora", "safelora-sweep", "ctrl"),
                c.combinations().stream().map(Combination::label).toList(), "the undefended story first, as the control");
        assertEquals("none", c.defences().get(1).labelUpTo(io.safetune.method.Slot.FINE_TUNE), "SFT and LoRA are the defaults");
        var sweep = (io.safetune.safelora.SafeLoraSweepDefence.Settings) c.defences().get(1).post().settings();
        assertEquals(List.of(0.5), sweep.taus());
        assertEquals(io.safetune.safelora.SafeLoraConfig.Projector.EXACT, sweep.projector());
        assertEquals(8, sweep.randomRank(), "settings not named keep their defaults");
        assertEquals(c, ExperimentConfig.load(Files.writeString(tmp.resolve("round.json"), c.toJson())), "the JSON form round-trips");
        assertTrue(c.defences().get(2).runsOn(0.1) && !c.defences().get(2).runsOn(0.0));

        refused("d.yaml", "defences: [{post: vaccine}]\n", "defences[0].post");
        refused("d.yaml", "defences: [{post: vaccine}]\n", "unknown post defence 'vaccine'");
        refused("d.yaml", "defences: [{post: {method: safelora, kk: 3}}]\n", "kk");
        refused("d.yaml", "defences: [{post: {method: safelora, k: 0}}]\n", "k: must be >= 1");
        refused("d.yaml", "defences: [{align: safelora}]\n", "unknown align defence 'safelora'");
        refused("d.yaml", "defences: [{postprocess: safelora}]\n", "postprocess");
        refused("d.yaml", "defences: [{post: safelora, fractions: [0.3]}]\n", "defences[0].fractions");
        refused("d.yaml", "defences: [{post: safelora}, {post: safelora}]\n", "listed twice");
        refused("d.yaml", "defences: [{name: none, fineTune: salora}]\n", "'none' is the undefended story's label");
        refused("d.yaml", "dose: [0.005, 0.01]\nattackFractions: [0.1]\n", "the same to 2 decimals");
        assertThrows(IllegalArgumentException.class, () -> Defences.register(align("safelora")), "names are unique across slots");
        // an align defence on real data is refused when the file is read, not after the undefended story has run
        Defences.register(align("toy-align"));
        refused("d.yaml", "defences: [{align: toy-align}]\nreal: {checkpoint: somewhere}\n", "defences[0].align");
        refused("d.yaml", "defences: [{fineTune: salora, post: safelora}, {fineTune: {method: salora, rankSafety: 4}}]\n",
                "defences[1]: its fine-tune products would be labelled 'salora'");
        assertEquals(List.of("none", "salora", "rs4"), load("defences: [{fineTune: salora}, {name: rs4, fineTune: "
                + "{method: salora, rankSafety: 4}}]\n").combinations().stream().map(Combination::label).toList());
    }

    @Test
    void theRunNameStaysInsideTheRunsFolder() throws Exception {
        for (String bad : List.of("..", ".", ".hidden", "a/b", "../x")) {
            refused("n.json", "{\"name\": \"" + bad + "\"}", "name");
        }
        assertThrows(IllegalArgumentException.class, () -> ExperimentConfig.defaults().withNameAndSeeds("..", null));
        assertEquals("v1.2_a-b", load("name: v1.2_a-b\n").name());
    }

    @Test
    void attackErrorsComeBeforeAnyStageAndNameTheFile() throws Exception {
        refused("a.yaml", "attack: {dropout: 1.5}\n", "attack.dropout");
        refused("a.yaml", "attack: {alpha: 0}\n", "attack.alpha");
        refused("a.yaml", "attack: {targets: [q_proj, w_proj]}\n", "attack.targets");
        refused("a.yaml", "attack: {targets: []}\n", "attack.targets");
        refused("a.yaml", "attack: {task: poetry}\n", "attack.task");
        refused("a.yaml", "attack: {learningRate: -0.001}\n", "attack.learningRate");
        refused("a.yaml", "attack: {n: 100000}\n", "attack.n");
        refused("a.yaml", "attack: {n: 1000}\ndose: [1.0]\n", "attack.n"); // 1000 harmful > the 600 of the pool
        refused("a.yaml", "base: {warmupRatio: 1.5}\n", "warmupRatio");
        refused("a.yaml", "world: {alignRefusals: 0}\n", "world.alignRefusals");
    }

    private ExperimentConfig load(String yaml) throws Exception {
        Path f = tmp.resolve("ok.yaml");
        Files.writeString(f, yaml);
        return ExperimentConfig.load(f);
    }

    /** An align defence of the test's own that does nothing (only its name matters here). */
    private static io.safetune.method.AlignDefence<io.safetune.method.NoSettings> align(String name) {
        return new io.safetune.method.AlignDefence<>() {
            public String name() {
                return name;
            }

            public String description() {
                return "a test's align defence";
            }

            public Class<io.safetune.method.NoSettings> configType() {
                return io.safetune.method.NoSettings.class;
            }

            public io.safetune.method.NoSettings defaultConfig() {
                return new io.safetune.method.NoSettings();
            }

            public void align(io.safetune.method.AlignInputs in, io.safetune.method.NoSettings c, Path out) {
            }
        };
    }
}
