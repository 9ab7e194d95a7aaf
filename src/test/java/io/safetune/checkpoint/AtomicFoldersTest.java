package io.safetune.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/** Folder-level atomicity: replace as a unit, clean what dead writers left, never a live writer's. */
class AtomicFoldersTest {

    @TempDir
    Path tmp;

    /** A pid that certainly belonged to a process that has exited (and been reaped). */
    static long deadPid() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        long pid = p.pid();
        assertTrue(ProcessHandle.of(pid).isEmpty(), "pid " + pid + " should be gone");
        return pid;
    }

    private static void pair(Path dir, String token) throws IOException {
        Files.writeString(dir.resolve("a.txt"), token);
        Files.writeString(dir.resolve("b.txt"), token);
    }

    private static List<String> siblings(Path parent) throws IOException {
        try (Stream<Path> s = Files.list(parent)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void replacesTheWholeFolderAndLeavesNoTemporaries() throws Exception {
        Path target = tmp.resolve("out");
        AtomicFolders.writeFolder(target, d -> {
            pair(d, "one");
            Files.writeString(d.resolve("only-in-one.txt"), "x");
        });
        AtomicFolders.writeFolder(target, d -> pair(d, "two"));
        assertEquals(List.of("a.txt", "b.txt"), siblings(target));
        assertEquals("two", Files.readString(target.resolve("a.txt")));
        assertEquals(List.of("out"), siblings(tmp));
    }

    @Test
    void aBodyThatDiesMidwayLeavesThePreviousFolderWhole() throws Exception {
        Path target = tmp.resolve("out");
        AtomicFolders.writeFolder(target, d -> pair(d, "old"));
        assertThrows(UncheckedIOException.class, () -> AtomicFolders.writeFolder(target, d -> {
            Files.writeString(d.resolve("a.txt"), "new");
            throw new IOException("simulated kill between the two files");
        }));
        assertEquals("old", Files.readString(target.resolve("a.txt")));
        assertEquals("old", Files.readString(target.resolve("b.txt")));
        assertEquals(List.of("out"), siblings(tmp));
    }

    @Test
    void keptEntriesAreCarriedOverAndTheOldFolderIsNeverModified() throws Exception {
        Path target = tmp.resolve("run");
        AtomicFolders.writeFolder(target, d -> {
            pair(d, "old");
            Files.createDirectories(d.resolve("checkpoints/checkpoint-3"));
            Files.writeString(d.resolve("checkpoints/checkpoint-3/state.json"), "{}");
            Files.writeString(d.resolve("stale.txt"), "drop me");
        });
        AtomicFolders.writeFolder(target, n -> n.equals("checkpoints"), d -> pair(d, "new"));
        assertEquals(List.of("a.txt", "b.txt", "checkpoints"), siblings(target));
        assertEquals("{}", Files.readString(target.resolve("checkpoints/checkpoint-3/state.json")));
        assertEquals("new", Files.readString(target.resolve("b.txt")));
    }

    @Test
    void staleTemporariesOfDeadWritersAreCleanedLiveOnesAreNot() throws Exception {
        Path target = tmp.resolve("adapter");
        AtomicFolders.writeFolder(target, d -> pair(d, "old"));
        long dead = deadPid();
        long live = ProcessHandle.current().pid();
        Path deadTmp = Files.createDirectory(tmp.resolve(".adapter.tmp-" + dead + "-0a1b2c"));
        Files.writeString(deadTmp.resolve("a.txt"), "half");
        Path deadOld = Files.createDirectory(tmp.resolve(".adapter.old-" + dead + "-0a1b2d"));
        Path liveTmp = Files.createDirectory(tmp.resolve(".adapter.tmp-" + live + "-0a1b2e"));
        Files.writeString(liveTmp.resolve("a.txt"), "in progress");
        Path otherName = Files.createDirectory(tmp.resolve(".adapter2.tmp-" + dead + "-0a1b2f"));

        AtomicFolders.writeFolder(target, d -> pair(d, "new"));

        assertFalse(Files.exists(deadTmp), "a dead writer's temporary is deleted");
        assertFalse(Files.exists(deadOld), "a dead writer's renamed-aside folder is deleted");
        assertEquals("in progress", Files.readString(liveTmp.resolve("a.txt")), "a live writer's temporary is untouched");
        assertTrue(Files.exists(otherName), "another folder's temporaries are not ours to clean");
        assertEquals("new", Files.readString(target.resolve("a.txt")));
    }

    @Test
    void aWriterKilledBetweenItsTwoRenamesHasThePreviousFolderRestored() throws Exception {
        // the state a kill right after "rename target aside" leaves: no target, the whole previous
        // folder under .old, the whole new one under .tmp
        long dead = deadPid();
        Path old = Files.createDirectory(tmp.resolve(".adapter.old-" + dead + "-00ff"));
        pair(old, "previous");
        Path half = Files.createDirectory(tmp.resolve(".adapter.tmp-" + dead + "-00fe"));
        pair(half, "unfinished");
        AtomicFolders.cleanStale(tmp, "adapter");
        assertEquals("previous", Files.readString(tmp.resolve("adapter/a.txt")));
        assertEquals(List.of("adapter"), siblings(tmp));
    }

    @Test
    void concurrentWritersLeaveOneWholeFolder() throws Exception {
        Path target = tmp.resolve("out");
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<?>> writers = new ArrayList<>();
            for (String who : List.of("X", "Y")) {
                writers.add(pool.submit(() -> {
                    for (int i = 0; i < 40; i++) {
                        String token = who + i;
                        AtomicFolders.writeFolder(target, d -> pair(d, token));
                    }
                    return null;
                }));
            }
            for (Future<?> w : writers) {
                w.get();
            }
        } finally {
            pool.shutdownNow();
        }
        String a = Files.readString(target.resolve("a.txt"));
        assertEquals(a, Files.readString(target.resolve("b.txt")), "the folder holds one writer's pair");
        assertTrue(a.equals("X39") || a.equals("Y39"), a);
        assertEquals(List.of("out"), siblings(tmp), "no temporaries left");
    }

    @Test
    void carriedOverLinksStayLinks() throws Exception {
        Path target = tmp.resolve("out");
        Path elsewhere = Files.createDirectories(tmp.resolve("dataset"));
        Files.writeString(elsewhere.resolve("big.bin"), "data");
        AtomicFolders.writeFolder(target, d -> Files.writeString(d.resolve("w.txt"), "1"));
        Files.createSymbolicLink(target.resolve("data"), elsewhere);
        Files.createSymbolicLink(target.resolve("loop"), target); // a link back up must not recurse
        AtomicFolders.writeFolder(target, name -> !name.equals("w.txt"), d -> Files.writeString(d.resolve("w.txt"), "2"));
        assertEquals("2", Files.readString(target.resolve("w.txt")));
        assertTrue(Files.isSymbolicLink(target.resolve("data")), "the link is carried as a link");
        assertEquals(elsewhere, Files.readSymbolicLink(target.resolve("data")));
        assertTrue(Files.isSymbolicLink(target.resolve("loop")));
        assertEquals("data", Files.readString(elsewhere.resolve("big.bin")), "what it points to is untouched");
    }
}
