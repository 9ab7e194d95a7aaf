package io.safetune.lab;

import io.safetune.display.Charts;
import io.safetune.display.Displayable;
import io.safetune.lora.LoraAdapter;
import io.safetune.train.TrainResult;

import org.knowm.xchart.internal.chartpart.Chart;

import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

import java.nio.file.Path;
import java.util.List;

/** A LoRA training run's outcome: the adapter (still attached to its model) and the loss curve. */
public record TrainedLora(LoraAdapter adapter, TrainResult result) implements Displayable {

    /** Writes the adapter in PEFT's format (adapter_config.json + adapter_model.safetensors). */
    public Path save(Path dir) {
        adapter.save(dir);
        return dir;
    }

    @Override
    public String title() {
        return "LoRA training: r=" + adapter.config().r() + " on " + adapter.config().targetModules();
    }

    @Override
    public Table table() {
        Table t = Table.create(title(), StringColumn.create("measure"), DoubleColumn.create("value"));
        add(t, "steps", result.losses().size());
        add(t, "first loss", result.losses().isEmpty() ? Double.NaN : result.losses().get(0));
        add(t, "final loss", result.finalLoss());
        add(t, "wall seconds", Math.round(result.wallSeconds() * 10) / 10.0);
        add(t, "tokens per second", Math.round(result.tokensPerSecond()));
        return t;
    }

    @Override
    public List<Chart<?, ?>> charts() {
        double[] x = new double[result.losses().size()];
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = i + 1;
            y[i] = result.losses().get(i);
        }
        return List.of(Charts.lines("Training loss (LoRA r=" + adapter.config().r() + ", " + x.length + " steps)", "step",
                "loss (lower is better)", Charts.one("loss", new double[][] {x, y})));
    }

    private static void add(Table t, String name, double v) {
        t.stringColumn("measure").append(name);
        t.doubleColumn("value").append(v);
    }
}
