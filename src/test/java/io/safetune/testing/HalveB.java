package io.safetune.testing;

import io.safetune.checkpoint.TensorStore;
import io.safetune.lora.PeftFormat;
import io.safetune.method.NoSettings;
import io.safetune.method.PostProcessDefence;
import io.safetune.method.PostProcessInputs;
import io.safetune.method.PostProcessOutput;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A toy post-process that lives only in the test sources: every B halved (so every update s·B·A
 * halved). Registered through META-INF/services, it runs through the story like a built-in defence.
 */
public final class HalveB implements PostProcessDefence<NoSettings> {

    public static final String NAME = "halve-b";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "toy: every LoRA B halved";
    }

    @Override
    public Class<NoSettings> configType() {
        return NoSettings.class;
    }

    @Override
    public NoSettings defaultConfig() {
        return new NoSettings();
    }

    @Override
    public PostProcessOutput postProcess(PostProcessInputs in, NoSettings config, Path out) {
        Map<String, float[]> halved = new LinkedHashMap<>();
        try (TensorStore adapter = TensorStore.open(in.adapter().resolve(PeftFormat.WEIGHTS))) {
            for (String key : adapter.names()) {
                if (key.endsWith(".lora_B.weight")) {
                    float[] b = adapter.readFloats(key);
                    for (int i = 0; i < b.length; i++) {
                        b[i] *= 0.5f;
                    }
                    halved.put(key, b);
                }
            }
        }
        PeftFormat.rewrite(in.adapter(), halved, out, dir -> { });
        return PostProcessOutput.adapter();
    }
}
