package io.safetune.standard;

import io.safetune.checkpoint.DType;
import io.safetune.method.AlignDefence;
import io.safetune.method.AlignInputs;
import io.safetune.method.Json;
import io.safetune.method.AlignFlow;
import io.safetune.method.AlignmentLora;
import io.safetune.method.TrainLog;
import io.safetune.model.CausalLM;
import io.safetune.tokenizer.TextTokenizer;
import io.safetune.train.ProgressBar;
import io.safetune.train.TrainConfig;
import io.safetune.train.Trainer;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The story's default alignment: supervised fine-tuning on harmful prompts with refusals and benign
 * replay (the alignment set the source gives): every weight with the story's optimiser (FULL), or the
 * reference's alignment adapter, merged (LORA; {@link SftSettings}).
 */
public final class Sft implements AlignDefence<SftSettings> {

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
    public Class<SftSettings> configType() {
        return SftSettings.class;
    }

    @Override
    public SftSettings defaultConfig() {
        return SftSettings.defaults();
    }

    @Override
    public void align(AlignInputs in, SftSettings config, Path out) throws IOException {
        TextTokenizer.copyFiles(in.base(), out);
        AlignmentLora lora = AlignmentLora.REFERENCE;
        AlignFlow flow = config.flow(in.flow());
        TrainConfig t = lora.training(flow, in.training());
        try (CausalLM model = CausalLM.load(in.base())) {
            in.log().println("[aligned] " + (flow == AlignFlow.LORA ? "LORA flow, " : "") + in.data().size()
                    + " examples, " + t.maxSteps() + " steps of " + t.batchSize());
            TrainLog log = lora.train(model, flow, t.seed(), () -> {
                try (Trainer trainer = new Trainer(model, t)) {
                    return TrainLog.of(trainer.fit(in.data(), new ProgressBar(in.log(), System.console() != null, 50)),
                            in.data().size());
                }
            });
            model.writeFiles(out, DType.F32); // out is the stage's own work folder: its rename is the atomic step
            Json.write(out.resolve(TrainLog.FILE), log);
        }
    }
}
