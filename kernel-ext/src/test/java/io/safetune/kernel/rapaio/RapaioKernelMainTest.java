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

    /** A channel as rapaio holds it: a {@code loopThread} field. */
    static final class FakeChannel {
        private volatile org.rapaio.jupyter.kernel.channels.LoopThread loopThread;
    }

    /** What Channels holds: channels in fields. */
    static final class FakeChannels {
        private final FakeChannel shell = new FakeChannel();
        private final FakeChannel heartbeat = new FakeChannel();
    }

    @Test
    void aLoopThatLostTheStartRaceIsRunAgain() throws Exception {
        java.util.concurrent.atomic.AtomicInteger turns = new java.util.concurrent.atomic.AtomicInteger();
        CountDownLatch looping = new CountDownLatch(3);
        String name = "Shell-rescue-" + System.nanoTime();
        var lost = new org.rapaio.jupyter.kernel.channels.LoopThread(name, 1, () -> {
            turns.incrementAndGet();
            looping.countDown();
        });
        // the race: the thread ran while running was still false and ended; start() then set it
        lost.run();
        assertEquals(0, turns.get());
        var running = lost.getClass().getDeclaredField("running");
        running.setAccessible(true);
        running.setBoolean(lost, true);
        var healthy = new org.rapaio.jupyter.kernel.channels.LoopThread("Heartbeat-ok-" + System.nanoTime(), 1, () -> { });
        running.setBoolean(healthy, true); // set before start(), so this one cannot lose the race itself
        healthy.start();
        FakeChannels channels = new FakeChannels();
        channels.shell.loopThread = lost;
        channels.heartbeat.loopThread = healthy;

        assertEquals(1, RapaioKernelMain.rescueLostLoops(channels), "only the dead loop is restarted");
        assertEquals(true, looping.await(5, java.util.concurrent.TimeUnit.SECONDS), "the lost loop's body runs again");
        assertEquals(1, RapaioKernelMain.aliveNamed(name), "in a thread of the same name");
        lost.shutdown();
        healthy.shutdown();
        lost.interrupt();
    }
}
