package io.safetune.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs tasks that cannot be paused from outside (a {@code Trainer.fit}) in turns, each on its own
 * thread but never two at once: task 0 runs until it calls {@link Turn#pass()}, then task 1, and so
 * on round-robin over the tasks not yet finished. A benchmark can so interleave its variants in chunks
 * of steps on one warm JVM, so that a slow hour on the machine hits every variant alike.
 *
 * <p>Only the thread holding the turn touches libtorch, so its process-wide state (the RNG the trainer
 * reseeds every step, the allocator) is used by one thread at a time; thread-local state (autograd's
 * grad mode, DJL's NDScope) stays with each task's own thread; a task that trains must turn grad mode off
 * itself, as DJL does only on the thread that loaded the engine.
 */
final class Turns {

    /** A task that runs in turns. */
    @FunctionalInterface
    interface Task {
        void run(Turn turn) throws Exception;
    }

    /** A task's handle on the turn. */
    static final class Turn {
        private final Semaphore mine = new Semaphore(0);
        private final Semaphore handedBack;

        private Turn(Semaphore handedBack) {
            this.handedBack = handedBack;
        }

        /** Hands the turn on and blocks until this task's next turn. */
        void pass() {
            handedBack.release();
            try {
                mine.acquire();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("benchmark stopped: another variant failed", e);
            }
        }
    }

    private Turns() {
    }

    /**
     * Runs every task to its end, in turns, in list order; a failure stops the others (each is
     * interrupted in {@link Turn#pass()}, so its try-with-resources close what it holds) and is rethrown.
     *
     * @param names thread names, one per task
     */
    static void run(List<Task> tasks, List<String> names) {
        int n = tasks.size();
        Semaphore handedBack = new Semaphore(0);
        List<Turn> turns = new ArrayList<>(n);
        boolean[] finished = new boolean[n];
        Throwable[] failures = new Throwable[n];
        AtomicInteger index = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(n, r -> {
            Thread t = new Thread(r, "bench-" + names.get(index.getAndIncrement()));
            t.setDaemon(true);
            return t;
        });
        try {
            for (int i = 0; i < n; i++) {
                Turn turn = new Turn(handedBack);
                turns.add(turn);
                int k = i;
                pool.execute(() -> {
                    try {
                        turn.mine.acquire(); // wait for the first turn
                        tasks.get(k).run(turn);
                    } catch (Throwable t) {
                        failures[k] = t;
                    } finally {
                        synchronized (finished) {
                            finished[k] = true;
                        }
                        handedBack.release();
                    }
                });
            }
            int left = n;
            while (left > 0) {
                for (int i = 0; i < n; i++) {
                    synchronized (finished) {
                        if (finished[i]) {
                            continue;
                        }
                    }
                    turns.get(i).mine.release();
                    handedBack.acquireUninterruptibly();
                    boolean done;
                    synchronized (finished) {
                        done = finished[i];
                    }
                    if (done) {
                        left--;
                        if (failures[i] != null) {
                            throw failures[i] instanceof RuntimeException re ? re
                                    : new IllegalStateException(names.get(i) + ": " + failures[i], failures[i]);
                        }
                    }
                }
            }
        } finally {
            pool.shutdownNow(); // interrupts tasks parked in pass() after a failure
            try {
                pool.awaitTermination(10, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
