package io.safetune.experiment;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The lock of one stage, held while it is built: an OS file lock ({@code <stages>/.locks/<stage>.lock})
 * between processes, and a {@link ReentrantLock} between the threads of one JVM (file locks belong to
 * the whole process, so two threads of one JVM would not exclude each other through them). The OS
 * releases the file lock when a process dies, so a killed run never leaves a stage locked. Lock files
 * stay: deleting one while another process waits on it would let a third process lock a new file.
 */
final class StageLock implements AutoCloseable {

    static final String FOLDER = ".locks";
    private static final ConcurrentHashMap<Path, ReentrantLock> IN_JVM = new ConcurrentHashMap<>();

    private final ReentrantLock threadLock;
    private final FileChannel channel;
    private final FileLock fileLock;
    private final boolean waited;

    private StageLock(ReentrantLock threadLock, FileChannel channel, FileLock fileLock, boolean waited) {
        this.threadLock = threadLock;
        this.channel = channel;
        this.fileLock = fileLock;
        this.waited = waited;
    }

    /** Blocks until the stage's lock is ours; {@code onWait} runs once if someone else holds it. */
    static StageLock acquire(Path root, String stage, Runnable onWait) throws IOException {
        Path file = file(root, stage);
        ReentrantLock threads = IN_JVM.computeIfAbsent(file, f -> new ReentrantLock());
        if (threads.isHeldByCurrentThread()) {
            throw new IllegalStateException("stage " + stage + " is already being built by this thread");
        }
        boolean waited = false;
        if (!threads.tryLock()) {
            onWait.run();
            waited = true;
            threads.lock();
        }
        return lockFile(file, threads, waited, onWait);
    }

    /** The stage's lock if nobody holds it now, else null. */
    static StageLock tryAcquire(Path root, String stage) throws IOException {
        Path file = file(root, stage);
        ReentrantLock threads = IN_JVM.computeIfAbsent(file, f -> new ReentrantLock());
        if (threads.isHeldByCurrentThread() || !threads.tryLock()) {
            return null;
        }
        return lockFile(file, threads, false, null);
    }

    /**
     * Takes the file lock once {@code threads} is held: blocking (and calling {@code onWait} if it has
     * not yet been called) when {@code onWait} is given, else null when another process holds it.
     */
    private static StageLock lockFile(Path file, ReentrantLock threads, boolean waited, Runnable onWait) throws IOException {
        FileChannel ch = null;
        try {
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock fl = ch.tryLock();
            if (fl == null && onWait == null) {
                ch.close();
                threads.unlock();
                return null;
            }
            if (fl == null) {
                if (!waited) {
                    onWait.run();
                }
                waited = true;
                fl = ch.lock();
            }
            return new StageLock(threads, ch, fl, waited);
        } catch (IOException | RuntimeException e) {
            if (ch != null) {
                ch.close();
            }
            threads.unlock();
            throw e;
        }
    }

    private static Path file(Path root, String stage) throws IOException {
        Path dir = root.resolve(FOLDER);
        Files.createDirectories(dir);
        return dir.toRealPath().resolve(stage + ".lock"); // one key per folder, however it was reached
    }

    /** Whether another run held the lock when this one asked for it. */
    boolean waited() {
        return waited;
    }

    @Override
    public void close() throws IOException {
        try {
            try {
                fileLock.release();
            } finally {
                channel.close();
            }
        } finally {
            threadLock.unlock();
        }
    }
}
