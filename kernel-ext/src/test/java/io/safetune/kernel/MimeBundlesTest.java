package io.safetune.kernel;

import io.safetune.display.Displayable;

import org.junit.jupiter.api.Test;

import tech.tablesaw.api.Table;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MimeBundlesTest {

    @Test
    void tableIsHtmlAndText() {
        Table t = Fixtures.layers(3);
        Map<String, String> b = MimeBundles.table(t);
        assertEquals(java.util.List.of("text/html", "text/plain"), java.util.List.copyOf(b.keySet()));
        String html = b.get("text/html");
        assertTrue(html.contains("<table"), html);
        assertTrue(html.contains("cosine") && html.contains("0.52"), html);
        assertEquals(t.print(), b.get("text/plain"));
    }

    @Test
    void longTableIsCutInHtmlOnly() {
        Table t = Fixtures.layers(MimeBundles.MAX_HTML_ROWS + 50);
        String html = MimeBundles.table(t).get("text/html");
        // one header row plus MAX_HTML_ROWS body rows
        assertEquals(MimeBundles.MAX_HTML_ROWS + 1, Fixtures.count(html, "<tr"));
        assertTrue(html.contains("first 200 of 250 rows"), html);
    }

    @Test
    void chartIsPng() {
        Map<String, String> b = MimeBundles.chart(Fixtures.chart("loss", 300, 180));
        assertEquals(300, Fixtures.png(b.get("image/png")).getWidth());
        assertEquals(180, Fixtures.png(b.get("image/png")).getHeight());
        assertEquals("chart: loss (300x180)", b.get("text/plain"));
        assertFalse(b.containsKey("text/html"));
    }

    @Test
    void resultIsTablePlusEachChartOnceInHtml() {
        Displayable r = Fixtures.result();
        Map<String, String> b = MimeBundles.displayable(r);
        assertEquals(java.util.List.of("text/html", "text/plain"), java.util.List.copyOf(b.keySet()));
        String html = b.get("text/html");
        assertTrue(html.contains("<table") && html.contains("HED per layer"), html);
        assertEquals(2, Fixtures.count(html, "data:image/png;base64,"));
        assertEquals(r.toText(), b.get("text/plain"));
    }

    @Test
    void aResultsPngOnlyWhenAskedForByName() {
        assertEquals(320, Fixtures.png(MimeBundles.only(Fixtures.result(), "image/png")).getWidth()); // the first chart
        assertNull(MimeBundles.only("text", "image/png"));
    }

    @Test
    void resultWithoutChartsHasNoPng() {
        Displayable r = new Displayable() {
            @Override
            public String title() {
                return "samples";
            }

            @Override
            public Table table() {
                return Fixtures.layers(2);
            }
        };
        Map<String, String> b = MimeBundles.displayable(r);
        assertFalse(b.containsKey("image/png"));
        assertTrue(b.get("text/html").contains("<table"));
    }

    @Test
    void otherObjectsAreNotOurs() {
        assertNull(MimeBundles.of("text"));
        assertNull(MimeBundles.of(42));
        assertFalse(MimeBundles.of(Fixtures.result()).containsKey("image/png")); // its charts are in its HTML
    }
}
