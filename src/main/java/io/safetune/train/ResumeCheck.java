package io.safetune.train;

import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a resume may not change. A checkpoint's run is defined by its {@link TrainConfig} and by the
 * model's {@link TrainableModel#trainingSettings() training settings} (LoRA r, alpha, dropout, targets,
 * layers, rsLoRA; LoRA or full). Resuming with any of them changed would quietly produce a run that is
 * neither the old one nor a new one (alpha 64 on weights trained at 16 doubles every update), so the
 * resume is refused with every changed field named, with the checkpoint's value and the new one.
 */
final class ResumeCheck {

    /**
     * TrainConfig fields that only decide what is written or printed, not what is computed: a resume
     * may change them (and the new values are used), since the run stays bit-identical.
     */
    static final Set<String> BOOKKEEPING = Set.of("checkpointEvery", "keepCheckpoints", "logEvery");

    /** One field that differs between the checkpoint and the resume. */
    record Difference(String field, Object checkpoint, Object now) {
        @Override
        public String toString() {
            return field + ": checkpoint has " + show(checkpoint) + ", this run has " + show(now);
        }

        private static String show(Object v) {
            return v == null ? "(not set)" : v.toString();
        }
    }

    private ResumeCheck() {
    }

    /** Every non-bookkeeping field of {@code requested} that differs from {@code saved}, in field order. */
    static List<Difference> config(TrainConfig saved, TrainConfig requested) {
        List<Difference> out = new ArrayList<>();
        for (RecordComponent c : TrainConfig.class.getRecordComponents()) {
            if (BOOKKEEPING.contains(c.getName())) {
                continue;
            }
            Object a = get(c, saved);
            Object b = get(c, requested);
            if (!Objects.equals(a, b)) {
                out.add(new Difference(c.getName(), a, b));
            }
        }
        return out;
    }

    /** Every key whose value differs, or that only one side has, in key order. */
    static List<Difference> settings(Map<String, String> saved, Map<String, String> now) {
        List<Difference> out = new ArrayList<>();
        Set<String> keys = new TreeSet<>(saved.keySet());
        keys.addAll(now.keySet());
        for (String k : keys) {
            if (!Objects.equals(saved.get(k), now.get(k))) {
                out.add(new Difference(k, saved.get(k), now.get(k)));
            }
        }
        return out;
    }

    static void refuse(Path checkpoint, List<Difference> differences) {
        if (!differences.isEmpty()) {
            StringBuilder sb = new StringBuilder("cannot resume from " + checkpoint + ": the run's settings changed (");
            sb.append(differences.size() == 1 ? "1 field" : differences.size() + " fields").append(")");
            differences.forEach(d -> sb.append("\n  ").append(d));
            sb.append("\nresume with the checkpoint's settings, or start a new run without --resume");
            throw new IllegalArgumentException(sb.toString());
        }
    }

    private static Object get(RecordComponent c, TrainConfig config) {
        try {
            return c.getAccessor().invoke(config);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("TrainConfig." + c.getName(), e);
        }
    }
}
