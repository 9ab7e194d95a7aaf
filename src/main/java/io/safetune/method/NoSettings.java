package io.safetune.method;

/** The config of a defence without settings (the story's default align and fine-tune). */
public record NoSettings() implements DefenceConfig {
}
