package io.safetune.cli;

import io.safetune.experiment.Comparison;
import io.safetune.experiment.Results;
import io.safetune.experiment.UtilityBounded;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "compare", mixinStandardHelpOptions = true,
        description = "Prints every defence of a run side by side (mean ± sd over seeds per p) and the utility-bounded "
                + "summary, as Markdown tables: the figures the README and docs/results.md quote.")
final class CompareCommand implements Callable<Integer> {

    @Option(names = "--results", defaultValue = "runs/default/results.json", paramLabel = "FILE",
            description = "a run's results.json (default ${DEFAULT-VALUE})")
    Path results;

    @Option(names = "--bound", defaultValue = "0.05", description = "the utility bound, an accuracy difference as a fraction (0.05 = 5 points; default ${DEFAULT-VALUE})")
    double bound;

    @Option(names = "--save", paramLabel = "FILE",
            description = "also writes the results without loss curves and stage list to FILE (docs/results/defences.json)")
    Path save;

    @Override
    public Integer call() {
        Results read = Results.read(results);
        if (save != null) {
            read.scoresOnly().write(save);
        }
        Comparison c = Comparison.of(read);
        StringBuilder out = new StringBuilder("Every defence side by side (" + c.condition() + "), from " + results + "\n\n");
        out.append("| defence | p | harmful | strict harmful | complies | ").append(c.task())
                .append(" acc | other tasks | HED |\n|---|---|---|---|---|---|---|---|\n");
        for (Comparison.Cell x : c.cells()) {
            String name = x.entry().controlOf() == null ? x.entry().label() : x.entry().label() + " (control)";
            out.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s |%n", name, x.p(), pm(x.harmful()),
                    pm(x.strictHarmful()), pm(x.complies()), pm(x.newTask()), pm(x.otherTasks()), pm(x.hed())));
        }
        UtilityBounded u = c.utilityBounded(bound);
        out.append("\n").append(u.title()).append("\n\n| defence | worst harmful | at p | p excluded |\n|---|---|---|---|\n");
        for (UtilityBounded.Row r : u.rows()) {
            out.append(String.format(Locale.ROOT, "| %s | %s | %s | %s |%n", r.label(), Double.isNaN(r.worstHarmful()) ? "—"
                    : String.format(Locale.ROOT, "%.3f", r.worstHarmful()), Double.isNaN(r.atP()) ? "—" : r.atP(),
                    r.excluded().isEmpty() ? "" : r.excluded()));
        }
        System.out.print(out);
        return 0;
    }

    private static String pm(Comparison.Stat s) {
        if (s.n() == 0) {
            return "—";
        }
        String digits = Math.abs(s.mean()) >= 10 ? "%.1f" : "%.3f";
        return String.format(Locale.ROOT, digits, s.mean())
                + (Double.isNaN(s.sd()) ? "" : String.format(Locale.ROOT, " ± " + digits, s.sd()));
    }
}
