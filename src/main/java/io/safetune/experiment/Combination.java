package io.safetune.experiment;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.safetune.method.Defence;
import io.safetune.method.DefenceConfig;
import io.safetune.method.Slot;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * One entry of an experiment's {@code defences}: which defence fills each slot of the story, e.g.
 * {@code {align: <an align defence>, fineTune: <a fine-tune>, post: <a post-process>}}. A slot left out keeps the story's default
 * (SFT alignment, plain LoRA, no post-process). A filler is a registered name, or a mapping with its
 * {@code method} and settings: {@code post: {method: <name>, <setting>: <value>}} (docs/configuration.md lists them).
 *
 * @param name      the label in results and charts (default: the fillers' names joined by "+")
 * @param align     the align slot's filler (null: SFT)
 * @param fineTune  the fine-tune slot's filler (null: plain LoRA)
 * @param post      the post-process slot's filler (null: none)
 * @param fractions the attacks (p) it runs on (null: every p of the experiment)
 * @param controlOf the label of the defence this entry is a control of (null: none), e.g. a random
 *                  perturbation beside Vaccine: comparisons draw it beside that defence, in its colour
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Combination(String name, @JsonDeserialize(using = FillerReader.Align.class) Filler align,
        @JsonDeserialize(using = FillerReader.FineTune.class) Filler fineTune,
        @JsonDeserialize(using = FillerReader.Post.class) Filler post, List<Double> fractions, String controlOf) {

    /** The undefended story: the control every combination is compared with. */
    public static final Combination NONE = new Combination(null, null, null, null, null, null);

    public Combination {
        if ("none".equals(name)) {
            throw new IllegalArgumentException("name: 'none' is the undefended story's label; choose another");
        }
        if (name != null && !name.matches("[a-z0-9][a-z0-9+.-]*")) {
            throw new IllegalArgumentException("name: '" + name + "' must be lower-case letters, digits, + . and -");
        }
        check(Slot.ALIGN, align);
        check(Slot.FINE_TUNE, fineTune);
        check(Slot.POST_PROCESS, post);
        fractions = fractions == null ? null : List.copyOf(fractions);
    }

    private static void check(Slot slot, Filler f) {
        if (f != null && f.defence().slot() != slot) {
            throw new IllegalArgumentException(slot.field() + ": '" + f.method() + "' fills the " + f.defence().slot() + " slot");
        }
    }

    /** A combination with only a post-process. */
    public static Combination post(String method) {
        return new Combination(null, null, null, Filler.of(Slot.POST_PROCESS, method), null, null);
    }

    /** The filler of {@code slot}: the given one, else the story's default (null for an empty post-process). */
    public Filler filler(Slot slot) {
        Filler f = switch (slot) {
            case ALIGN -> align;
            case FINE_TUNE -> fineTune;
            case POST_PROCESS -> post;
        };
        String def = Defences.defaultName(slot);
        return f != null ? f : def == null ? null : Filler.of(slot, def);
    }

    /** Whether {@code slot} holds something other than the story's default. */
    public boolean defended(Slot slot) {
        Filler f = filler(slot);
        return f != null && !(f.method().equals(Defences.defaultName(slot)) && f.settings().equals(f.defence().defaultConfig()));
    }

    /**
     * The label of this combination's products up to and including {@code slot}: "none" when nothing
     * defends them, else the combination's name, or the defended slots' methods joined by "+". The
     * experiment checks that one label never stands for two different sets of fillers.
     */
    public String labelUpTo(Slot slot) {
        List<String> parts = new ArrayList<>();
        for (Slot s : Slot.values()) {
            if (s.ordinal() <= slot.ordinal() && defended(s)) {
                parts.add(filler(s).method());
            }
        }
        if (parts.isEmpty()) {
            return "none";
        }
        return name != null ? name : String.join("+", parts);
    }

    /** The fillers of the slots up to {@code slot}: what a product of that slot depends on. */
    List<Filler> fillersUpTo(Slot slot) {
        List<Filler> out = new ArrayList<>();
        for (Slot s : Slot.values()) {
            if (s.ordinal() <= slot.ordinal()) {
                out.add(filler(s));
            }
        }
        return out;
    }

    /** The combination's label in results and charts. */
    public String label() {
        return labelUpTo(Slot.POST_PROCESS);
    }

    /** Whether it runs on the attack with harmful fraction {@code p}. */
    public boolean runsOn(double p) {
        return fractions == null || fractions.contains(p);
    }

    /**
     * A slot's defence and its settings.
     *
     * @param method   the registered name
     * @param settings its config record (the defence's defaults when the file names none)
     */
    @JsonSerialize(using = FillerWriter.class)
    public record Filler(String method, DefenceConfig settings) {

        public Filler {
            if (method == null || settings == null) {
                throw new IllegalArgumentException("method and settings: must be given");
            }
        }

        /** {@code method} of {@code slot} with its default settings. */
        public static Filler of(Slot slot, String method) {
            return new Filler(method, Defences.get(slot, method).defaultConfig());
        }

        /** The registered defence (any slot: a combination checks that it is the right one). */
        public Defence<?> defence() {
            for (Slot s : Slot.values()) {
                if (Defences.names(s).contains(method)) {
                    return Defences.get(s, method);
                }
            }
            throw new IllegalArgumentException("unknown defence '" + method + "'");
        }
    }

    /** Writes a filler as {@code {method: name, ...settings}}. */
    static final class FillerWriter extends JsonSerializer<Filler> {
        @Override
        public void serialize(Filler f, JsonGenerator gen, SerializerProvider provider) throws IOException {
            ObjectNode node = Stages.JSON.valueToTree(f.settings());
            ObjectNode out = node.objectNode().put("method", f.method());
            out.setAll(node);
            gen.writeTree(out);
        }
    }

    /**
     * Reads a filler: a name, or a mapping with {@code method} and the settings of that defence's config
     * record (unknown settings are errors naming the field). One reader per slot field.
     */
    abstract static class FillerReader extends JsonDeserializer<Filler> {

        static final class Align extends FillerReader {
            Align() {
                super(Slot.ALIGN);
            }
        }

        static final class FineTune extends FillerReader {
            FineTune() {
                super(Slot.FINE_TUNE);
            }
        }

        static final class Post extends FillerReader {
            Post() {
                super(Slot.POST_PROCESS);
            }
        }

        private final Slot slot;

        FillerReader(Slot slot) {
            this.slot = slot;
        }

        @Override
        public Filler deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            JsonNode node = ctxt.readTree(p);
            String method;
            ObjectNode settings;
            if (node.isTextual()) {
                method = node.asText();
                settings = ctxt.getNodeFactory().objectNode();
            } else if (node.isObject() && node.get("method") != null && node.get("method").isTextual()) {
                method = node.get("method").asText();
                settings = ((ObjectNode) node).deepCopy();
                settings.remove("method");
            } else {
                throw com.fasterxml.jackson.databind.JsonMappingException.from(p, "a defence's name (e.g. "
                        + String.join(", ", Defences.names(slot)) + "), or {method: name, settings…}");
            }
            Defence<?> d;
            try {
                d = Defences.get(slot, method);
            } catch (IllegalArgumentException e) {
                throw com.fasterxml.jackson.databind.JsonMappingException.from(p, e.getMessage());
            }
            if (settings.isEmpty()) {
                return new Filler(method, d.defaultConfig());
            }
            return new Filler(method, ctxt.readTreeAsValue(settings, d.configType()));
        }
    }
}
