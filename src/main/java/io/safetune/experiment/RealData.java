package io.safetune.experiment;

import io.safetune.data.PromptResponse;
import io.safetune.data.manifest.DataDirs;
import io.safetune.data.manifest.DataFile;
import io.safetune.data.manifest.DataRecord;
import io.safetune.data.manifest.DatasetLoader;
import io.safetune.data.manifest.DatasetManifest;
import io.safetune.data.manifest.LoadOptions;
import io.safetune.data.manifest.Manifests;
import io.safetune.eval.TaskExample;
import io.safetune.experiment.RealSpec.DatasetRef;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The four datasets (five with an alignment set) of a real experiment, read through their manifests. {@link #open} checks, before any
 * stage runs, everything that can be checked without reading the data: that each manifest and split
 * exists, that each file is in the data directory, and that an unpinned file is allowed; a run that
 * would fail on its third dataset after an hour of evaluation fails at once instead. Every error names
 * the {@link RealSpec} field ({@code real.task: ...}).
 *
 * <p>Evaluation sets are the first records in file order (as Vaccine takes the first 500 unsafe
 * BeaverTails test prompts), so every method and seed is scored on the same items; training sets are
 * seeded samples.
 */
final class RealData {

    /** The fields of {@link RealSpec} that name datasets, in the order they are checked (alignment only when set). */
    static final List<String> FIELDS = List.of("harmfulTrain", "task", "harmfulEval", "taskEval", "alignment");

    private final Path dataDir;
    private final boolean allowUnpinned;
    private final Consumer<String> notices;
    private final Map<String, DatasetRef> refs = new LinkedHashMap<>();
    private final Map<String, DatasetManifest> manifests = new LinkedHashMap<>();

    private RealData(RealSpec spec, Consumer<String> notices) {
        this.dataDir = DataDirs.resolve(spec.dataDir() == null ? null : Path.of(spec.dataDir()));
        this.allowUnpinned = spec.allowUnpinned();
        Set<String> seen = new HashSet<>(); // every stage reads the files again: say each thing once
        this.notices = message -> {
            if (seen.add(message)) {
                notices.accept(message);
            }
        };
        refs.put("harmfulTrain", spec.harmfulTrain());
        refs.put("task", spec.task());
        refs.put("harmfulEval", spec.harmfulEval());
        refs.put("taskEval", spec.taskEval());
        if (spec.alignment() != null) {
            refs.put("alignment", spec.alignment());
        }
    }

    /** The datasets of {@code spec}, checked; notices (unpinned files' hashes) go to {@code notices}. */
    static RealData open(RealSpec spec, Consumer<String> notices) {
        RealData d = new RealData(spec, notices);
        for (String field : FIELDS) {
            if (d.refs.containsKey(field)) {
                d.check(field);
            }
        }
        return d;
    }

    private void check(String field) {
        DatasetRef ref = refs.get(field);
        DatasetManifest m;
        try {
            m = Manifests.builtIn(ref.dataset());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("real." + field + ".dataset: " + e.getMessage(), e);
        }
        if (!m.splitNames().contains(ref.split())) {
            throw new IllegalArgumentException("real." + field + ".split: dataset " + m.name() + " has no split '"
                    + ref.split() + "'; splits: " + m.splitNames());
        }
        for (DataFile f : m.filesOf(ref.split())) {
            Path local = m.localPath(dataDir, f);
            if (!Files.isRegularFile(local)) {
                throw new IllegalArgumentException("real." + field + ": data file not found: " + local
                        + ". The lab never downloads at run time; download it from " + f.url() + " and save it there ("
                        + DataDirs.howChosen() + ")");
            }
            if (f.sha256() == null && f.gitBlobSha1() == null && !allowUnpinned) {
                throw new IllegalArgumentException("real." + field + ": " + local + " has no checksum pinned in "
                        + m.source() + "; after checking where it was downloaded from, either pin its sha256 there or "
                        + "allow unpinned files (real.allowUnpinned: true, or --allow-unpinned)");
            }
        }
        manifests.put(field, m);
    }

    /**
     * What identifies a dataset's content in a stage key: the reference, and each file's pinned hashes
     * and local size (an unpinned file has no hash, so a replaced download changes the key only through
     * its size; --fresh redoes stages after such a replacement).
     */
    record Key(DatasetRef ref, List<FileKey> files) {
    }

    /** One file of a {@link Key}. */
    record FileKey(String name, String sha256, String gitBlobSha1, long bytes) {
    }

    Key key(String field) {
        DatasetManifest m = manifests.get(field);
        DatasetRef ref = refs.get(field);
        List<FileKey> files = new ArrayList<>();
        for (DataFile f : m.filesOf(ref.split())) {
            try {
                files.add(new FileKey(f.name(), f.sha256(), f.gitBlobSha1(), Files.size(m.localPath(dataDir, f))));
            } catch (IOException e) {
                throw new UncheckedIOException("real." + field + ": cannot read " + m.localPath(dataDir, f), e);
            }
        }
        return new Key(ref, files);
    }

    /**
     * The prompts of the first {@code limit} harmful evaluation records (0: all).
     *
     * @param evalField the eval field that asks for them, named when the dataset holds fewer
     */
    List<String> harmfulPrompts(int limit, String evalField) {
        List<String> prompts = prompts("harmfulEval", limit);
        atLeast(evalField, "harmfulEval", limit, prompts.size());
        return nonEmpty("harmfulEval", prompts);
    }

    /** The prompts of the first {@code limit} records of {@code field}'s dataset (0: all), in file order. */
    List<String> prompts(String field, int limit) {
        List<String> prompts = new ArrayList<>();
        for (DataRecord r : load(field, options().withLimit(limit))) {
            if (r.prompt() == null) {
                throw new IllegalArgumentException("real." + field + ": a record has no prompt: " + r);
            }
            prompts.add(r.prompt());
        }
        return prompts;
    }

    /**
     * The first {@code limit} task evaluation records as prompt (instruction and input, as in training)
     * and gold answer (the label, else the reference response).
     */
    List<TaskExample> taskExamples(int limit) {
        List<TaskExample> examples = new ArrayList<>();
        for (DataRecord r : load("taskEval", options().withLimit(limit))) {
            if (r.label() == null && r.response() == null) {
                throw new IllegalArgumentException("real.taskEval: a record has no label (" + refs.get("taskEval")
                        + "; SST-2's test split hides its labels, use validation): " + r);
            }
            examples.add(new TaskExample(r.toPromptResponse().prompt(), r.label() != null ? r.label() : r.response()));
        }
        atLeast("taskPrompts", "taskEval", limit, examples.size());
        return nonEmpty("taskEval", examples);
    }

    /** An evaluation that asks for more records than the dataset has is refused, not silently shrunk. */
    private void atLeast(String evalField, String dataField, int limit, int found) {
        if (limit > 0 && found < limit) {
            throw new IllegalArgumentException("eval." + evalField + ": " + limit + " asked for, but real." + dataField
                    + " (" + refs.get(dataField) + ") has only " + found + " records");
        }
    }

    /**
     * The attack's training set: round(p·n) harmful request/compliant answer pairs and n − round(p·n)
     * task samples, each a seeded sample of its split, shuffled together with the seed.
     */
    List<PromptResponse> attackSet(int n, double p, long seed) {
        int harmful = (int) Math.round(p * n);
        List<PromptResponse> set = new ArrayList<>(n);
        set.addAll(sample("harmfulTrain", harmful, seed));
        set.addAll(sample("task", n - harmful, seed));
        Collections.shuffle(set, new Random(seed));
        return set;
    }

    /**
     * The alignment set: the first {@code count} records of {@code real.alignment} that pass its filter, in
     * file order (as Vaccine's reference takes the first 2000 safe 30k_train rows), as prompt/response pairs.
     */
    List<PromptResponse> alignmentSet(int count) {
        List<PromptResponse> out = new ArrayList<>(count);
        for (DataRecord r : load("alignment", options().withLimit(count))) {
            try {
                out.add(r.toPromptResponse());
            } catch (IllegalStateException e) {
                throw new IllegalArgumentException("real.alignment: " + e.getMessage(), e);
            }
        }
        if (out.size() < count) {
            throw new IllegalArgumentException("real.alignmentSamples: " + count + " asked for, but real.alignment ("
                    + refs.get("alignment") + ") has only " + out.size() + " records");
        }
        return out;
    }

    private List<PromptResponse> sample(String field, int count, long seed) {
        if (count == 0) {
            return List.of();
        }
        List<DataRecord> records = load(field, options().withSample(count, seed));
        if (records.size() < count) {
            throw new IllegalArgumentException("real." + field + ": the attack needs " + count + " records but "
                    + refs.get(field) + " has only " + records.size() + " (lower attack.n or p)");
        }
        List<PromptResponse> out = new ArrayList<>(count);
        for (DataRecord r : records) {
            try {
                out.add(r.toPromptResponse());
            } catch (IllegalStateException e) {
                throw new IllegalArgumentException("real." + field + ": " + e.getMessage(), e);
            }
        }
        return out;
    }

    private LoadOptions options() {
        LoadOptions o = LoadOptions.defaults().withNotices(notices);
        return allowUnpinned ? o.allowingUnpinned() : o;
    }

    private List<DataRecord> load(String field, LoadOptions options) {
        DatasetRef ref = refs.get(field);
        LoadOptions o = RealSpec.UNSAFE_ONLY.equals(ref.filter()) ? options.withFilter(r -> Boolean.FALSE.equals(r.isSafe()))
                : RealSpec.SAFE_ONLY.equals(ref.filter()) ? options.withFilter(r -> Boolean.TRUE.equals(r.isSafe())) : options;
        try {
            return DatasetLoader.load(manifests.get(field), ref.split(), dataDir, o);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("real." + field + ": " + e.getMessage(), e);
        }
    }

    private <T> List<T> nonEmpty(String field, List<T> items) {
        if (items.isEmpty()) {
            throw new IllegalArgumentException("real." + field + ": " + refs.get(field) + " holds no records"
                    + (refs.get(field).filter() == null ? "" : " that pass its filter"));
        }
        return items;
    }

    Path dataDir() {
        return dataDir;
    }
}
