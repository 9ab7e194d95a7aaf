package io.safetune.standard;

import io.safetune.eval.DriftConfig;
import io.safetune.eval.DriftTracker;
import io.safetune.lora.LoraAdapter;
import io.safetune.method.FineTuneDefence;
import io.safetune.method.FineTuneInputs;
import io.safetune.method.Json;
import io.safetune.method.NoSettings;
import io.safetune.method.TrainLog;
import io.safetune.model.CausalLM;
import io.safetune.train.ProgressBar;
import io.safetune.train.TrainListener;
import io.safetune.train.TrainResult;
import io.safetune.train.Trainer;

import java.nio.file.Path;

/**
 * The story's default fine-tune: a fresh LoRA adapter (A Kaiming-uniform, B = 0) on the aligned model,
 * trained on the user's data while Harmful Embedding Drift is recorded.
 */
public final class PlainLora implements FineTuneDefence<NoSettings> {

    public static final String NAME = "lora";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "plain LoRA on the user's data (the default fine-tune)";
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
    public void fineTune(FineTuneInputs in, NoSettings config, Path out) {
        // plain LoRA reads no safety data
        try (CausalLM model = CausalLM.load(in.aligned());
                LoraAdapter adapter = LoraAdapter.inject(model, in.lora(), in.training().seed()).baseModel(in.baseModel());
                Trainer trainer = new Trainer(model, in.training())) {
            DriftTracker drift = DriftTracker.fromStart(model, in.hedInputs(), in.driftEvery(), DriftConfig.defaults());
            TrainResult r = trainer.fit(in.data(), TrainListener.of(drift, new ProgressBar(in.log(), System.console() != null, 50)));
            adapter.writeFiles(out); // the stage's own work folder, renamed into place whole
            Json.write(out.resolve(TrainLog.FILE), TrainLog.of(r, in.data().size()));
            Json.write(out.resolve(DRIFT_FILE), drift.series());
        }
    }
}
