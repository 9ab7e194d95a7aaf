package io.safetune.salora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

import io.safetune.checkpoint.AtomicFolders;
import io.safetune.checkpoint.DType;
import io.safetune.checkpoint.SafetensorsWriter;
import io.safetune.checkpoint.TensorStore;
import io.safetune.lora.BaseFingerprint;
import io.safetune.lora.Injection;
import io.safetune.lora.LoraAdapter;
import io.safetune.lora.LoraConfig;
import io.safetune.lora.PeftFormat;
import io.safetune.model.CausalLM;
import io.safetune.tokenizer.TextTokenizer;

import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A trained SaLoRA adapter (the fine-tune stage's: a plain LoRA on the aligned weights, B′ = [C·B, −C·B₀],
 * A′ = [A; A₀], rank 2r) exported the two ways the method's users need:
 * <ul>
 *   <li>{@link #merged}: the trained model, W + s·B′·A′ folded into every target, a Hugging Face folder;</li>
 *   <li>{@link #onResidualBase}: the adapter as SaLoRA trained it, B folded to C·B (rank r, exact since C is
 *       fixed), plus its residual base W′ = W − s·C·B₀·A₀ as its own Hugging Face folder, tied by a
 *       {@link BaseFingerprint}: loading the adapter on any other base is refused.</li>
 * </ul>
 */
public final class SaLoraExport {

    private SaLoraExport() {
    }

    /** (a) The trained model merged into the aligned weights, written to {@code out} as one unit (with the tokenizer). */
    public static void merged(Path aligned, Path stage, Path out) {
        try (CausalLM m = CausalLM.load(aligned); LoraAdapter a = LoraAdapter.load(m, stage)) {
            a.merge();
            AtomicFolders.writeFolder(out, name -> false, tmp -> {
                m.writeFiles(tmp, DType.F32);
                TextTokenizer.copyFiles(aligned, tmp);
            });
        }
    }

    /**
     * (b) The rank-r adapter (A, C·B) to {@code adapterOut} and the residual base W′ to {@code baseOut},
     * each written as one unit; the adapter's base_fingerprint.json names W′.
     */
    public static void onResidualBase(Path aligned, Path stage, Path adapterOut, Path baseOut) {
        PeftFormat.Parsed parsed = PeftFormat.readConfig(stage);
        LoraConfig two = parsed.config();
        if (!Files.isRegularFile(stage.resolve(SaLoraDefence.REPORT))) {
            throw new IllegalArgumentException("stage: " + stage + " has no " + SaLoraDefence.REPORT + " (not a SaLoRA fine-tune)");
        }
        SaLoraDefence.Report report = SaLoraDefence.Report.read(stage);
        boolean init = report.withInit();
        int r = report.r();
        if (r == 0) { // a salora.json written before it recorded r: rank 2r exactly when the initialisation was SaLoRA's
            init = report.settings().init() == SaLoraSettings.Init.TASK && two.r() % 2 == 0;
            r = init ? two.r() / 2 : two.r();
        }
        if (r < 1 || two.r() != (init ? 2 * r : r)) {
            throw new IllegalArgumentException(stage.resolve(SaLoraDefence.REPORT) + ": r = " + r + (init ? " with" : " without")
                    + " the initialisation, but the adapter's rank is " + two.r());
        }
        double s = two.scaling();
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        List<String> weights = new ArrayList<>();
        try (CausalLM m = CausalLM.load(aligned); TensorStore adapter = TensorStore.open(stage.resolve(PeftFormat.WEIGHTS))) {
            for (var target : Injection.targets(m, two.targetModules(), two::targetsLayer)) {
                String module = target.name();
                int dOut = (int) target.outFeatures();
                int dIn = (int) target.inFeatures();
                float[] a = adapter.readFloats(Injection.key(module, "lora_A")); // 2r × d_in (or r × d_in)
                float[] b = adapter.readFloats(Injection.key(module, "lora_B")); // d_out × 2r
                int rank = two.r();
                if (a.length != rank * dIn || b.length != dOut * rank) {
                    throw new io.safetune.checkpoint.CheckpointException(stage.resolve(PeftFormat.WEIGHTS),
                            Injection.key(module, "lora_A"), "shapes do not fit " + module + " (" + dOut + " × " + dIn + ") at rank " + rank);
                }
                float[] a1 = new float[r * dIn];
                System.arraycopy(a, 0, a1, 0, r * dIn);
                float[] b1 = new float[dOut * r];
                for (int row = 0; row < dOut; row++) {
                    System.arraycopy(b, row * rank, b1, row * r, r);
                }
                if (init) { // W′ = W + s·B′[:, r:]·A′[r:, :] = W − s·C·B₀·A₀
                    NDArray w = target.weight();
                    float[] wv = w.toType(DataType.FLOAT32, false).toFloatArray();
                    for (int row = 0; row < dOut; row++) {
                        for (int j = 0; j < r; j++) {
                            double bj = s * b[row * rank + r + j];
                            if (bj == 0) {
                                continue;
                            }
                            for (int c = 0; c < dIn; c++) {
                                wv[row * dIn + c] += (float) (bj * a[(r + j) * dIn + c]);
                            }
                        }
                    }
                    w.set(FloatBuffer.wrap(wv));
                }
                entries.add(SafetensorsWriter.Entry.ofFloats(Injection.key(module, "lora_A"), new long[] {r, dIn}, () -> a1, DType.F32));
                entries.add(SafetensorsWriter.Entry.ofFloats(Injection.key(module, "lora_B"), new long[] {dOut, r}, () -> b1, DType.F32));
                weights.add(module + ".weight");
            }
            AtomicFolders.writeFolder(baseOut, name -> false, tmp -> {
                m.writeFiles(tmp, DType.F32);
                TextTokenizer.copyFiles(aligned, tmp);
            });
            BaseFingerprint fingerprint = BaseFingerprint.of(m, weights, baseOut.toAbsolutePath().toString());
            LoraConfig one = new LoraConfig(r, s * r, two.dropout(), two.targetModules(), two.layers(), false);
            AtomicFolders.writeFolder(adapterOut, name -> false, tmp -> {
                PeftFormat.writeFiles(tmp, one, baseOut.toAbsolutePath().toString(), entries);
                fingerprint.write(tmp);
                Files.copy(stage.resolve(SaLoraDefence.REPORT), tmp.resolve(SaLoraDefence.REPORT));
            });
        }
    }
}
