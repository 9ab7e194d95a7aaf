package io.safetune.kernel.ijava;

import io.github.spencerpark.jupyter.kernel.display.DisplayData;
import io.github.spencerpark.jupyter.kernel.display.Renderer;
import io.github.spencerpark.jupyter.kernel.display.mime.MIMEType;

import io.safetune.display.Displayable;
import io.safetune.kernel.Fixtures;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import tech.tablesaw.api.Table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The IJava adapter against jupyter-jvm-basekernel 2.3.0's real {@link Renderer}. */
class SafeTuneDisplaysTest {

    @AfterEach
    void noKernel() {
        FakeIJava.kernel = null;
    }

    @Test
    void withoutRegistrationATableIsOnlyText() {
        DisplayData d = new Renderer().render(Fixtures.layers(2));
        assertNull(d.getData(MIMEType.TEXT_HTML));
        assertTrue(d.hasDataForType(MIMEType.TEXT_PLAIN));
    }

    @Test
    void tableRendersAsHtmlAndText() {
        Renderer r = new Renderer();
        assertTrue(SafeTuneDisplays.registerIn(r));
        Table t = Fixtures.layers(3);
        DisplayData d = r.render(t);
        assertTrue(d.getData(MIMEType.TEXT_HTML).toString().contains("<table"));
        assertEquals(t.print(), d.getData(MIMEType.TEXT_PLAIN));
        assertNull(d.getData(MIMEType.IMAGE_PNG));
    }

    @Test
    void chartRendersAsPng() {
        Renderer r = new Renderer();
        SafeTuneDisplays.registerIn(r);
        DisplayData d = r.render(Fixtures.chart("loss", 300, 180));
        assertEquals(300, Fixtures.png(d.getData(MIMEType.IMAGE_PNG)).getWidth());
        assertEquals("chart: loss (300x180)", d.getData(MIMEType.TEXT_PLAIN));
        assertNull(d.getData(MIMEType.TEXT_HTML));
    }

    @Test
    void resultRendersAsTheWholeBundle() {
        Renderer r = new Renderer();
        SafeTuneDisplays.registerIn(r);
        Displayable result = Fixtures.result();
        DisplayData d = r.render(result);
        String html = d.getData(MIMEType.TEXT_HTML).toString();
        assertTrue(html.contains("<table") && html.contains("data:image/png;base64,"), html);
        assertNull(d.getData(MIMEType.IMAGE_PNG)); // each chart once, inside the HTML
        assertEquals(result.toText(), d.getData(MIMEType.TEXT_PLAIN));
    }

    @Test
    void renderAsGivesOnlyWhatWasAsked() {
        Renderer r = new Renderer();
        SafeTuneDisplays.registerIn(r);
        DisplayData d = r.renderAs(Fixtures.result(), "image/png");
        assertTrue(d.hasDataForType(MIMEType.IMAGE_PNG));
        assertFalse(d.hasDataForType(MIMEType.TEXT_HTML));
    }

    @Test
    void registeringTwiceChangesNothing() {
        Renderer r = new Renderer();
        assertTrue(SafeTuneDisplays.registerIn(r));
        assertFalse(SafeTuneDisplays.registerIn(r));
        assertTrue(r.render(Fixtures.layers(2)).getData(MIMEType.TEXT_HTML).toString().contains("<table"));
    }

    @Test
    void registersInTheRunningKernelsRenderer() {
        assertFalse(SafeTuneDisplays.registerInIJava(), "no IJava in a test JVM");
        assertFalse(SafeTuneDisplays.registerInKernelOf(FakeIJava.class.getName()), "holder present, kernel not running");

        FakeIJava.Kernel k = new FakeIJava.Kernel();
        FakeIJava.kernel = k;
        assertTrue(SafeTuneDisplays.registerInKernelOf(FakeIJava.class.getName()));
        // What IJava does with a cell's value: kernel.getRenderer().render(value).
        assertTrue(k.getRenderer().render(Fixtures.layers(2)).getData(MIMEType.TEXT_HTML).toString().contains("<table"));
    }
}
