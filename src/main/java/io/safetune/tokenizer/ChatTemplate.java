package io.safetune.tokenizer;

import java.util.List;

/**
 * Renders a conversation into the exact prompt text a chat model was trained on. The built-in
 * templates reproduce the models' own Jinja templates character for character (tests compare them
 * with transformers' {@code apply_chat_template}); a model fine-tuned or evaluated with a slightly
 * different prompt behaves differently, and safety results stop being comparable.
 *
 * <p>For every template, {@code format(m[0..k-1], true)} is a prefix of {@code format(m[0..k],
 * false)} when message k is the assistant's answer, so the answer's tokens (for a loss on responses
 * only) are those after the prompt's.
 */
public interface ChatTemplate {

    /**
     * Renders messages to text; encode it with {@code addSpecialTokens=false}, since the text already
     * holds the bos token where the model expects one.
     *
     * @param messages the conversation, not empty
     * @param addGenerationPrompt whether to end with the header that makes the model answer as the
     *     assistant (Llama-2's template has none: its text already ends with {@code [/INST]})
     * @throws IllegalArgumentException if the template cannot express the conversation (the message
     *     says why)
     */
    String format(List<ChatMessage> messages, boolean addGenerationPrompt);

    /** The name {@link #byName(String)} knows this template by. */
    String name();

    /** The built-in templates' names: what an experiment file or {@link #byName} takes. */
    String LLAMA2 = "llama2";
    String LLAMA3 = "llama3";
    String CHATML = "chatml";
    String QWEN2 = "qwen2";
    /** The micro-world's template. */
    String PLAIN = "plain";

    /**
     * A built-in template by name: {@code llama2}, {@code llama3}, {@code chatml}, {@code qwen2},
     * {@code plain} (case-insensitive).
     *
     * @throws IllegalArgumentException for an unknown name (the message lists the known ones)
     */
    static ChatTemplate byName(String name) {
        return ChatTemplates.byName(name);
    }
}
