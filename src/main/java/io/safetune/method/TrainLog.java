package io.safetune.method;

import io.safetune.train.TrainResult;

import java.util.List;

/** What a training stage records beside its weights (train.json): the story reads the losses. */
public record TrainLog(List<Double> losses, double wallSeconds, double tokensPerSecond, int examples, long steps) {

    public static final String FILE = "train.json";

    public static TrainLog of(TrainResult r, int examples) {
        return new TrainLog(r.losses(), r.wallSeconds(), r.tokensPerSecond(), examples, r.finalStep());
    }
}
