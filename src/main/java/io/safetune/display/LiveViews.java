package io.safetune.display;

import java.io.PrintStream;
import java.util.Iterator;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/** Finds the live view of the kernel this JVM runs in, if any. */
public final class LiveViews {

    private LiveViews() {
    }

    /**
     * A live view from the first {@link LiveViewProvider} that recognises its kernel; empty otherwise.
     * Providers are looked up with this class's loader and then the thread's context loader (a kernel
     * may load kernel-ext in a loader of its own). A provider that cannot be loaded here (an adapter for
     * a kernel whose classes this JVM lacks) is skipped rather than breaking the run.
     */
    public static Optional<LiveView> inKernel() {
        Optional<LiveView> v = firstOpen(LiveViews.class.getClassLoader());
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        if (v.isEmpty() && context != null && context != LiveViews.class.getClassLoader()) {
            v = firstOpen(context);
        }
        return v;
    }

    private static Optional<LiveView> firstOpen(ClassLoader loader) {
        Iterator<LiveViewProvider> it = ServiceLoader.load(LiveViewProvider.class, loader).iterator();
        // ServiceLoader moves past a provider that failed, "best effort": bound the skipping all the same.
        for (int failures = 0; failures < 16; ) {
            LiveViewProvider p;
            try {
                if (!it.hasNext()) {
                    return Optional.empty();
                }
                p = it.next();
            } catch (ServiceConfigurationError | LinkageError e) {
                failures++;
                continue;
            }
            Optional<LiveView> v = p.open();
            if (v.isPresent()) {
                return v;
            }
        }
        return Optional.empty();
    }

    /** A view that prints each update's text as a line (consoles, logs, tests). */
    public static LiveView lines(PrintStream out) {
        return (html, text) -> {
            out.println(text);
            out.flush();
        };
    }
}
