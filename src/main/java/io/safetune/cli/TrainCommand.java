package io.safetune.cli;

import io.safetune.checkpoint.AtomicFolders;
import io.safetune.checkpoint.DType;
import io.safetune.data.ExampleEncoder;
import io.safetune.data.Jsonl;
import io.safetune.lora.LoraAdapter;
import io.safetune.lora.LoraConfig;
import io.safetune.model.CausalLM;
import io.safetune.safelora.SafeLoraConfig;
import io.safetune.safelora.SafeLoraResult;
import io.safetune.safelora.SafeLoraTraining;
import io.safetune.tokenizer.ChatTemplate;
import io.safetune.tokenizer.TextTokenizer;
import io.safetune.train.ProgressBar;
import io.safetune.train.ScheduleType;
import io.safetune.train.TrainConfig;
import io.safetune.train.TrainResult;
import io.safetune.train.Trainer;
import io.safetune.data.TrainingExample;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Fine-tunes a checkpoint on prompt/response JSONL ({\"prompt\": ..., \"response\": ...} per line),",
            "with LoRA (default; writes a PEFT adapter to --out) or --full (writes a checkpoint folder).",
            "Loss is on response tokens only. Checkpoints under --out/checkpoints resume with --resume."})
final class TrainCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "checkpoint folder (with tokenizer.json)")
    Path model;

    @Option(names = "--data", required = true, paramLabel = "FILE", description = "training JSONL")
    Path data;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output folder")
    Path out;

    @Option(names = "--chat-template", defaultValue = "llama2", description = "llama2, llama3, chatml or plain (default ${DEFAULT-VALUE})")
    String chatTemplate;

    @Option(names = "--full", description = "full fine-tuning instead of LoRA")
    boolean full;

    @Option(names = "--lora-r", defaultValue = "8", description = "default ${DEFAULT-VALUE}")
    int r;

    @Option(names = "--lora-alpha", defaultValue = "16", description = "default ${DEFAULT-VALUE}")
    double alpha;

    @Option(names = "--lora-dropout", defaultValue = "0.05", description = "default ${DEFAULT-VALUE}")
    double dropout;

    @Option(names = "--targets", defaultValue = "q_proj,v_proj", split = ",", description = "default ${DEFAULT-VALUE}")
    List<String> targets;

    @Option(names = "--layers", split = ",", description = "layer indices to adapt (default: all)")
    List<Integer> layers = List.of();

    @Option(names = "--rslora", description = "alpha / sqrt(r) scaling")
    boolean rslora;

    @Option(names = "--lr", defaultValue = "1e-4", description = "peak learning rate (default ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--weight-decay", defaultValue = "0", description = "AdamW decoupled weight decay")
    double weightDecay;

    @Option(names = "--schedule", defaultValue = "LINEAR", description = "LINEAR, COSINE or CONSTANT (default ${DEFAULT-VALUE})")
    ScheduleType schedule;

    @Option(names = "--warmup-ratio", defaultValue = "0", description = "warm-up fraction of all steps")
    double warmupRatio;

    @Option(names = "--epochs", defaultValue = "1", description = "default ${DEFAULT-VALUE}")
    int epochs;

    @Option(names = "--max-steps", defaultValue = "0", description = "optimiser steps (overrides --epochs)")
    int maxSteps;

    @Option(names = "--batch-size", defaultValue = "4", description = "default ${DEFAULT-VALUE}")
    int batchSize;

    @Option(names = "--grad-accum", defaultValue = "1", description = "micro-batches per step")
    int gradAccum;

    @Option(names = "--max-grad-norm", defaultValue = "1.0", description = "0 disables clipping")
    double maxGradNorm;

    @Option(names = "--max-length", defaultValue = "512", description = "truncate prompt+response to this many tokens")
    int maxLength;

    @Option(names = "--seed", defaultValue = "42", description = "data order and dropout")
    long seed;

    @Option(names = "--checkpoint-every", defaultValue = "0", description = "steps between checkpoints (0: at the end)")
    int checkpointEvery;

    @Option(names = "--resume", paramLabel = "CHECKPOINT", description = {"continue from a checkpoint folder; every flag that shapes the",
        "run (LoRA and training settings, data) must match the checkpoint's, or the resume is refused"})
    Path resume;

    @Option(names = "--safelora-base", paramLabel = "DIR", description = {"Safe LoRA when training ends: the unaligned base of",
        "--model (the aligned model). --out then holds the projected adapter (+ safelora.json/csv), and",
        "--out/" + SafeLoraTraining.BEFORE + " the adapter as trained. LoRA only."})
    Path safeLoraBase;

    @Option(names = "--safelora-num-proj-layers", defaultValue = "10", description = "Safe LoRA's k, number mode (default ${DEFAULT-VALUE})")
    int safeLoraK;

    @Option(names = "--safelora-tau", description = "Safe LoRA in threshold mode with this tau instead of number mode")
    Double safeLoraTau;

    @Mixin
    DeviceOption device;

    @Override
    public Integer call() throws IOException {
        if (full && safeLoraBase != null) {
            throw new IllegalArgumentException("--safelora-base: Safe LoRA projects a LoRA adapter; it does not apply to --full");
        }
        try (CausalLM m = CausalLM.load(model, device.get()); TextTokenizer tok = TextTokenizer.load(model)) {
            int eos = !tok.eosTokenIds().isEmpty() ? tok.eosTokenIds().get(0)
                    : m.config().eosTokenIds().isEmpty() ? -1 : m.config().eosTokenIds().get(0);
            List<TrainingExample> examples = new ExampleEncoder(tok, ChatTemplate.byName(chatTemplate), eos)
                    .encodeAll(Jsonl.read(data));
            LoraAdapter adapter = null;
            if (full) {
                m.unfreezeAll();
            } else {
                adapter = LoraAdapter.inject(m, new LoraConfig(r, alpha, dropout, targets, layers, rslora), seed)
                        .baseModel(model.toAbsolutePath().toString());
            }
            final LoraAdapter a = adapter;
            try {
                TrainConfig tc = TrainConfig.builder().learningRate(lr).weightDecay(weightDecay).schedule(schedule)
                        .warmupRatio(warmupRatio).epochs(epochs).maxSteps(maxSteps).batchSize(batchSize)
                        .gradAccumSteps(gradAccum).maxGradNorm(maxGradNorm).maxLength(maxLength).seed(seed)
                        .checkpointEvery(checkpointEvery).build();
                TrainResult result;
                try (Trainer t = resume == null ? new Trainer(m, tc) : Trainer.fromCheckpoint(resume, m, tc)) {
                    if (resume == null) {
                        t.withCheckpointDir(out.resolve("checkpoints"));
                    }
                    if (a != null) {
                        t.withExporter(a::writeFiles);
                    }
                    result = t.fit(examples, ProgressBar.auto());
                }
                if (a != null && safeLoraBase != null) {
                    SafeLoraConfig sc = safeLoraTau != null ? SafeLoraConfig.threshold(safeLoraTau) : SafeLoraConfig.number(safeLoraK);
                    SafeLoraResult sr = SafeLoraTraining.projectTrained(a, safeLoraBase, model, sc, out);
                    System.out.println(sr.toTable().print());
                    System.out.printf("safe lora: projected %d of %d weights%n", sr.numProjected(), sr.weights().size());
                } else if (a != null) {
                    a.save(out);
                } else {
                    // model and tokenizer as one folder; everything else in --out (checkpoints/, data, notes) stays
                    AtomicFolders.writeFolder(out, name -> !CausalLM.isModelFile(name)
                            && !name.equals(TextTokenizer.TOKENIZER_FILE), tmp -> {
                        m.writeFiles(tmp, DType.F32);
                        Files.copy(tok.file(), tmp.resolve(TextTokenizer.TOKENIZER_FILE));
                    });
                }
                System.out.println(result);
                System.out.println("wrote " + out + (a != null ? " (PEFT adapter)" : " (checkpoint)"));
                return 0;
            } finally {
                if (a != null) {
                    a.close();
                }
            }
        }
    }
}
