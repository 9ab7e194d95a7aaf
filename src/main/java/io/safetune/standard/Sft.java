package io.safetune.standard;

import io.safetune.checkpoint.DType;
import io.safetune.method.AlignDefence;
import io.safetune.method.AlignInputs;
import io.safetune.method.Json;
import io.safetune.method.NoSettings;
import io.safetune.method.TrainLog;
import io.safetune.model.CausalLM;
import io.safetune.tokenizer.TextTokenizer;
import io.safetune.train.ProgressBar;
import io.safetune.train.TrainConfig;
import io.safetune.train.Trainer;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The story's default alignment: supervised fine-tuning of every weight on harmful prompts with
 * refusals and benign replay (the alignment set the source gives), with the story's optimiser.
 */
public final class Sft implements AlignDefence<NoSettings> {

    public static final String NAME = "sft";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "supervised fine-tuning of all weights on refusals and benign replay (the default alignment)";
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
    public void align(AlignInputs in, NoSettings config, Path out) throws IOException {
        TextTokenizer.copyFiles(in.base(), out);
        TrainConfig t = in.training();
        try (CausalLM model = CausalLM.load(in.base())) {
            model.unfreezeAll();
            in.log().println("[aligned] " + in.data().size() + " examples, " + t.maxSteps() + " steps of " + t.batchSize());
            TrainLog log;
            try (Trainer trainer = new Trainer(model, t)) {
                log = TrainLog.of(trainer.fit(in.data(), new ProgressBar(in.log(), System.console() != null, 50)),
                        in.data().size());
            }
            model.writeFiles(out, DType.F32); // out is the stage's own work folder: its rename is the atomic step
            Json.write(out.resolve(TrainLog.FILE), log);
        }
    }
}
