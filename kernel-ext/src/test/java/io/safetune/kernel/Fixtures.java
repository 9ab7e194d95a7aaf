package io.safetune.kernel;

import io.safetune.display.Charts;
import io.safetune.display.Displayable;

import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.internal.chartpart.Chart;

import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.Table;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Small real objects of the types the adapters render, and helpers to inspect what they produce. */
public final class Fixtures {

    private Fixtures() {
    }

    /** Per-layer cosine, the shape of the lab's Safe LoRA tables. */
    public static Table layers(int rows) {
        int[] layer = new int[rows];
        double[] cos = new double[rows];
        for (int i = 0; i < rows; i++) {
            layer[i] = i;
            cos[i] = 0.5 + 0.01 * i;
        }
        return Table.create("cosine per layer", IntColumn.create("layer", layer), DoubleColumn.create("cosine", cos));
    }

    public static XYChart chart(String title, int width, int height) {
        XYChart c = new XYChartBuilder().width(width).height(height).title(title).xAxisTitle("step").yAxisTitle("loss").build();
        c.addSeries("loss", new double[] {1, 2, 3}, new double[] {2.0, 1.5, 1.2});
        return c;
    }

    /** A result with a table and two charts of different sizes (so the first one can be told apart). */
    public static Displayable result() {
        Table t = layers(4);
        List<Chart<?, ?>> charts = List.of(chart("drift", 320, 200),
                Charts.bars("scores", "model", "score", List.of("base", "aligned"), Map.of("harmful", List.of(1.0, 0.03))));
        return new Displayable() {
            @Override
            public String title() {
                return "HED per layer";
            }

            @Override
            public Table table() {
                return t;
            }

            @Override
            public List<Chart<?, ?>> charts() {
                return charts;
            }

            @Override
            public String toString() {
                return "HED per layer (4 layers)";
            }
        };
    }

    /** Decodes base64 PNG data as Jupyter stores it; fails unless it is a PNG. */
    public static BufferedImage png(Object base64) {
        byte[] bytes = Base64.getDecoder().decode(base64.toString());
        if (bytes.length < 8 || bytes[0] != (byte) 0x89 || bytes[1] != 'P' || bytes[2] != 'N' || bytes[3] != 'G') {
            throw new AssertionError("not a PNG");
        }
        try {
            return ImageIO.read(new ByteArrayInputStream(bytes));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static int count(String haystack, String needle) {
        int n = 0;
        for (int i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }

    /** A jar holding empty entries of the given names (enough for scanning and for entry checks). */
    public static Path jar(Path file, String... entries) {
        try {
            Files.createDirectories(file.getParent());
            try (OutputStream os = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(os)) {
                for (String e : entries) {
                    zip.putNextEntry(new ZipEntry(e));
                    zip.closeEntry();
                }
            }
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
