package io.safetune.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.safetune.checkpoint.AtomicFiles;
import io.safetune.checkpoint.AtomicFolders;
import io.safetune.checkpoint.CheckpointException;
import io.safetune.checkpoint.DType;
import io.safetune.checkpoint.SafetensorsWriter;
import io.safetune.checkpoint.TensorStore;
import io.safetune.lora.PeftFormat;
import io.safetune.safelora.SafeLoraConfig;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The reference's algorithm (IBM/SafeLoRA), op for op in libtorch fp32 through DJL, kept only to be
 * measured against {@link io.safetune.safelora.SafeLora}: {@code get_aligned_matrix} forms
 * C = V Vᵀ / ‖V‖_F (d_out × d_out) for every adapted weight and keeps all of them (4 GiB for the q/v
 * weights of a 7B model), then {@code projected_weighted} computes W = C·B, cos(flatten(W·A),
 * flatten(B·A)) as torch's {@code cosine_similarity}, and sets B ← C·B for the selected weights (number
 * mode: a first pass for all cosines, τ = the k-th smallest, then a second pass). Two departures, both
 * to compare the algorithm rather than artefacts: the cosine is not rounded to 5 decimals, and ‖V‖_F is
 * computed as √(ΣV²) rather than with libtorch's CPU {@code norm()} (see {@link #run}).
 */
final class DenseSafeLora {

    /** Written beside the projected adapter: τ and one row per weight. */
    static final String REPORT = "dense.json";

    private static final Pattern KEY_A = Pattern.compile("base_model\\.model\\.(.+)\\.lora_A\\.weight");

    private DenseSafeLora() {
    }

    /** One adapted weight's cosine and whether B was replaced. */
    record Row(String weight, double cosine, boolean projected) {
    }

    record Result(double tau, List<Row> rows) {
    }

    private record Target(String weight, String keyA, String keyB, int layer) {
    }

    /**
     * Runs the dense algorithm and writes {@code outDir}/adapter_model.safetensors (every tensor of the
     * adapter, B replaced where projected, F32) and {@link #REPORT}. Only the mode, k and τ of {@code cfg}
     * are used: the reference has one projector (C = V Vᵀ/‖V‖_F) and computes in fp32.
     */
    static Result run(Path base, Path aligned, Path adapterDir, SafeLoraConfig cfg, Path outDir) {
        Path weightsFile = adapterDir.resolve(PeftFormat.WEIGHTS);
        try (TensorStore adapter = TensorStore.open(weightsFile);
                TensorStore baseStore = TensorStore.open(base);
                TensorStore alignedStore = TensorStore.open(aligned);
                NDManager root = NDManager.newBaseManager(Device.cpu())) {
            List<Target> targets = targets(adapter, weightsFile);
            // get_aligned_matrix: C for every weight, all kept
            List<NDArray> cs = new ArrayList<>();
            for (Target t : targets) {
                try (NDManager step = root.newSubManager()) {
                    NDArray v = alignedStore.read(t.weight(), step).sub(baseStore.read(t.weight(), step));
                    // ‖V‖_F as a sum of squares: libtorch 2.7.1's CPU norm() of a 4096 × 4096 fp32 tensor is off by
                    // up to 6e-4 relative (it accumulates in fp32); sum() is pairwise, as torch.norm is on the GPU the
                    // reference runs on, and stays within 1e-7
                    NDArray c = v.matMul(v.transpose()).div(v.mul(v).sum().sqrt());
                    c.attach(root);
                    cs.add(c);
                }
            }
            // projected_weighted, first pass: every cosine
            double[] cos = new double[targets.size()];
            for (int i = 0; i < targets.size(); i++) {
                Target t = targets.get(i);
                try (NDManager step = root.newSubManager()) {
                    NDArray a = adapter.read(t.keyA(), step);
                    NDArray b = adapter.read(t.keyB(), step);
                    NDArray w = own(cs.get(i).matMul(b), step); // C·B would belong to C's (long-lived) manager
                    NDArray fw = w.matMul(a).flatten();
                    NDArray ori = b.matMul(a).flatten();
                    double dot = fw.mul(ori).sum().getFloat();
                    double n1 = fw.mul(fw).sum().getFloat();
                    double n2 = ori.mul(ori).sum().getFloat();
                    cos[i] = dot / Math.sqrt(Math.max(n1 * n2, 1e-16)); // torch: eps = 1e-8 on the norm product
                }
            }
            double tau = cfg.mode() == SafeLoraConfig.Mode.THRESHOLD ? cfg.tau() : kthSmallest(cos, cfg.numProjLayers());
            // second pass: B ← C·B where cos ≤ τ
            Map<String, float[]> newB = new LinkedHashMap<>();
            List<Row> rows = new ArrayList<>();
            for (int i = 0; i < targets.size(); i++) {
                Target t = targets.get(i);
                boolean projected = cos[i] <= tau;
                if (projected) {
                    try (NDManager step = root.newSubManager()) {
                        NDArray b = adapter.read(t.keyB(), step);
                        newB.put(t.keyB(), own(cs.get(i).matMul(b), step).toFloatArray());
                    }
                }
                rows.add(new Row(t.weight(), cos[i], projected));
            }
            Result result = new Result(tau, rows);
            // weights and report as one unit, so a report never describes another run's weights
            AtomicFolders.writeFolder(outDir, name -> !name.equals(PeftFormat.WEIGHTS) && !name.equals(REPORT), tmp -> {
                write(adapter, newB, tmp);
                AtomicFiles.writeString(tmp.resolve(REPORT), toJson(result));
            });
            return result;
        }
    }

    private static NDArray own(NDArray x, NDManager m) {
        x.attach(m);
        return x;
    }

    private static double kthSmallest(double[] cos, int k) {
        double[] sorted = cos.clone();
        Arrays.sort(sorted);
        return sorted[Math.min(k, sorted.length) - 1];
    }

    /** The adapted weights in layer order, as the reference walks the model's parameters. */
    private static List<Target> targets(TensorStore adapter, Path file) {
        List<Target> targets = new ArrayList<>();
        for (String key : adapter.names()) {
            Matcher m = KEY_A.matcher(key);
            if (m.matches()) {
                String keyB = PeftFormat.key(m.group(1), 'B');
                if (!adapter.contains(keyB)) {
                    throw new CheckpointException(file, keyB, "missing tensor (its lora_A partner is present)");
                }
                int layer = io.safetune.model.ModuleName.parse(m.group(1)).map(io.safetune.model.ModuleName::layer).orElse(-1);
                targets.add(new Target(m.group(1) + ".weight", key, keyB, layer));
            }
        }
        if (targets.isEmpty()) {
            throw new CheckpointException(file, null, "no LoRA weights in this adapter");
        }
        targets.sort(Comparator.comparingInt(Target::layer));
        return targets;
    }

    private static void write(TensorStore adapter, Map<String, float[]> newB, Path outDir) {
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        for (String key : adapter.names()) {
            float[] projected = newB.get(key);
            entries.add(SafetensorsWriter.Entry.ofFloats(key, adapter.info(key).shape(),
                    projected != null ? () -> projected : () -> adapter.readFloats(key), DType.F32));
        }
        SafetensorsWriter.write(outDir.resolve(PeftFormat.WEIGHTS), entries, Map.of("format", "pt"));
    }

    private static String toJson(Result r) {
        ObjectNode n = new ObjectMapper().createObjectNode();
        n.put("tau", r.tau());
        ArrayNode rows = n.putArray("weights");
        for (Row row : r.rows()) {
            rows.addObject().put("weight", row.weight()).put("cosine", row.cosine()).put("projected", row.projected());
        }
        return n.toPrettyString();
    }
}
