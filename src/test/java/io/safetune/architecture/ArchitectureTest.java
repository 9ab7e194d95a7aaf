package io.safetune.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The package rules of docs/architecture (README's package table): data flows one way, files → model
 * stack → defences → story → displays, and a defence is one package plus one registry line.
 */
class ArchitectureTest {

    private static final String[] BOTTOM = {"io.safetune.checkpoint..", "io.safetune.tokenizer..", "io.safetune.display..",
        "io.safetune.engine..", "io.safetune.linalg.."};
    private static final String[] MODEL_STACK = {"io.safetune.model..", "io.safetune.lora..", "io.safetune.train.."};
    /** One package per defence (the story's defaults live in standard). */
    private static final String[] METHODS = {"io.safetune.safelora..", "io.safetune.salora..", "io.safetune.standard..",
        "io.safetune.vaccine.."};
    private static final String[] ABOVE_METHODS = {"io.safetune.experiment..", "io.safetune.lab..", "io.safetune.cli..",
        "io.safetune.bench..", "io.safetune.kernel..", "io.safetune.grid.."};

    private static JavaClasses classes;

    @BeforeAll
    static void importMain() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("io.safetune");
    }

    @Test
    void noPackageCycles() {
        slices().matching("io.safetune.(*)..").should().beFreeOfCycles().check(classes);
    }

    @Test
    void checkpointTokenizerAndDisplayAreTheGround() {
        noClasses().that().resideInAnyPackage(BOTTOM).should().dependOnClassesThat()
                .resideInAnyPackage(concat(MODEL_STACK, METHODS, ABOVE_METHODS, "io.safetune.data..", "io.safetune.eval..",
                        "io.safetune.method.."))
                .check(classes);
    }

    @Test
    void theModelStackKnowsNoMethodEvaluationOrStory() {
        noClasses().that().resideInAnyPackage(MODEL_STACK).should().dependOnClassesThat()
                .resideInAnyPackage(concat(METHODS, ABOVE_METHODS, "io.safetune.eval..", "io.safetune.method.."))
                .check(classes);
    }

    @Test
    void dataImportsNeitherEvaluationNorTraining() {
        noClasses().that().resideInAPackage("io.safetune.data..").should().dependOnClassesThat()
                .resideInAnyPackage(concat(METHODS, ABOVE_METHODS, "io.safetune.eval..", "io.safetune.train..",
                        "io.safetune.method.."))
                .check(classes);
    }

    @Test
    void evaluationKnowsNoMethodOrStory() {
        noClasses().that().resideInAPackage("io.safetune.eval..").should().dependOnClassesThat()
                .resideInAnyPackage(concat(METHODS, ABOVE_METHODS, "io.safetune.method..")).check(classes);
    }

    @Test
    void theContractKnowsNoMethodAndNoStory() {
        noClasses().that().resideInAPackage("io.safetune.method..").should().dependOnClassesThat()
                .resideInAnyPackage(concat(METHODS, ABOVE_METHODS)).check(classes);
    }

    @Test
    void aMethodImportsNoOtherMethodNorAnythingAboveIt() {
        for (String method : METHODS) {
            List<String> others = Stream.of(METHODS).filter(m -> !m.equals(method)).toList();
            noClasses().that().resideInAPackage(method).should().dependOnClassesThat()
                    .resideInAnyPackage(concat(others.toArray(String[]::new), ABOVE_METHODS)).check(classes);
        }
    }

    @Test
    void theStoryKnowsMethodsOnlyThroughTheContractAndTheRegistry() {
        noClasses().that().resideInAPackage("io.safetune.experiment..").and().doNotHaveSimpleName("Defences")
                .should().dependOnClassesThat().resideInAnyPackage(METHODS).check(classes);
        noClasses().that().resideInAnyPackage("io.safetune.experiment..").should().dependOnClassesThat()
                .resideInAnyPackage("io.safetune.lab..", "io.safetune.cli..", "io.safetune.bench..", "io.safetune.grid..").check(classes);
    }

    /** The grid runs the story's units; what a defence is, it learns from the story alone. */
    @Test
    void theGridKnowsDefencesOnlyThroughTheStory() {
        noClasses().that().resideInAPackage("io.safetune.grid..").should().dependOnClassesThat()
                .resideInAnyPackage(concat(METHODS, "io.safetune.model..", "io.safetune.lora..", "io.safetune.train..",
                        "io.safetune.lab..", "io.safetune.cli..", "io.safetune.bench..")).check(classes);
    }

    /** The issue's own check: in experiment/, only the registry's source names Safe LoRA. */
    @Test
    void onlyTheRegistryNamesAMethodInTheStorysSources() throws IOException {
        try (Stream<Path> files = Files.walk(Path.of("src/main/java/io/safetune/experiment"))) {
            List<String> naming = files.filter(f -> f.toString().endsWith(".java")).filter(f -> {
                try {
                    return Files.readString(f).toLowerCase(Locale.ROOT).contains("safelora");
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).map(f -> f.getFileName().toString()).sorted().toList();
            assertEquals(List.of("Defences.java"), naming);
        }
    }

    private static String[] concat(Object... parts) {
        return Stream.of(parts).flatMap(p -> p instanceof String[] a ? Stream.of(a) : Stream.of((String) p)).toArray(String[]::new);
    }
}
