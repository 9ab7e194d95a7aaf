import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;

/**
 * The training steps' matmuls alone, through DJL (libtorch 2.7.1), to set beside matmul.py (PyTorch):
 * median microseconds of a linear forward (x·Wᵀ) and of the two backward products (gy·W, gyᵀ·x) for
 * the LoRA benchmark's shapes (1024 tokens) and the full step's (3072 tokens), and of a one-element
 * add (the cost of one native call), with the lab's pinned arithmetic. Run from the repository root after
 * a build (docs/benchmarks.md):
 *   java -Dai.djl.offline=true -cp "target/safetune-lab-0.1.0-SNAPSHOT.jar:target/lib/*" scripts/bench/Matmul.java 400
 * With "hold" after the count, the linear products' outputs are kept 100 at a time before being freed, as a
 * step's arrays are kept until its NDManager closes, so each product writes memory that is not in cache.
 */
public class Matmul {
    static final long[][] SHAPES = {{1024, 128, 128}, {1024, 128, 384}, {1024, 384, 128}, {1024, 128, 512},
        {3072, 128, 128}, {3072, 128, 344}, {3072, 344, 128}, {3072, 128, 374}};

    interface Op {
        NDArray run();
    }

    static double median(Op op, int reps) {
        return median(op, reps, 1);
    }

    /** Median µs of op; its outputs are freed {@code hold} at a time. */
    static double median(Op op, int reps, int hold) {
        java.util.List<NDArray> held = new java.util.ArrayList<>();
        double[] t = new double[reps];
        for (int i = -50; i < reps; i++) {
            long t0 = System.nanoTime();
            NDArray y = op.run();
            if (i >= 0) {
                t[i] = (System.nanoTime() - t0) / 1e3;
            }
            held.add(y);
            if (held.size() == hold) {
                held.forEach(NDArray::close);
                held.clear();
            }
        }
        held.forEach(NDArray::close);
        java.util.Arrays.sort(t);
        return t[reps / 2];
    }

    public static void main(String[] args) {
        int reps = Integer.parseInt(args[0]);
        int hold = args.length > 1 && args[1].equals("hold") ? 100 : 1;
        System.out.println("arithmetic: " + io.safetune.engine.Arithmetic.pin().key()); // before libtorch loads, as the lab does
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray one = m.create(new float[] {1f});
            NDArray two = m.create(new float[] {2f});
            median(() -> one.add(two), reps * 10); // warm-up round
            System.out.printf("one-element add (a native call)     %8.2f us%n", median(() -> one.add(two), reps * 10));
            for (long[] s : SHAPES) {
                NDArray x = m.randomNormal(new Shape(s[0], s[1]));
                NDArray w = m.randomNormal(new Shape(s[2], s[1]));
                NDArray gy = m.randomNormal(new Shape(s[0], s[2]));
                String shape = String.format("n=%d k=%d o=%d", s[0], s[1], s[2]);
                System.out.printf("linear x.W^T   %-22s %8.1f us%s%n", shape,
                        median(() -> Linear.linear(x, w).singletonOrThrow(), reps, hold), hold > 1 ? " (outputs held)" : "");
                System.out.printf("grad in gy.W   %-22s %8.1f us%n", shape, median(() -> gy.matMul(w), reps));
                System.out.printf("grad W gy^T.x  %-22s %8.1f us%n", shape, median(() -> gy.transpose().matMul(x), reps));
                x.close();
                w.close();
                gy.close();
            }
        }
    }
}
