package io.safetune.method;

import java.nio.file.Path;

/** Fills the fine-tune slot: trains an adapter on the user's (possibly harmful) data. */
public non-sealed interface FineTuneDefence<C extends DefenceConfig> extends Defence<C> {

    /** The stage's file of HED over the fine-tune's steps (an {@code eval.DriftSeries}), which the story reads. */
    String DRIFT_FILE = "drift.json";

    @Override
    default Slot slot() {
        return Slot.FINE_TUNE;
    }

    /**
     * Fine-tunes {@code in.aligned()} on {@code in.data()} and writes into {@code out} the PEFT adapter
     * (adapter_config.json, adapter_model.safetensors), train.json ({@link TrainLog}) and drift.json
     * (HED on {@code in.hedInputs()} over the steps, an {@code eval.DriftSeries}).
     */
    void fineTune(FineTuneInputs in, C config, Path out) throws Exception;
}
