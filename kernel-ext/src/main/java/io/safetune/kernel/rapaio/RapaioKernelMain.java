package io.safetune.kernel.rapaio;

import org.rapaio.jupyter.kernel.MainApp;

import java.util.concurrent.TimeUnit;

/**
 * The kernelspec's main class for rapaio-jupyter-kernel 3.0.1: runs {@code MainApp.main} with a
 * start-up check. rapaio's {@code LoopThread.start()} sets its {@code running} flag only after
 * {@code Thread.start()}, so on a busy machine a channel's thread can see {@code false}, end at once,
 * and leave a kernel that never answers (measured here: nbconvert waited its full 300 s). When that
 * happens this exits with {@link #LOST_CHANNEL}, so that Jupyter restarts the kernel at once and
 * {@code scripts/notebooks.sh} retries, instead of hanging.
 */
public final class RapaioKernelMain {

    /** Exit status when a channel thread was lost at start-up (EX_TEMPFAIL: try again). */
    public static final int LOST_CHANNEL = 75;

    private RapaioKernelMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 1 && !args[0].startsWith("-")) { // a connection file, not the installer
            Thread check = new Thread(RapaioKernelMain::checkChannels, "safetune-channel-check");
            check.setDaemon(true);
            check.start();
        }
        MainApp.main(args);
    }

    private static void checkChannels() {
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
            // channels() is set once every channel is bound and its thread started
            while (MainApp.kernel.channels() == null) {
                if (System.nanoTime() > deadline) {
                    return;
                }
                Thread.sleep(20);
            }
            Thread.sleep(50); // a thread that lost the race has ended microseconds after its start
            String lost = lostChannels(aliveNamed("Shell-"), aliveNamed("Heartbeat-"));
            if (lost != null) {
                System.err.println("safetune: rapaio-jupyter-kernel lost " + lost + " at start-up (a race in its "
                        + "LoopThread.start); exiting so that the kernel is started again");
                System.err.flush();
                Runtime.getRuntime().halt(LOST_CHANNEL);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | LinkageError e) {
            // the kernel failed to start on its own; its error is already on stderr
        }
    }

    /**
     * Which looping channel threads are missing: rapaio names the shell and control threads
     * {@code Shell-N} (two of them) and the heartbeat thread {@code Heartbeat-N}; null if none is.
     */
    static String lostChannels(int shellThreads, int heartbeatThreads) {
        if (shellThreads >= 2 && heartbeatThreads >= 1) {
            return null;
        }
        return (shellThreads < 2 ? (2 - shellThreads) + " shell/control channel thread(s)" : "")
                + (shellThreads < 2 && heartbeatThreads < 1 ? " and " : "")
                + (heartbeatThreads < 1 ? "its heartbeat thread" : "");
    }

    static int aliveNamed(String prefix) {
        int n = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().startsWith(prefix)) {
                n++;
            }
        }
        return n;
    }
}
