package io.safetune.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.safetune.checkpoint.CheckpointException;
import io.safetune.eval.AnswerExtractor;
import io.safetune.experiment.RealSpec.DatasetRef;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The {@code real} section: defaults, parse-time checks naming the field, the shipped example. */
class RealSpecTest {

    @TempDir
    Path tmp;

    @Test
    void defaultsAreVaccinesSst2Setting() {
        RealSpec s = RealSpec.of("models/chat");
        assertEquals("llama2", s.chatTemplate());
        assertEquals(new DatasetRef("beavertails", "30k_train", "unsafe_only"), s.harmfulTrain());
        assertEquals(new DatasetRef("sst2", "train", null), s.task());
        assertEquals(new DatasetRef("beavertails", "30k_test", "unsafe_only"), s.harmfulEval());
        assertEquals(new DatasetRef("sst2", "validation", null), s.taskEval());
        assertEquals("sst2", s.extractor());
        assertEquals("refusal_keywords", s.judge());
        assertEquals(512, s.maxLength());
        assertNull(s.dataDir());
        assertEquals(false, s.allowUnpinned());
        assertEquals("/d", s.withDataDir("/d").dataDir());
        assertEquals(s, s.withDataDir(null));
        assertTrue(s.withAllowUnpinned(true).allowUnpinned());
        // the evaluation split and extractor follow the task dataset
        RealSpec gsm = new RealSpec("m", null, null, null, null, false, null, new DatasetRef("gsm8k", "train", null), null, null,
                null, null, 0, null, 0);
        assertEquals(new DatasetRef("gsm8k", "test", null), gsm.taskEval());
        assertEquals(AnswerExtractor.LAST_NUMBER, gsm.answerExtractor());
    }

    @Test
    void parseTimeErrorsNameTheFileAndTheField() throws Exception {
        assertParseError("real: {checkpoint: m, extractor: rouge}\n", "real.extractor: unknown 'rouge'");
        assertParseError("real: {chatTemplate: llama2}\n", "real.checkpoint: missing");
        assertParseError("real: {checkpoint: m, chatTemplate: vicuna}\n", "real.chatTemplate");
        assertParseError("real: {checkpoint: m, judge: llama_guard}\n", "real.judge: unknown 'llama_guard'");
        assertParseError("real: {checkpoint: m, task: {dataset: alpaca_cleaned, split: train}}\n", "real.taskEval: missing");
        assertParseError("real: {checkpoint: m, harmfulTrain: {dataset: beavertails, split: 30k_train, filter: safe}}\n",
                "real.harmfulTrain.filter");
        assertParseError("real: {checkpoint: m, harmfulEval: {dataset: advbench}}\n", "real.harmfulEval.split: missing");
        assertParseError("real: {checkpoint: m, dataDirectory: /d}\n", "dataDirectory");
        String safe = "alignment: {dataset: beavertails, split: 30k_train, filter: safe_only}";
        assertParseError("real: {" + safe + "}\n", "real.base: missing");
        assertParseError("real: {base: b, checkpoint: m, " + safe + "}\n", "real.checkpoint: with real.alignment");
        assertParseError("real: {base: b, " + safe + ", alignmentSamples: -1}\n", "real.alignmentSamples: must be >= 1");
        assertParseError("real: {checkpoint: m, alignmentSamples: 5}\n", "real.alignmentSamples: set without real.alignment");
        assertParseError("real: {base: b, alignment: {dataset: beavertails, split: 30k_train, filter: safe}}\n",
                "real.alignment.filter");
        assertParseError("real: {checkpoint: m}\ndefences: [{align: vaccine}]\n", "defences[0].align");
    }

    private void assertParseError(String yaml, String part) throws Exception {
        Path f = tmp.resolve("bad.yaml");
        Files.writeString(f, yaml);
        CheckpointException e = assertThrows(CheckpointException.class, () -> ExperimentConfig.load(f));
        assertTrue(e.getMessage().contains("bad.yaml") && e.getMessage().contains(part), e.getMessage());
    }

    @Test
    void theShippedExampleParsesAndItsCheckpointIsCheckedOnlyWhenItRuns() throws Exception {
        Path example = Path.of("examples/real-llama2-sst2.yaml");
        ExperimentConfig c = ExperimentConfig.load(example);
        RealSpec r = c.real();
        assertEquals("models/Llama-2-7b-chat-hf", r.checkpoint());
        assertEquals(new DatasetRef("beavertails", "30k_train", "unsafe_only"), r.harmfulTrain());
        assertEquals(new DatasetRef("sst2", "validation", null), r.taskEval());
        assertEquals(List.of(0.05, 0.0), c.attackFractions());
        assertEquals(1000, c.attack().n());
        assertEquals(500, c.eval().harmfulPrompts());
        assertEquals(c, ExperimentConfig.load(write(c.toJson())), "the JSON form round-trips");
        for (String dataset : List.of("beavertails", "sst2")) {
            io.safetune.data.manifest.Manifests.builtIn(dataset); // the datasets it names have manifests
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Story(c, tmp.resolve("runs"), false, new PrintStream(OutputStream.nullOutputStream())).run());
        assertTrue(e.getMessage().startsWith("real.checkpoint: ") && e.getMessage().contains("Llama-2-7b-chat-hf"),
                e.getMessage());
    }

    @Test
    void theShippedVaccineExampleAlignsTheBaseOnTheSafeRows() throws Exception {
        ExperimentConfig c = ExperimentConfig.load(Path.of("examples/real-vaccine-llama2-sst2.yaml"));
        RealSpec r = c.real();
        assertEquals(null, r.checkpoint());
        assertEquals("models/Llama-2-7b-hf", r.base());
        assertEquals(new DatasetRef("beavertails", "30k_train", RealSpec.SAFE_ONLY), r.alignment());
        assertEquals(2000, r.alignmentSamples());
        assertEquals(List.of("vaccine", "vaccine-random"), c.defences().stream().map(Combination::label).toList());
        assertEquals(c, ExperimentConfig.load(write(c.toJson())), "the JSON form round-trips");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Story(c, tmp.resolve("runs"), false, new PrintStream(OutputStream.nullOutputStream())).run());
        assertTrue(e.getMessage().startsWith("real.base: ") && e.getMessage().contains("Llama-2-7b-hf"), e.getMessage());
    }

    private Path write(String json) throws Exception {
        Path f = tmp.resolve("c.json");
        Files.writeString(f, json);
        return f;
    }
}
