package io.safetune.cli;

import io.safetune.salora.SaLoraExport;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "salora-export", mixinStandardHelpOptions = true,
        description = {"Exports a SaLoRA fine-tune (a stage folder of `reproduce`, or any adapter SaLoRA wrote on the aligned",
            "model) (a) merged into the aligned checkpoint, and/or (b) as SaLoRA trained it: a rank-r PEFT adapter with B",
            "folded to C·B plus its residual base W' as its own Hugging Face folder; the adapter refuses any other base."})
final class SaLoraExportCommand implements Callable<Integer> {

    @Option(names = "--aligned", required = true, paramLabel = "DIR", description = "the aligned checkpoint SaLoRA was trained on")
    Path aligned;

    @Option(names = "--stage", required = true, paramLabel = "DIR", description = "the fine-tune stage (adapter + salora.json)")
    Path stage;

    @Option(names = "--merged", paramLabel = "DIR", description = "(a) write the merged model here")
    Path merged;

    @Option(names = "--adapter", paramLabel = "DIR", description = "(b) write the rank-r adapter here (needs --residual-base)")
    Path adapter;

    @Option(names = "--residual-base", paramLabel = "DIR", description = "(b) write the residual base W' here")
    Path residualBase;

    @Override
    public Integer call() {
        if (merged == null && adapter == null) {
            throw new IllegalArgumentException("salora-export: give --merged DIR, or --adapter DIR with --residual-base DIR, or both");
        }
        if ((adapter == null) != (residualBase == null)) {
            throw new IllegalArgumentException("--adapter and --residual-base: give both (the adapter is only valid on that base)");
        }
        if (merged != null) {
            SaLoraExport.merged(aligned, stage, merged);
            System.out.println("wrote " + merged + " (the trained model, merged)");
        }
        if (adapter != null) {
            SaLoraExport.onResidualBase(aligned, stage, adapter, residualBase);
            System.out.println("wrote " + adapter + " (PEFT LoRA, B folded to C·B) and " + residualBase + " (its base W')");
        }
        return 0;
    }
}
