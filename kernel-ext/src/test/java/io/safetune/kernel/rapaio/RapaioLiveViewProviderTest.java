package io.safetune.kernel.rapaio;

import org.junit.jupiter.api.Test;
import org.rapaio.jupyter.kernel.display.DisplayData;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RapaioLiveViewProviderTest {

    @Test
    void emptyOutsideRapaio() {
        assertFalse(RapaioLiveViewProvider.kernelRunning());
        assertTrue(new RapaioLiveViewProvider().open().isEmpty());
    }

    /** Blocks in a method named main, as rapaio's MainApp.main does while the kernel runs. */
    static final class BlockedMain {
        static final CountDownLatch RELEASE = new CountDownLatch(1);

        public static void main(String[] args) throws InterruptedException {
            RELEASE.await(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void detectsAMainOnAnotherThreadsStack() throws Exception {
        String name = BlockedMain.class.getName();
        assertFalse(RapaioLiveViewProvider.mainOnSomeStack(name));
        CountDownLatch started = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            started.countDown();
            try {
                BlockedMain.main(new String[0]);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        });
        t.start();
        started.await();
        boolean seen = false;
        for (int i = 0; i < 200 && !seen; i++) { // the thread may not have entered main yet
            seen = RapaioLiveViewProvider.mainOnSomeStack(name);
            Thread.sleep(5);
        }
        BlockedMain.RELEASE.countDown();
        t.join();
        assertTrue(seen);
        assertFalse(RapaioLiveViewProvider.mainOnSomeStack(name));
    }

    @Test
    void firstUpdateDisplaysLaterOnesUpdateTheSameId() {
        List<DisplayData> shown = new ArrayList<>();
        List<DisplayData> updated = new ArrayList<>();
        RapaioLiveViewProvider.View v = new RapaioLiveViewProvider.View(shown::add, updated::add);
        v.update("<b>1</b>", "1");
        v.update("<b>2</b>", "2");
        v.update("<b>3</b>", "3");
        v.close();
        v.update("<b>4</b>", "4");

        assertEquals(1, shown.size());
        assertEquals(2, updated.size());
        assertEquals(v.id(), shown.get(0).getDisplayId());
        updated.forEach(d -> assertEquals(v.id(), d.getDisplayId()));
        assertEquals("<b>1</b>", shown.get(0).data().get("text/html"));
        assertEquals("3", updated.get(1).data().get("text/plain"));
    }
}
