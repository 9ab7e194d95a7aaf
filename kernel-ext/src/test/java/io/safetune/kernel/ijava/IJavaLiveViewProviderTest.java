package io.safetune.kernel.ijava;

import io.github.spencerpark.jupyter.kernel.display.DisplayData;
import io.github.spencerpark.jupyter.kernel.display.mime.MIMEType;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IJavaLiveViewProviderTest {

    @AfterEach
    void noKernel() {
        FakeIJava.kernel = null;
    }

    @Test
    void emptyOutsideIJava() {
        assertTrue(new IJavaLiveViewProvider().open().isEmpty());
        assertTrue(new IJavaLiveViewProvider("no.such.Kernel").open().isEmpty());
        assertTrue(new IJavaLiveViewProvider(FakeIJava.class.getName()).open().isEmpty(), "kernel not running");
    }

    @Test
    void opensOnARunningKernel() {
        FakeIJava.kernel = new FakeIJava.Kernel();
        assertTrue(new IJavaLiveViewProvider(FakeIJava.class.getName()).open().isPresent());
    }

    @Test
    void firstUpdateDisplaysLaterOnesUpdateTheSameId() {
        List<DisplayData> shown = new ArrayList<>();
        List<DisplayData> updated = new ArrayList<>();
        IJavaLiveViewProvider.View v = new IJavaLiveViewProvider.View(shown::add, updated::add);
        v.update("<b>1</b>", "1");
        v.update("<b>2</b>", "2");
        v.update("<b>3</b>", "3");
        v.close();
        v.update("<b>4</b>", "4");

        assertEquals(1, shown.size());
        assertEquals(2, updated.size());
        assertEquals(v.id(), shown.get(0).getDisplayId());
        for (DisplayData d : updated) {
            assertEquals(v.id(), d.getDisplayId());
        }
        assertEquals("<b>1</b>", shown.get(0).getData(MIMEType.TEXT_HTML));
        assertEquals("3", updated.get(1).getData(MIMEType.TEXT_PLAIN));
    }
}
