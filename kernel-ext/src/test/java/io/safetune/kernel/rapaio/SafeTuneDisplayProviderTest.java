package io.safetune.kernel.rapaio;

import io.safetune.display.Displayable;
import io.safetune.kernel.Fixtures;

import org.junit.jupiter.api.Test;
import org.rapaio.jupyter.kernel.display.DisplayData;
import org.rapaio.jupyter.kernel.display.DisplayRenderer;
import org.rapaio.jupyter.kernel.display.DisplaySystem;
import org.rapaio.jupyter.kernel.display.spi.DisplayProvider;

import tech.tablesaw.api.Table;

import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The rapaio adapter against rapaio-jupyter-kernel 3.0.1's real display classes. */
class SafeTuneDisplayProviderTest {

    /** What rapaio's DisplaySystem does with SPI renderers: the first whose class matches and that can render. */
    private static DisplayData renderAsRapaio(String mime, Object o) {
        for (DisplayRenderer r : new SafeTuneDisplayProvider().getDisplayRenderers()) {
            if (r.rendererClass().isAssignableFrom(o.getClass()) && r.canRender(mime)) {
                return r.render(mime, o);
            }
        }
        throw new AssertionError("no renderer for " + o.getClass());
    }

    @Test
    void registeredAsService() {
        assertTrue(ServiceLoader.load(DisplayProvider.class).stream()
                .anyMatch(p -> p.type() == SafeTuneDisplayProvider.class));
    }

    @Test
    void tableIsHtmlAndText() {
        Table t = Fixtures.layers(3);
        DisplayData d = renderAsRapaio(null, t);
        assertEquals(Set.of("text/html", "text/plain"), d.data().keySet());
        assertTrue(d.data().get("text/html").toString().contains("<table"));
        assertEquals(t.print(), d.data().get("text/plain"));
    }

    @Test
    void chartIsPng() {
        DisplayData d = renderAsRapaio(null, Fixtures.chart("loss", 300, 180));
        assertEquals(Set.of("image/png", "text/plain"), d.data().keySet());
        assertEquals(180, Fixtures.png(d.data().get("image/png")).getHeight());
    }

    @Test
    void resultIsTheWholeBundle() {
        Displayable r = Fixtures.result();
        DisplayData d = renderAsRapaio(null, r);
        assertEquals(Set.of("text/html", "text/plain"), d.data().keySet()); // each chart once, inside the HTML
        assertEquals(2, Fixtures.count(d.data().get("text/html").toString(), "data:image/png;base64,"));
        assertEquals(r.toText(), d.data().get("text/plain"));
    }

    @Test
    void aNamedMimeTypeGivesOnlyThatType() {
        DisplayData d = renderAsRapaio("png", Fixtures.result());
        assertEquals(Set.of("image/png"), d.data().keySet());
        assertEquals(320, Fixtures.png(d.data().get("image/png")).getWidth());
        DisplayData h = renderAsRapaio("text/html", Fixtures.layers(2));
        assertEquals(Set.of("text/html"), h.data().keySet());
    }

    @Test
    void refusesTypesItDoesNotRender() {
        List<DisplayRenderer> rs = new SafeTuneDisplayProvider().getDisplayRenderers();
        DisplayRenderer chart = rs.get(2);
        assertFalse(chart.canRender("text/html"));
        assertFalse(chart.canRender("application/x-unknown"));
        assertThrows(IllegalArgumentException.class, () -> chart.render("text/html", Fixtures.chart("c", 100, 100)));
        assertThrows(IllegalArgumentException.class, () -> chart.render(null, "not a chart"));
    }

    @Test
    void rapaiosDisplaySystemUsesIt() {
        // as in the kernel, where this jar is on the JVM's class path: rapaio's own ServiceLoader finds it
        DisplaySystem ds = DisplaySystem.inst();
        // a cell's value and display(x): no mime type
        DisplayData table = ds.render(Fixtures.layers(2));
        assertTrue(table.data().get("text/html").toString().contains("<table"));
        assertTrue(table.hasDisplayId());
        DisplayData chart = ds.render(Fixtures.chart("loss", 300, 180));
        assertEquals(300, Fixtures.png(chart.data().get("image/png")).getWidth());
        DisplayData result = ds.render(Fixtures.result());
        assertEquals(Set.of("text/html", "text/plain"), result.data().keySet()); // its charts once, in the HTML
        // display("image/png", chart)
        assertEquals(Set.of("image/png"), ds.render("image/png", Fixtures.chart("c", 100, 100)).data().keySet());
        // other objects still go to rapaio's own renderers
        assertEquals("42", ds.render(42).data().get("text/html"));
    }
}
