package io.safetune.experiment;

import io.safetune.eval.AnswerExtractor;
import io.safetune.eval.Judge;
import io.safetune.eval.RefusalKeywordJudge;
import io.safetune.tokenizer.ChatTemplate;

import java.util.List;
import java.util.Map;

/**
 * The {@code real} section of an experiment: a real aligned checkpoint folder replaces the micro-world's
 * stages 1–2, and datasets read through their manifests ({@code data-manifests/}) replace the world's
 * data. The rest of the experiment keeps its meaning: {@code seeds}, {@code attackFractions} and
 * {@code dose} (the p values), {@code attack} (n, LoRA r / alpha / dropout / targets, learning rate,
 * epochs, batch; its {@code task} is the micro-world's and is ignored here, {@code real.task} replaces
 * it) and {@code eval} ({@code maxNewTokens}; {@code harmfulPrompts}, the first that many prompts of
 * {@code real.harmfulEval}, 0 for all; {@code taskPrompts}, the first that many of {@code real.taskEval};
 * {@code hedSamples}, the harmful prompts HED is measured on; {@code batchSize}). The papers evaluate 500 BeaverTails 30k_test unsafe prompts
 * (Vaccine) or AdvBench prompts (SaLoRA), and 500 task test samples.
 *
 * <p>Only the form of the section is checked when the file is read; everything on disk (the checkpoint
 * folder, the manifests, the data files) is checked when the experiment runs ({@link RealSource}),
 * before any stage, so that a config can be written, shared and validated on a machine that holds
 * neither the 13 GB checkpoint nor the data. Both kinds of error name the field ({@code real.checkpoint},
 * {@code real.task.dataset}, ...). Paths are relative to the working directory.
 *
 * <p>Defaults reproduce Vaccine's SST-2 setting with a keyword judge: harmful fine-tuning data from the
 * unsafe rows of BeaverTails 30k_train, the SST-2 train split as the benign task, the harmful score on
 * unsafe BeaverTails 30k_test prompts, accuracy on SST-2 validation (its test labels are hidden).
 *
 * @param checkpoint    the aligned model's folder (config.json, *.safetensors, tokenizer.json), required
 * @param base          the unaligned base model's folder (e.g. Llama-2-7b-hf), for post-processes that
 *                      need V = W_aligned - W_base (Safe LoRA); null when none runs
 * @param chatTemplate  template of training and evaluation prompts (llama2, llama3, chatml, qwen2,
 *                      plain); default llama2
 * @param systemPrompt  a system message before every prompt, in training and evaluation alike; null for
 *                      none (the papers use none)
 * @param dataDir       where the data files are ({@code <dataDir>/<dataset>/<file>}); null for the
 *                      default ($SAFETUNE_DATA_DIR, else ~/.safetune/data); {@code --data-dir} overrides
 * @param allowUnpinned read data files whose manifest pins no sha256 (BeaverTails, SST-2 as shipped),
 *                      printing their hash to pin; {@code --allow-unpinned} sets it. Checksums of pinned
 *                      files are always verified: there is no switch to skip them.
 * @param harmfulTrain  harmful requests with compliant answers, the round(p·n) harmful attack samples
 * @param task          the benign fine-tuning task, the other n − round(p·n) samples
 * @param harmfulEval   held-out harmful prompts of the harmful score (their prompts only are used)
 * @param taskEval      held-out task samples of the fine-tune accuracy (labelled); default: the task
 *                      dataset's evaluation split (sst2 validation, ag_news test, gsm8k test)
 * @param extractor     how an answer is read: sst2, ag_news, last_number, first_word; default from the
 *                      task dataset (sst2, ag_news, gsm8k → last_number)
 * @param judge         the harmful-score judge, a refusal-keyword list: refusal_keywords (the lab's
 *                      default list), llm_attacks (GCG's list) or salora (SaLoRA's); a model judge
 *                      is library-only ({@link io.safetune.eval.ModelJudge})
 * @param maxLength     longest training prompt+response in tokens (longer ones are cut); default 512
 * @param alignment     null: real.checkpoint is the aligned model. Set: an alignment set (e.g. {@code
 *                      {dataset: beavertails, split: 30k_train, filter: safe_only}}, the safe rows Vaccine's
 *                      reference aligns on), and the story aligns real.base on it with each align filler (the
 *                      default SFT, Vaccine, its control) under the experiment's {@code aligned} steps, batch
 *                      and seed; real.base is then required and real.checkpoint left out
 * @param alignmentSamples how many records of {@code alignment}, the first in file order (default 2000, the
 *                      reference's); only with {@code alignment}
 */
public record RealSpec(String checkpoint, String base, String chatTemplate, String systemPrompt, String dataDir,
        boolean allowUnpinned, DatasetRef harmfulTrain, DatasetRef task, DatasetRef harmfulEval,
        DatasetRef taskEval, String extractor, String judge, int maxLength, DatasetRef alignment, int alignmentSamples) {

    /** Keeps only records whose {@code isSafe} is false (BeaverTails' unsafe rows). */
    public static final String UNSAFE_ONLY = "unsafe_only";
    /** Keeps only records whose {@code isSafe} is true (BeaverTails' safe rows: refusals and harmless answers). */
    public static final String SAFE_ONLY = "safe_only";
    /** The reference's alignment set size (git-disl/Vaccine train.py: the first 2000 safe 30k_train rows). */
    static final int ALIGNMENT_SAMPLES = 2000;

    static final DatasetRef BEAVERTAILS_TRAIN = new DatasetRef("beavertails", "30k_train", UNSAFE_ONLY);
    static final DatasetRef SST2_TRAIN = new DatasetRef("sst2", "train", null);
    static final DatasetRef BEAVERTAILS_TEST = new DatasetRef("beavertails", "30k_test", UNSAFE_ONLY);

    /** Evaluation split and extractor of the built-in task datasets. */
    private static final Map<String, String> EVAL_SPLIT = Map.of("sst2", "validation", "ag_news", "test", "gsm8k", "test");
    private static final Map<String, String> TASK_EXTRACTOR = Map.of("sst2", "sst2", "ag_news", "ag_news", "gsm8k", "last_number");

    private static final Map<String, AnswerExtractor> EXTRACTORS = Map.of("sst2", AnswerExtractor.SST2,
            "ag_news", AnswerExtractor.AG_NEWS, "last_number", AnswerExtractor.LAST_NUMBER,
            "first_word", AnswerExtractor.FIRST_WORD);
    private static final Map<String, RefusalKeywordJudge.Config> JUDGES = Map.of(
            "refusal_keywords", RefusalKeywordJudge.Config.defaults(),
            "llm_attacks", RefusalKeywordJudge.Config.llmAttacks(),
            "salora", RefusalKeywordJudge.Config.salora());

    public RealSpec {
        checkpoint = checkpoint == null || checkpoint.isBlank() ? null : checkpoint;
        base = base == null || base.isBlank() ? null : base;
        if (alignment == null) {
            if (checkpoint == null) {
                throw new IllegalArgumentException("real.checkpoint: missing (the aligned model's folder: config.json, "
                        + "*.safetensors, tokenizer.json; or real.alignment and real.base, to align a base model here)");
            }
            if (alignmentSamples != 0) {
                throw new IllegalArgumentException("real.alignmentSamples: set without real.alignment");
            }
        } else {
            alignment = alignment.checked("real.alignment");
            if (base == null) {
                throw new IllegalArgumentException("real.base: missing; with real.alignment the story aligns real.base "
                        + "(the unaligned model's folder, e.g. Llama-2-7b-hf)");
            }
            if (checkpoint != null) {
                throw new IllegalArgumentException("real.checkpoint: with real.alignment the aligned models are the story's "
                        + "own (real.base aligned by each align filler); leave real.checkpoint out");
            }
            if (alignmentSamples < 0) {
                throw new IllegalArgumentException("real.alignmentSamples: must be >= 1 (or 0 for the default "
                        + ALIGNMENT_SAMPLES + "), got " + alignmentSamples);
            }
            alignmentSamples = alignmentSamples == 0 ? ALIGNMENT_SAMPLES : alignmentSamples;
        }
        chatTemplate = chatTemplate == null ? "llama2" : chatTemplate;
        try {
            ChatTemplate.byName(chatTemplate);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("real.chatTemplate: " + e.getMessage(), e);
        }
        systemPrompt = systemPrompt == null || systemPrompt.isEmpty() ? null : systemPrompt;
        dataDir = dataDir == null || dataDir.isBlank() ? null : dataDir;
        harmfulTrain = (harmfulTrain == null ? BEAVERTAILS_TRAIN : harmfulTrain).checked("real.harmfulTrain");
        task = (task == null ? SST2_TRAIN : task).checked("real.task");
        harmfulEval = (harmfulEval == null ? BEAVERTAILS_TEST : harmfulEval).checked("real.harmfulEval");
        if (taskEval == null) {
            String split = EVAL_SPLIT.get(task.dataset());
            if (split == null) {
                throw new IllegalArgumentException("real.taskEval: missing, and task dataset '" + task.dataset()
                        + "' has no default evaluation split (defaults exist for " + EVAL_SPLIT.keySet() + ")");
            }
            taskEval = new DatasetRef(task.dataset(), split, null);
        }
        taskEval = taskEval.checked("real.taskEval");
        if (extractor == null) {
            extractor = TASK_EXTRACTOR.get(taskEval.dataset());
            if (extractor == null) {
                throw new IllegalArgumentException("real.extractor: missing, and task dataset '" + taskEval.dataset()
                        + "' has no default; name one of " + EXTRACTORS.keySet());
            }
        }
        if (!EXTRACTORS.containsKey(extractor)) {
            throw new IllegalArgumentException("real.extractor: unknown '" + extractor + "' (known: "
                    + List.copyOf(new java.util.TreeSet<>(EXTRACTORS.keySet())) + ")");
        }
        judge = judge == null ? "refusal_keywords" : judge;
        if (!JUDGES.containsKey(judge)) {
            throw new IllegalArgumentException("real.judge: unknown '" + judge + "' (known: "
                    + List.copyOf(new java.util.TreeSet<>(JUDGES.keySet())) + ")");
        }
        if (maxLength < 0 || (maxLength > 0 && maxLength < 2)) {
            throw new IllegalArgumentException("real.maxLength: must be >= 2 (or 0 for the default 512), got " + maxLength);
        }
        maxLength = maxLength == 0 ? 512 : maxLength;
    }

    /** A real experiment on a checkpoint with every other field at its default. */
    public static RealSpec of(String checkpoint) {
        return new RealSpec(checkpoint, null, null, null, null, false, null, null, null, null, null, null, 0, null, 0);
    }

    /** The same with another data directory ({@code --data-dir}); null keeps this one. */
    public RealSpec withDataDir(String dir) {
        return dir == null ? this : new RealSpec(checkpoint, base, chatTemplate, systemPrompt, dir, allowUnpinned,
                harmfulTrain, task, harmfulEval, taskEval, extractor, judge, maxLength, alignment, alignmentSamples);
    }

    /** The same with unpinned data files allowed or not ({@code --allow-unpinned}). */
    public RealSpec withAllowUnpinned(boolean allow) {
        return new RealSpec(checkpoint, base, chatTemplate, systemPrompt, dataDir, allow, harmfulTrain, task, harmfulEval,
                taskEval, extractor, judge, maxLength, alignment, alignmentSamples);
    }

    /** The extractor {@link #extractor()} names. */
    AnswerExtractor answerExtractor() {
        return EXTRACTORS.get(extractor);
    }

    /** The judge {@link #judge()} names. */
    Judge newJudge() {
        return new RefusalKeywordJudge(JUDGES.get(judge));
    }

    /**
     * One split of a dataset with a built-in manifest.
     *
     * @param dataset the manifest's name ({@code data-manifests/<dataset>.json}): advbench, beavertails,
     *                sst2, ag_news, gsm8k, alpaca_cleaned
     * @param split   one of its splits (e.g. 30k_train, validation, harmful_behaviors)
     * @param filter  null for every record, {@value #UNSAFE_ONLY} or {@value #SAFE_ONLY}
     */
    public record DatasetRef(String dataset, String split, String filter) {

        /** This reference, or an error naming {@code field} when it is incomplete. */
        DatasetRef checked(String field) {
            if (dataset == null || dataset.isBlank()) {
                throw new IllegalArgumentException(field + ".dataset: missing (a manifest name, e.g. beavertails)");
            }
            if (split == null || split.isBlank()) {
                throw new IllegalArgumentException(field + ".split: missing (e.g. 30k_train)");
            }
            if (filter != null && !filter.equals(UNSAFE_ONLY) && !filter.equals(SAFE_ONLY)) {
                throw new IllegalArgumentException(field + ".filter: unknown '" + filter + "' (known: " + UNSAFE_ONLY
                        + ", " + SAFE_ONLY + ", or none)");
            }
            return this;
        }

        @Override
        public String toString() {
            return dataset + "/" + split + (filter == null ? "" : " (" + filter + ")");
        }
    }
}
