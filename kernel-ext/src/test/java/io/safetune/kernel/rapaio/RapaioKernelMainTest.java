package io.safetune.kernel.rapaio;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class RapaioKernelMainTest {

    @Test
    void aKernelWithAllItsLoopsIsFine() {
        assertNull(RapaioKernelMain.lostChannels(2, 1));
    }

    @Test
    void namesWhatWasLost() {
        assertEquals("1 shell/control channel thread(s)", RapaioKernelMain.lostChannels(1, 1));
        assertEquals("its heartbeat thread", RapaioKernelMain.lostChannels(2, 0));
        assertEquals("2 shell/control channel thread(s) and its heartbeat thread", RapaioKernelMain.lostChannels(0, 0));
    }

    @Test
    void countsLiveThreadsByName() throws InterruptedException {
        String prefix = "Heartbeat-test-" + System.nanoTime();
        assertEquals(0, RapaioKernelMain.aliveNamed(prefix));
        CountDownLatch release = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, prefix + "-0");
        t.start();
        assertEquals(1, RapaioKernelMain.aliveNamed(prefix));
        release.countDown();
        t.join();
        assertEquals(0, RapaioKernelMain.aliveNamed(prefix));
    }
}
