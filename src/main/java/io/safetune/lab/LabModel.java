package io.safetune.lab;

import io.safetune.data.ExampleEncoder;
import io.safetune.data.PromptResponse;
import io.safetune.train.LiveProgress;
import io.safetune.lora.LoraAdapter;
import io.safetune.lora.LoraConfig;
import io.safetune.model.CausalLM;
import io.safetune.model.Generation;
import io.safetune.model.GenerationConfig;
import io.safetune.model.Generator;
import io.safetune.tokenizer.ChatTemplate;
import io.safetune.tokenizer.TextTokenizer;
import io.safetune.train.TrainConfig;
import io.safetune.train.TrainListener;
import io.safetune.train.TrainResult;
import io.safetune.train.Trainer;
import io.safetune.data.TrainingExample;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A checkpoint ready for notebook work: the model, its tokenizer and chat template, and at most one
 * LoRA adapter attached at a time. Each method is one step of a tutorial: generate, train a LoRA
 * adapter (with a live progress bar), attach or detach an adapter.
 */
public final class LabModel implements AutoCloseable {

    private final Path dir;
    private final CausalLM lm;
    private final TextTokenizer tokenizer;
    private final ChatTemplate template;
    private LoraAdapter adapter;

    private LabModel(Path dir, CausalLM lm, TextTokenizer tokenizer, ChatTemplate template) {
        this.dir = dir;
        this.lm = lm;
        this.tokenizer = tokenizer;
        this.template = template;
    }

    /**
     * Loads a Hugging Face checkpoint folder (config.json, safetensors, tokenizer.json).
     *
     * @param chatTemplate "llama2", "llama3", "chatml", "qwen2" or "plain" (the micro-world's)
     */
    public static LabModel load(Path dir, String chatTemplate) {
        ChatTemplate t = ChatTemplate.byName(chatTemplate);
        CausalLM lm = CausalLM.load(dir);
        try {
            return new LabModel(dir, lm, TextTokenizer.load(dir), t);
        } catch (RuntimeException e) {
            lm.close();
            throw e;
        }
    }

    public Path dir() {
        return dir;
    }

    public CausalLM lm() {
        return lm;
    }

    public TextTokenizer tokenizer() {
        return tokenizer;
    }

    /** The attached adapter, or null. */
    public LoraAdapter adapter() {
        return adapter;
    }

    private int eos() {
        if (!tokenizer.eosTokenIds().isEmpty()) {
            return tokenizer.eosTokenIds().get(0);
        }
        return lm.config().eosTokenIds().isEmpty() ? -1 : lm.config().eosTokenIds().get(0);
    }

    private List<Integer> eosIds() {
        List<Integer> ids = new ArrayList<>(tokenizer.eosTokenIds());
        lm.config().eosTokenIds().forEach(i -> {
            if (!ids.contains(i)) {
                ids.add(i);
            }
        });
        return ids;
    }

    /** Greedy answers (up to 64 new tokens) to each prompt, through the chat template. */
    public Generations generate(List<String> prompts) {
        return generate(prompts, GenerationConfig.greedy(64));
    }

    public Generations generate(String... prompts) {
        return generate(Arrays.asList(prompts));
    }

    public Generations generate(List<String> prompts, GenerationConfig cfg) {
        ExampleEncoder enc = new ExampleEncoder(tokenizer, template, eos());
        List<int[]> ids = prompts.stream().map(p -> enc.encode(new PromptResponse(p, "")).promptIds()).toList();
        List<Generation> out = new Generator(lm, tokenizer::decode).generate(ids, cfg.withEos(eosIds()));
        List<Generations.Row> rows = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            Generation g = out.get(i);
            rows.add(new Generations.Row(prompts.get(i), g.text().strip(), g.stopReason(), g.tokens().length));
        }
        return new Generations(rows);
    }

    /**
     * Trains a fresh LoRA adapter on prompt/response pairs (loss on responses only), shows one in-place
     * progress bar, and leaves the adapter attached. A previously attached adapter is detached first.
     */
    public TrainedLora trainLora(List<PromptResponse> data, LoraConfig lora, TrainConfig training, TrainListener... extra) {
        detach();
        ExampleEncoder enc = new ExampleEncoder(tokenizer, template, eos());
        List<TrainingExample> examples = data.stream().map(enc::encode).toList();
        adapter = LoraAdapter.inject(lm, lora, training.seed()).baseModel(dir.toString());
        List<TrainListener> listeners = new ArrayList<>(List.of(extra));
        listeners.add(LiveProgress.auto());
        try (Trainer t = new Trainer(lm, training)) {
            TrainResult r = t.fit(examples, TrainListener.of(listeners.toArray(TrainListener[]::new)));
            return new TrainedLora(adapter, r);
        }
    }

    /**
     * Attaches a PEFT adapter folder in place of the current one, all or nothing: the folder is read
     * and checked before the current adapter is detached, so a bad folder leaves the model (and the
     * adapter it had) exactly as they were.
     */
    public LabModel attach(Path adapterDir) {
        LoraAdapter next = LoraAdapter.read(lm, adapterDir);
        try {
            detach();
            adapter = next.attach();
        } catch (RuntimeException e) {
            next.close();
            throw e;
        }
        return this;
    }

    /** Detaches and frees the current adapter: the model is the checkpoint again. */
    public LabModel detach() {
        if (adapter != null) {
            adapter.close();
            adapter = null;
        }
        return this;
    }

    @Override
    public void close() {
        detach();
        tokenizer.close();
        lm.close();
    }

    @Override
    public String toString() {
        return "LabModel[" + dir + ", " + lm.config().numLayers() + " layers, d=" + lm.config().hiddenSize()
                + (adapter == null ? "" : ", adapter r=" + adapter.config().r() + " on " + adapter.config().targetModules()) + "]";
    }
}
