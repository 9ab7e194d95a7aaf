package io.safetune.kernel.ijava;

import io.github.spencerpark.jupyter.kernel.BaseKernel;
import io.github.spencerpark.jupyter.kernel.display.RenderContext;
import io.github.spencerpark.jupyter.kernel.display.Renderer;
import io.github.spencerpark.jupyter.kernel.display.mime.MIMEType;

import io.safetune.display.Displayable;
import io.safetune.kernel.MimeBundles;

import org.knowm.xchart.internal.chartpart.Chart;

import tech.tablesaw.api.Table;

import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * Registers the lab's types with IJava's display {@link Renderer} (from {@code jupyter-jvm-basekernel}),
 * so that a cell whose value is a Tablesaw {@link Table}, an XChart chart or a {@link Displayable}
 * result shows as a table, an image, or both. The kernelspec's start-up script calls
 * {@link #registerInIJava()}; other basekernel-based kernels call {@link #registerIn(Renderer)}.
 */
public final class SafeTuneDisplays {

    /** IJava's entry class; its jar is not on Maven Central, so it is reached reflectively. */
    static final String IJAVA_CLASS = "io.github.spencerpark.ijava.IJava";

    private static final Set<Renderer> REGISTERED = Collections.newSetFromMap(new WeakHashMap<>());

    private SafeTuneDisplays() {
    }

    /**
     * Adds render functions for {@link Displayable}, {@link Table} and {@link Chart} to {@code renderer}.
     * Idempotent: a second call for the same renderer changes nothing (basekernel would otherwise run
     * every registered function for a value).
     *
     * @return true if registered now, false if it already was
     */
    public static synchronized boolean registerIn(Renderer renderer) {
        if (!REGISTERED.add(renderer)) {
            return false;
        }
        // Preferred types are what a plain render produces: the whole bundle (HTML holds every chart once);
        // image/png only when asked for by name (then the first chart, alone).
        renderer.createRegistration(Displayable.class)
                .preferring(MIMEType.TEXT_HTML)
                .supporting(MIMEType.IMAGE_PNG)
                .register((value, ctx) -> {
                    put(ctx, MimeBundles.displayable(value));
                    ctx.renderIfRequested(MIMEType.IMAGE_PNG, () -> MimeBundles.only(value, MimeBundles.IMAGE_PNG));
                });
        renderer.createRegistration(Table.class)
                .preferring(MIMEType.TEXT_HTML)
                .register((value, ctx) -> put(ctx, MimeBundles.table(value)));
        @SuppressWarnings({"unchecked", "rawtypes"})
        Class<Chart<?, ?>> chartClass = (Class) Chart.class;
        renderer.createRegistration(chartClass)
                .preferring(MIMEType.IMAGE_PNG)
                .register((value, ctx) -> put(ctx, MimeBundles.chart(value)));
        return true;
    }

    /**
     * Registers in the renderer of the running IJava kernel.
     *
     * @return false when no IJava kernel runs in this JVM
     */
    public static boolean registerInIJava() {
        return registerInKernelOf(IJAVA_CLASS);
    }

    /** Registers in the renderer of the kernel that {@code holderClass} holds (see {@link #ijavaKernel}). */
    static boolean registerInKernelOf(String holderClass) {
        Optional<BaseKernel> kernel = ijavaKernel(holderClass);
        kernel.ifPresent(k -> registerIn(k.getRenderer()));
        return kernel.isPresent();
    }

    /**
     * The kernel that {@code holderClass}'s static {@code getKernelInstance()} returns (IJava's
     * convention), or empty if that class is absent or no kernel runs.
     */
    static Optional<BaseKernel> ijavaKernel(String holderClass) {
        try {
            Class<?> c = Class.forName(holderClass, true, SafeTuneDisplays.class.getClassLoader());
            Object k = c.getMethod("getKernelInstance").invoke(null);
            return k instanceof BaseKernel b ? Optional.of(b) : Optional.empty();
        } catch (ClassNotFoundException | NoSuchMethodException e) {
            return Optional.empty();
        } catch (ReflectiveOperationException | LinkageError e) {
            throw new IllegalStateException("cannot reach the IJava kernel through " + holderClass + ": " + e, e);
        }
    }

    /** Puts each requested type of the bundle into the render output (text/plain is always requested). */
    private static void put(RenderContext ctx, Map<String, String> bundle) {
        bundle.forEach((mime, data) -> ctx.renderIfRequested(MIMEType.parse(mime), () -> data));
    }
}
