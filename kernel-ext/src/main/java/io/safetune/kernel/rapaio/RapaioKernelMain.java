package io.safetune.kernel.rapaio;

import org.rapaio.jupyter.kernel.MainApp;

import java.util.concurrent.TimeUnit;

/**
 * The kernelspec's main class for rapaio-jupyter-kernel 3.0.1: runs {@code MainApp.main} with a
 * start-up check. rapaio's {@code LoopThread.start()} sets its {@code running} flag only after
 * {@code Thread.start()}, so on a busy machine a channel's thread can see {@code false}, end at once,
 * and leave a kernel that never answers (measured here: nbconvert waited its full 300 s). When that
 * happens the lost loop is run again in a fresh thread of the same name ({@code LoopThread.run()} only
 * needs {@code running}, which {@code start()} has set by then); if that is not possible this exits
 * with {@link #LOST_CHANNEL}, so that Jupyter restarts the kernel at once and
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
            int rescued = rescueLostLoops(MainApp.kernel.channels());
            if (rescued > 0) {
                System.err.println("safetune: restarted " + rescued + " rapaio-jupyter-kernel channel loop(s) lost at start-up "
                        + "(a race in its LoopThread.start)");
                Thread.sleep(50);
            }
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
     * For each channel of {@code channels} whose {@code LoopThread} has ended although its
     * {@code running} flag is set (it lost the start-up race), runs that loop again in a new thread of
     * the same name. Returns how many were restarted; reflection failures leave the exit fallback.
     */
    static int rescueLostLoops(Object channels) {
        int rescued = 0;
        try {
            for (java.lang.reflect.Field f : channels.getClass().getDeclaredFields()) {
                f.setAccessible(true);
                Object channel = f.get(channels);
                if (channel == null) {
                    continue;
                }
                java.lang.reflect.Field loopField;
                try {
                    loopField = channel.getClass().getDeclaredField("loopThread");
                } catch (NoSuchFieldException e) {
                    continue;
                }
                loopField.setAccessible(true);
                Object loop = loopField.get(channel);
                if (!(loop instanceof Thread t) || t.isAlive()) {
                    continue;
                }
                java.lang.reflect.Field running = loop.getClass().getDeclaredField("running");
                running.setAccessible(true);
                if (running.getBoolean(loop)) {
                    Thread again = new Thread(t::run, t.getName());
                    again.start();
                    rescued++;
                }
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            System.err.println("safetune: cannot inspect rapaio's channels (" + e + ")");
        }
        return rescued;
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
