package io.safetune.safelora;

import io.safetune.checkpoint.AtomicFolders;
import io.safetune.method.PostProcessDefence;
import io.safetune.method.PostProcessInputs;
import io.safetune.method.PostProcessOutput;
import io.safetune.method.Variant;

import java.nio.file.Path;
import java.util.List;

/** Safe LoRA as a post-process: B ← C·B on the selected weights (the projected adapter, safelora.json). */
public final class SafeLoraDefence implements PostProcessDefence<SafeLoraSelection> {

    public static final String NAME = "safelora";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "Safe LoRA (Hsu et al. 2024): the least safety-aligned LoRA updates projected onto V = W_aligned - W_base";
    }

    @Override
    public Class<SafeLoraSelection> configType() {
        return SafeLoraSelection.class;
    }

    @Override
    public SafeLoraSelection defaultConfig() {
        return SafeLoraSelection.defaults();
    }

    @Override
    public PostProcessOutput postProcess(PostProcessInputs in, SafeLoraSelection config, Path out) {
        Path base = in.requireBase(NAME);
        if (config.tolerance() == null) {
            SafeLoraResult r = SafeLora.apply(base, in.aligned(), in.adapter(), config.config(), out);
            in.log().printf("   safe lora: %d of %d weights projected%n", r.numProjected(), r.weights().size());
            return PostProcessOutput.adapter();
        }
        Path work = out.resolve("tuning");
        SafeLoraTuning.Record t = SafeLoraTuning.choose(in, base, config, work);
        if (t.chosenK() == 0) {
            SafeLoraControls.uniformScale(in.adapter(), 1.0, out); // no k qualifies: the adapter as trained
        } else {
            SafeLora.apply(base, in.aligned(), in.adapter(), config.withK(t.chosenK()).config(), out);
        }
        SafeLoraTuning.write(out, t);
        List<Variant> curve = SafeLoraTuning.curve(in, t, work);
        AtomicFolders.deleteQuietly(work); // each k's adapter served the rule and the curve; the stage keeps the chosen one
        return new PostProcessOutput(true, curve);
    }
}
