package io.safetune.checkpoint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Writes a whole checkpoint folder (adapter, model, training checkpoint) so that the folder's path
 * only ever names a complete set of files: the new files are written into
 * {@code .<name>.tmp-<pid>-<random>} in the same parent, and that folder takes the target's name by
 * a rename. A reader therefore sees either the previous folder or the new one, never new weights
 * beside an old config (two files renamed one after the other could be split by a kill).
 *
 * <p>Temporaries a killed writer left behind ({@code .<name>.tmp-<pid>-*}, {@code .<name>.old-<pid>-*})
 * are deleted by the next write of the same folder once their process is gone; a live process's
 * temporaries are never touched (the pid test assumes writers share this machine's pid space).
 */
public final class AtomicFolders {

    /** Fills the (empty, fresh) folder it is given; it becomes the target once this returns. */
    @FunctionalInterface
    public interface Body {
        void writeTo(Path folder) throws IOException;
    }

    /** Retries when another writer swaps the same target between our two renames. */
    private static final int MAX_SWAP_ATTEMPTS = 50;
    private static final SecureRandom RANDOM = new SecureRandom();

    private AtomicFolders() {
    }

    /** Writes {@code target} as a unit; whatever the folder held before is replaced as a whole. */
    public static void writeFolder(Path target, Body body) {
        writeFolder(target, name -> false, body);
    }

    /**
     * As {@link #writeFolder(Path, Body)}, but top-level entries of the previous folder whose name
     * {@code keep} accepts, and that the body did not write, are carried into the new folder by hard
     * links (a copy where links are not supported): an adapter saved into a run's output folder keeps
     * the run's {@code checkpoints/} beside it. The previous folder is never modified, so a failure or
     * a kill at any point still leaves it whole.
     */
    public static void writeFolder(Path target, Predicate<String> keep, Body body) {
        Path abs = target.toAbsolutePath().normalize();
        Path parent = abs.getParent();
        String name = abs.getFileName().toString();
        long pid = ProcessHandle.current().pid();
        Path tmp = null;
        try {
            Files.createDirectories(parent);
            cleanStale(parent, name);
            tmp = parent.resolve("." + name + ".tmp-" + pid + "-" + token());
            Files.createDirectory(tmp);
            body.writeTo(tmp);
            carryOver(abs, tmp, keep);
            swapIn(tmp, abs, parent, name, pid);
            tmp = null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write folder " + target + ": " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                deleteQuietly(tmp);
            }
        }
    }

    /**
     * Renames {@code tmp} to {@code target}. POSIX rename(2) replaces a directory only when the
     * destination is an empty directory, and there is no portable call that exchanges two non-empty
     * ones (Linux's renameat2(RENAME_EXCHANGE) is out of Java's reach; a symlink flip would turn the
     * folder into a link, which tools treat differently). So the best POSIX offers is: rename the
     * previous folder aside, rename the new one in, delete the previous. Both renames are atomic, so
     * at every instant {@code target} is the whole previous folder, the whole new one, or (for the
     * moment between the renames) absent; never a mix. A kill in that moment leaves the previous
     * folder whole under {@code .<name>.old-<pid>-*}, and the next write restores it before anything
     * else ({@link #cleanStale}).
     */
    private static void swapIn(Path tmp, Path target, Path parent, String name, long pid) throws IOException {
        for (int attempt = 0; attempt < MAX_SWAP_ATTEMPTS; attempt++) {
            Path old = null;
            if (Files.exists(target)) {
                old = parent.resolve("." + name + ".old-" + pid + "-" + token());
                try {
                    move(target, old);
                } catch (NoSuchFileException e) {
                    continue; // another writer moved it aside first: look again
                }
            }
            try {
                move(tmp, target);
            } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
                // another writer renamed its folder in between our two renames: ours goes in next round
                if (old != null) {
                    deleteQuietly(old);
                }
                continue;
            } catch (FileSystemException e) {
                if (!Files.exists(target)) {
                    if (old != null) {
                        move(old, target); // our folder could not go in: the previous one goes back
                    }
                    throw e;
                }
                if (old != null) {
                    deleteQuietly(old);
                }
                continue;
            }
            if (old != null) {
                deleteQuietly(old);
            }
            return;
        }
        throw new IOException("gave up replacing " + target + " after " + MAX_SWAP_ATTEMPTS
                + " attempts (other writers keep replacing it)");
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            // a same-parent rename is atomic on every local file system; this is a last resort
            Files.move(from, to);
        }
    }

    private static final Pattern STALE = Pattern.compile("\\.(.+)\\.(tmp|old)-(\\d+)-[0-9a-f]+");

    /**
     * Deletes what killed writers of {@code parent/name} left: temporaries whose pid is no longer a
     * live process. If the target itself is missing, a dead writer was killed between its two renames
     * and the newest {@code .old} folder is the whole previous folder: it is put back instead.
     */
    static void cleanStale(Path parent, String name) throws IOException {
        List<Path> stale;
        try (Stream<Path> s = Files.list(parent)) {
            stale = s.filter(p -> {
                Matcher m = STALE.matcher(p.getFileName().toString());
                return m.matches() && m.group(1).equals(name)
                        && ProcessHandle.of(Long.parseLong(m.group(3))).isEmpty();
            }).sorted(Comparator.comparing(AtomicFolders::modified).reversed()).toList();
        }
        Path target = parent.resolve(name);
        for (Path p : stale) {
            boolean old = p.getFileName().toString().startsWith("." + name + ".old-");
            if (old && !Files.exists(target)) {
                try {
                    move(p, target);
                    continue;
                } catch (IOException e) {
                    // someone else wrote the target meanwhile: this copy is stale after all
                }
            }
            deleteQuietly(p);
        }
    }

    private static long modified(Path p) {
        try {
            return Files.getLastModifiedTime(p).toMillis();
        } catch (IOException e) {
            return 0;
        }
    }

    private static void carryOver(Path previous, Path fresh, Predicate<String> keep) throws IOException {
        if (!Files.isDirectory(previous)) {
            return;
        }
        List<Path> entries;
        try (Stream<Path> s = Files.list(previous)) {
            entries = s.filter(p -> keep.test(p.getFileName().toString())).toList();
        } catch (NoSuchFileException e) {
            return; // another writer is replacing it right now; there is nothing stable to carry
        }
        for (Path e : entries) {
            Path dest = fresh.resolve(e.getFileName().toString());
            if (!Files.exists(dest)) {
                linkTree(e, dest);
            }
        }
    }

    private static void linkTree(Path src, Path dest) throws IOException {
        if (Files.isSymbolicLink(src)) {
            // a link stays a link: never copy (or loop through) what it points to
            Files.createSymbolicLink(dest, Files.readSymbolicLink(src));
        } else if (Files.isDirectory(src, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectory(dest);
            try (Stream<Path> s = Files.list(src)) {
                for (Path p : s.toList()) {
                    linkTree(p, dest.resolve(p.getFileName().toString()));
                }
            }
        } else {
            try {
                Files.createLink(dest, src);
            } catch (UnsupportedOperationException | FileSystemException e) {
                Files.copy(src, dest, StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
    }

    private static String token() {
        byte[] b = new byte[6];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** Deletes a folder tree, best effort (a failure here must not hide the error that led to it). */
    public static void deleteQuietly(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | UncheckedIOException ignored) {
            // best effort: a leftover is cleaned by the next write once this process is gone
        }
    }
}
