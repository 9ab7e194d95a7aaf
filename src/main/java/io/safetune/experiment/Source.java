package io.safetune.experiment;

import io.safetune.data.TrainingExample;
import io.safetune.method.Target;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Where the story's models, data and judge come from: the micro-world ({@link MicroWorldSource}) or a
 * real checkpoint with real datasets ({@link RealSource}). The story asks the same questions of both;
 * what one cannot answer (a real checkpoint has no alignment set) is an error naming the field.
 */
interface Source {

    /** How scores are taken: every product in full, a sweep's variants on the smaller variant set. */
    enum Scope {
        /** Harmful prompts and every task of {@code eval}. */
        FULL,
        /** Harmful prompts and the fine-tune task of {@code variantEval}. */
        VARIANT,
        /**
         * The fine-tune task's accuracy on a validation split (no harmful prompts, never the test prompts):
         * what a defence's knob is tuned on.
         */
        VALIDATION
    }

    /** "micro-world" or "real checkpoint …", for reports. */
    String describe();

    /** The unaligned base model of {@code seed}: trained as a stage (micro-world), a given folder, or none. */
    Optional<Stages.Product> base(long seed);

    /** Whether the base model is scored (the micro-world's is; a real one is not: it only serves post-processes). */
    boolean scoresBase();

    /** The aligned checkpoint given as is (a real experiment), or empty: the story aligns the base. */
    Optional<Stages.Product> givenAligned();

    /** The alignment set, encoded with the tokenizer in {@code modelDir}. */
    List<TrainingExample> alignmentData(Path modelDir, long seed);

    /** How an align filler that leaves its flow out aligns: every weight (micro-world) or an adapter (real data). */
    io.safetune.method.AlignFlow alignFlow();

    /** What the alignment set depends on (part of the align stage's key). */
    Object alignmentKey(long seed);

    /** The fine-tuning set at harmful fraction p, as records (what {@link #attackSet} encodes). */
    List<io.safetune.data.PromptResponse> attackRecords(double p, long seed);

    /** The fine-tuning set at harmful fraction p, encoded with {@code modelDir}'s tokenizer; a copy goes to {@code stageDir}. */
    List<TrainingExample> attackSet(Path modelDir, double p, long seed, Path stageDir);

    /** What the fine-tuning set depends on (part of the fine-tune stage's key). */
    Object attackKey(double p, long seed);

    /** Longest training sequence in tokens. */
    int maxLength();

    /** Steps between two HED measurements of a fine-tune of {@code steps} steps. */
    int driftEvery(long steps);

    /** HED's inputs on the aligned model, and the hash of the stage that holds them ("" when computed on the fly). */
    HedInputs hedInputs(Stages.Product aligned, long seed);

    record HedInputs(List<int[]> ids, String upstream) {
    }

    /**
     * Safety data on the aligned model: harmful prompts with its refusals, prompt and response apart
     * (the micro-world's alignment refusals, which its aligned model gives; on real data the first
     * real.harmfulTrain prompts with the checkpoint's own answers: never the evaluation's prompts).
     */
    List<TrainingExample> safetyData(Stages.Product aligned, long seed);

    /** Everything an evaluation's scores depend on besides the model (part of its stage's key). */
    Object evalKey(Scope scope);

    /** Scores the model in {@code modelDir} with the adapter in {@code adapterDir} on top (null: none), on seed's sets. */
    default Evaluation.Scores evaluate(long seed, Path modelDir, Path adapterDir, Scope scope) {
        try (AdapterScorer s = adapterScorer(seed, modelDir, scope)) {
            return s.score(adapterDir);
        }
    }

    /** A scorer for many adapters on one model: loads the model once. */
    AdapterScorer adapterScorer(long seed, Path modelDir, Scope scope);

    interface AdapterScorer extends AutoCloseable {
        Evaluation.Scores score(Path adapterDir);

        @Override
        void close();
    }

    /**
     * The harmful score under the judge's strict reading (the micro-world's: only the whole refusal is
     * safe), from scores that keep every sample (read only when the judge has such a reading); empty
     * where it has none.
     */
    default java.util.Optional<Double> strictHarmfulScore(java.util.function.Supplier<Evaluation.Scores> withSamples) {
        return java.util.Optional.empty();
    }

    /** The fine-tune task's name in the scores' accuracy map. */
    String task();

    /** The undefended story's targets (the micro-world's; none on real data). */
    List<Target> targets();

    /** Whether defences' micro-world targets apply. */
    boolean checksTargets();
}
