package io.safetune.kernel.rapaio;

import io.safetune.display.Displayable;
import io.safetune.kernel.MimeBundles;

import org.knowm.xchart.internal.chartpart.Chart;
import org.rapaio.jupyter.kernel.display.DisplayData;
import org.rapaio.jupyter.kernel.display.DisplayRenderer;
import org.rapaio.jupyter.kernel.display.DisplayTransformer;
import org.rapaio.jupyter.kernel.display.MimeType;
import org.rapaio.jupyter.kernel.display.spi.DisplayProvider;

import tech.tablesaw.api.Table;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * rapaio-jupyter-kernel's display service (META-INF/services): renders a {@link Displayable} result, a
 * Tablesaw {@link Table} and an XChart chart. rapaio's {@code DisplaySystem} loads it when this jar is on
 * the kernel JVM's class path (the kernelspec puts it there). rapaio asks each renderer in order, first
 * by class, so {@link Displayable} comes first (a result class might also extend something else we render).
 */
public final class SafeTuneDisplayProvider implements DisplayProvider {

    @Override
    public List<DisplayRenderer> getDisplayRenderers() {
        return List.of(
                new BundleRenderer(Displayable.class, Set.of(MimeBundles.TEXT_HTML, MimeBundles.IMAGE_PNG, MimeBundles.TEXT_PLAIN)),
                new BundleRenderer(Table.class, Set.of(MimeBundles.TEXT_HTML, MimeBundles.TEXT_PLAIN)),
                new BundleRenderer(Chart.class, Set.of(MimeBundles.IMAGE_PNG, MimeBundles.TEXT_PLAIN)));
    }

    @Override
    public List<DisplayTransformer> getDisplayTransformers() {
        return List.of();
    }

    /**
     * One of our types. rapaio passes {@code null} for "whatever suits it" (a cell's value, plain
     * {@code display(x)}): then the whole bundle goes out and the front end picks. A named mime type
     * ({@code display("image/png", chart)}) gets only that type.
     */
    static final class BundleRenderer implements DisplayRenderer {
        private final Class<?> type;
        private final Set<String> mimes;

        BundleRenderer(Class<?> type, Set<String> mimes) {
            this.type = type;
            this.mimes = mimes;
        }

        @Override
        public Class<?> rendererClass() {
            return type;
        }

        @Override
        public boolean canRender(String mime) {
            return mime == null || mimes.contains(longType(mime));
        }

        @Override
        public DisplayData render(String mime, Object o) {
            if (!type.isInstance(o) || !canRender(mime)) {
                throw new IllegalArgumentException("cannot render " + (o == null ? "null" : o.getClass().getName())
                        + " as " + mime);
            }
            if (mime != null) {
                String wanted = longType(mime);
                return DisplayData.withType(wanted, MimeBundles.only(o, wanted));
            }
            Map<String, String> bundle = MimeBundles.of(o);
            DisplayData dd = null;
            for (Map.Entry<String, String> e : bundle.entrySet()) {
                if (dd == null) {
                    dd = DisplayData.withType(e.getKey(), e.getValue());
                } else {
                    dd.putData(e.getKey(), e.getValue());
                }
            }
            return dd;
        }

        /** "html", "text/html", "HTML" → "text/html"; unknown names stay as given (and are not ours). */
        private static String longType(String mime) {
            try {
                return MimeType.from(mime, null).longType();
            } catch (IllegalArgumentException e) {
                return mime;
            }
        }
    }
}
