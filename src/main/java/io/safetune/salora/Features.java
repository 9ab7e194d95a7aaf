package io.safetune.salora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import io.safetune.model.CausalLM;
import io.safetune.model.Hooks;
import io.safetune.model.ModelOutput;
import io.safetune.model.ModuleName;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;

/**
 * SaLoRA's features: the inputs of target linear layers at the response tokens of some sequences
 * (where the labels are not −100, as the reference records them), one forward pass per sequence with
 * {@link Hooks#captureLinearInput}. Layers that read the same input (q, k and v; gate and up) are
 * captured once.
 */
final class Features {

    private Features() {
    }

    /** A sequence and which of its positions are response tokens. */
    record Sequence(int[] ids, boolean[] response) {
        Sequence {
            if (ids.length != response.length) {
                throw new IllegalArgumentException("response mask: " + response.length + " positions for " + ids.length + " ids");
            }
        }
    }

    /** The module whose input stands for {@code m}'s (q_proj for k and v, gate_proj for up). */
    static ModuleName.Linear inputOf(ModuleName.Linear m) {
        return switch (m) {
            case Q_PROJ, K_PROJ, V_PROJ -> ModuleName.Linear.Q_PROJ;
            case GATE_PROJ, UP_PROJ -> ModuleName.Linear.GATE_PROJ;
            default -> m;
        };
    }

    /**
     * Captures X for every target and spills it, one file of float32 rows per captured input, to a
     * temporary folder: a 7B model's features (128 sequences × 64 response tokens × 4096 per layer, 32
     * layers) are 4.3 GB per set, so only one input's rows are in memory at a time when read back.
     *
     * @param what named in errors ("the safety set", "the task set")
     */
    static Store capture(CausalLM model, List<ModuleName> targets, List<Sequence> sequences, String what) {
        List<ModuleName> captured = targets.stream().map(t -> new ModuleName(t.layer(), inputOf(t.module()))).distinct().toList();
        Store store = Store.create();
        try {
            int tokens = 0;
            for (Sequence s : sequences) {
                int n = 0;
                for (boolean r : s.response()) {
                    n += r ? 1 : 0;
                }
                if (n == 0) {
                    continue;
                }
                tokens += n;
                try (NDManager m = model.manager().newSubManager()) {
                    NDArray ids = m.create(toLongs(s.ids()), new Shape(1, s.ids().length));
                    NDArray mask = m.create(s.response(), new Shape(1, s.response().length));
                    Hooks hooks = new Hooks();
                    captured.forEach(c -> hooks.captureLinearInput(c.layer(), c.module().hfName(), mask));
                    ModelOutput out = model.forward(ids, null, hooks, null, false, false);
                    for (ModuleName c : captured) {
                        store.append(c, out.linearInput(c.layer(), c.module().hfName()).toType(DataType.FLOAT32, false).toFloatArray());
                    }
                }
            }
            if (tokens == 0) {
                throw new IllegalArgumentException(what + ": no response tokens in " + sequences.size()
                        + " sequences (features are the inputs at response positions)");
            }
            return store;
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /** Captured rows on disk, one float32 file per captured input; {@link #close} deletes them. */
    static final class Store implements AutoCloseable {

        /** No features (a set the settings do not use). */
        static final Store NONE = new Store(null);

        private final Path dir;

        private Store(Path dir) {
            this.dir = dir;
        }

        static Store create() {
            try {
                return new Store(Files.createTempDirectory("safetune-salora-features-"));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create a temporary folder for SaLoRA's features: " + e.getMessage(), e);
            }
        }

        private Path file(ModuleName input) {
            return dir.resolve(input.layer() + "." + input.module().hfName() + ".f32");
        }

        void append(ModuleName input, float[] rows) {
            ByteBuffer b = ByteBuffer.allocate(rows.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(rows);
            try (FileChannel ch = FileChannel.open(file(input), StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                    StandardOpenOption.WRITE)) {
                while (b.hasRemaining()) {
                    ch.write(b);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write SaLoRA's features to " + file(input) + ": " + e.getMessage(), e);
            }
        }

        /** X of {@code target} (n × d_in, row-major): the rows of the input it reads. */
        float[] rows(ModuleName target) {
            Path f = file(new ModuleName(target.layer(), inputOf(target.module())));
            try {
                ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN);
                float[] x = new float[b.remaining() / Float.BYTES];
                b.asFloatBuffer().get(x);
                return x;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read SaLoRA's features of " + target + " from " + f + ": " + e.getMessage(), e);
            }
        }

        @Override
        public void close() {
            if (dir == null) {
                return;
            }
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.deleteIfExists(f);
                }
                Files.deleteIfExists(dir);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot delete SaLoRA's features in " + dir + ": " + e.getMessage(), e);
            }
        }
    }

    private static long[] toLongs(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            l[i] = ids[i];
        }
        return l;
    }
}
