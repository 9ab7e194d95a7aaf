package io.safetune.data;

import io.safetune.tokenizer.ChatMessage;
import io.safetune.tokenizer.ChatTemplate;
import io.safetune.tokenizer.TextTokenizer;
import io.safetune.data.TrainingExample;

import java.util.List;

/**
 * Turns prompt/response text into token ids for training: the prompt becomes a user turn of the chat
 * template (with the assistant header), the response follows and ends with EOS, and only the
 * response tokens carry loss.
 */
public final class ExampleEncoder {

    private final TextTokenizer tokenizer;
    private final ChatTemplate template;
    private final int eos;

    /** @param eos appended to every response; -1 for none */
    public ExampleEncoder(TextTokenizer tokenizer, ChatTemplate template, int eos) {
        this.tokenizer = tokenizer;
        this.template = template;
        this.eos = eos;
    }

    /** The prompt's ids as the model sees them at generation time. */
    public int[] prompt(String prompt) {
        return tokenizer.encode(template.format(List.of(new ChatMessage("user", prompt)), true), false);
    }

    public TrainingExample encode(PromptResponse r) {
        int[] response = tokenizer.encode(r.response(), false);
        if (eos >= 0) {
            response = java.util.Arrays.copyOf(response, response.length + 1);
            response[response.length - 1] = eos;
        }
        return new TrainingExample(prompt(r.prompt()), response);
    }

    public List<TrainingExample> encodeAll(List<PromptResponse> records) {
        return records.stream().map(this::encode).toList();
    }
}
