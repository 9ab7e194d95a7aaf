package io.safetune.testing;

import ai.djl.Device;

import io.safetune.checkpoint.DType;
import io.safetune.checkpoint.ModelConfig;
import io.safetune.model.CausalLM;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The shared reference fixtures (../shared/fixtures); a missing folder fails the test, never skips it. */
public final class Fixtures {

    private Fixtures() {
    }

    public static Path root() {
        String prop = System.getProperty("safetune.fixtures", "../shared/fixtures");
        Path p = Path.of(prop).toAbsolutePath().normalize();
        if (!Files.isDirectory(p)) {
            throw new IllegalStateException("reference fixtures not found at " + p
                    + " (CI checks out ../shared beside the project; set -Dsafetune.fixtures=...)");
        }
        return p;
    }

    public static Path get(String name) {
        Path p = root().resolve(name);
        if (!Files.exists(p)) {
            throw new IllegalStateException("fixture missing: " + p);
        }
        return p;
    }

    /**
     * A real checkpoint folder for command-line and pipeline tests: a small random Llama (d=32, 2 layers,
     * GQA 4/2) over the fixture BPE tokenizer's 157 ids, saved as F32 with that tokenizer.json.
     *
     * @param eos the end-of-sequence id written to config.json
     */
    public static Path tinyBpeCheckpoint(Path dir, int eos) throws IOException {
        return tinyBpeCheckpoint(dir, eos, 1);
    }

    /** The same shapes with weights drawn from another seed (e.g. a "base" beside an "aligned" one). */
    public static Path tinyBpeCheckpoint(Path dir, int eos, long seed) throws IOException {
        ModelConfig cfg = ModelConfig.llama(157, 32, 64, 2, 4, 2).withSpecialTokens(-1, List.of(eos), -1);
        try (CausalLM m = CausalLM.initialize(cfg, seed, Device.cpu())) {
            m.save(dir, DType.F32);
        }
        Files.copy(get("tokenizer-bpe/tokenizer.json"), dir.resolve("tokenizer.json"));
        return dir;
    }
}
