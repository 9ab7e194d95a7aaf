package io.safetune.experiment;

import io.safetune.method.Target;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Checks targets against the rows: the source's (the micro-world's finding, on the undefended story)
 * and each defence's own, on its combination's rows, per seed.
 */
public final class Targets {

    private Targets() {
    }

    /** One target for one seed. */
    public record Check(long seed, String model, String metric, double value, String target, boolean met) {
    }

    /** A target on the rows of one combination label. */
    record Labelled(String defence, Target target) {
    }

    static List<Check> check(List<Results.Row> rows, List<Labelled> targets) {
        List<Check> checks = new ArrayList<>();
        for (Results.Row r : rows) {
            for (Labelled l : targets) {
                Target t = l.target();
                if (r.defence().equals(l.defence()) && r.stage() == t.stage() && Objects.equals(r.p(), t.p())
                        && r.variant().equals(t.variant())) {
                    double v = switch (t.metric()) {
                        case HARMFUL_SCORE -> r.scores().harmfulScore();
                        case COMPLIANCE -> r.scores().complianceRate();
                        case TASK_ACCURACY -> r.scores().accuracy().getOrDefault(t.task(), 0.0);
                    };
                    checks.add(new Check(r.seed(), r.name(), t.metricName(), v, t.describe(), t.bound().met(v, t.value())));
                }
            }
        }
        return checks;
    }
}
