package io.safetune.model;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One linear layer of a Llama-family decoder by name: its layer index and module, and the Hugging Face
 * path they make ({@code model.layers.3.self_attn.q_proj}). The one type for module names: configs,
 * adapters, hooks and Safe LoRA's per-weight rows parse and print through it.
 *
 * @param layer  the decoder layer, from 0
 * @param module which linear layer of it
 */
public record ModuleName(int layer, Linear module) {

    /** The seven linear layers of a decoder layer, with their Hugging Face names and parents. */
    public enum Linear {
        Q_PROJ("q_proj", "self_attn"),
        K_PROJ("k_proj", "self_attn"),
        V_PROJ("v_proj", "self_attn"),
        O_PROJ("o_proj", "self_attn"),
        GATE_PROJ("gate_proj", "mlp"),
        UP_PROJ("up_proj", "mlp"),
        DOWN_PROJ("down_proj", "mlp");

        private final String hf;
        private final String parent;

        Linear(String hf, String parent) {
            this.hf = hf;
            this.parent = parent;
        }

        /** The Hugging Face name, e.g. {@code q_proj}. */
        public String hfName() {
            return hf;
        }

        /** The sub-module it sits in: {@code self_attn} or {@code mlp}. */
        public String parent() {
            return parent;
        }

        /** The module a Hugging Face name ({@code q_proj}) or constant ({@code Q_PROJ}) names, or an error listing them. */
        public static Linear of(String name) {
            for (Linear l : values()) {
                if (l.hf.equals(name) || l.name().equals(name)) {
                    return l;
                }
            }
            throw new IllegalArgumentException("unknown module '" + name + "' (known: " + hfNames() + ")");
        }

        /** Every Hugging Face name, in the decoder's order. */
        public static List<String> hfNames() {
            return Arrays.stream(values()).map(Linear::hfName).toList();
        }

        @Override
        public String toString() {
            return hf;
        }
    }

    private static final Pattern PATH = Pattern.compile("(?:.*\\.)?layers\\.(\\d+)\\.(self_attn|mlp)\\.([a-z_]+)");

    public ModuleName {
        if (layer < 0) {
            throw new IllegalArgumentException("layer: must be >= 0, got " + layer);
        }
        if (module == null) {
            throw new IllegalArgumentException("module: must be given");
        }
    }

    public static ModuleName of(int layer, String module) {
        return new ModuleName(layer, Linear.of(module));
    }

    /**
     * The module a path names: {@code model.layers.3.self_attn.q_proj}, or any prefix before
     * {@code layers.} (PEFT's {@code base_model.model.model.layers…}); empty when it names none.
     */
    public static Optional<ModuleName> parse(String path) {
        Matcher m = PATH.matcher(path);
        if (!m.matches()) {
            return Optional.empty();
        }
        try {
            Linear l = Linear.of(m.group(3));
            return l.parent().equals(m.group(2)) ? Optional.of(new ModuleName(Integer.parseInt(m.group(1)), l)) : Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** The Hugging Face path, e.g. {@code model.layers.3.self_attn.q_proj}. */
    public String path() {
        return String.format(Locale.ROOT, "model.layers.%d.%s.%s", layer, module.parent(), module.hfName());
    }

    @Override
    public String toString() {
        return path();
    }
}
