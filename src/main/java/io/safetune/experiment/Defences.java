package io.safetune.experiment;

import io.safetune.method.Defence;
import io.safetune.method.DefenceConfig;
import io.safetune.method.Slot;
import io.safetune.safelora.SafeLoraControl;
import io.safetune.safelora.SafeLoraDefence;
import io.safetune.safelora.SafeLoraSweepDefence;
import io.safetune.salora.SaLoraDefence;
import io.safetune.standard.PlainLora;
import io.safetune.standard.Sft;
import io.safetune.vaccine.VaccineDefence;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * The registry: every defence the story can run, by slot and name. The built-in ones are listed here
 * (one line per defence: the only place {@code experiment} names a method); more come from
 * {@link ServiceLoader} ({@code META-INF/services/io.safetune.method.Defence}) or {@link #register}.
 */
public final class Defences {

    private static final Map<Slot, Map<String, Defence<?>>> BY_SLOT = new LinkedHashMap<>();

    static {
        for (Slot s : Slot.values()) {
            BY_SLOT.put(s, new LinkedHashMap<>());
        }
        register(new Sft());
        register(new PlainLora());
        register(new SafeLoraDefence());
        register(new SafeLoraControl(SafeLoraControl.Kind.RANDOM_PROJECTION));
        register(new SafeLoraControl(SafeLoraControl.Kind.UNIFORM_SCALE));
        register(new SafeLoraSweepDefence());
        register(new SaLoraDefence());
        register(new VaccineDefence());
        for (Defence<?> d : ServiceLoader.load(Defence.class)) {
            register(d);
        }
    }

    private Defences() {
    }

    /** The default experiment's post-process on the micro-world: the Safe LoRA sweep and its controls. */
    public static final String DEFAULT_POST = SafeLoraSweepDefence.NAME;

    /** The story's filler of a slot nobody fills: SFT alignment and plain LoRA; no post-process. */
    public static String defaultName(Slot slot) {
        return switch (slot) {
            case ALIGN -> Sft.NAME;
            case FINE_TUNE -> PlainLora.NAME;
            case POST_PROCESS -> null;
        };
    }

    /**
     * Adds a defence (a notebook's or a test's own). A name is unique within its slot; registering the
     * same instance again is a no-op.
     */
    public static synchronized void register(Defence<?> d) {
        if (!d.name().matches("[a-z0-9][a-z0-9-]*")) {
            throw new IllegalArgumentException("name: '" + d.name() + "' must be lower-case letters, digits and -");
        }
        for (Slot s : Slot.values()) {
            if (s != d.slot() && BY_SLOT.get(s).containsKey(d.name())) {
                throw new IllegalArgumentException("name: '" + d.name() + "' is already a " + s.field() + " defence; names are unique");
            }
        }
        Defence<?> old = BY_SLOT.get(d.slot()).get(d.name());
        if (old != null && old.getClass() != d.getClass()) {
            throw new IllegalArgumentException(d.slot() + " defence '" + d.name() + "' is already registered ("
                    + old.getClass().getName() + ")");
        }
        if (old == null) {
            BY_SLOT.get(d.slot()).put(d.name(), d);
        }
    }

    /** The defence {@code name} of {@code slot}, or an error listing the known ones. */
    public static synchronized Defence<?> get(Slot slot, String name) {
        Defence<?> d = BY_SLOT.get(slot).get(name);
        if (d == null) {
            throw new IllegalArgumentException("unknown " + slot.field() + " defence '" + name + "' (known: " + names(slot) + ")");
        }
        return d;
    }

    public static synchronized List<String> names(Slot slot) {
        return new ArrayList<>(BY_SLOT.get(slot).keySet());
    }

    /** Every registered defence, slot by slot. */
    public static synchronized List<Defence<?>> all() {
        List<Defence<?>> out = new ArrayList<>();
        BY_SLOT.values().forEach(m -> out.addAll(m.values()));
        return out;
    }

    /** The config type a slot filler's settings are read as. */
    static Class<? extends DefenceConfig> configType(Slot slot, String name) {
        return get(slot, name).configType();
    }
}
