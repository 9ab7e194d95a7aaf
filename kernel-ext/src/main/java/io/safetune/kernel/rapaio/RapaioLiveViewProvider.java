package io.safetune.kernel.rapaio;

import io.safetune.display.LiveView;
import io.safetune.kernel.InPlaceView;
import io.safetune.display.LiveViewProvider;

import org.rapaio.jupyter.kernel.MainApp;
import org.rapaio.jupyter.kernel.core.RapaioKernel;
import org.rapaio.jupyter.kernel.display.DisplayData;

import java.util.Optional;
import java.util.function.Consumer;

/**
 * In-place displays in rapaio-jupyter-kernel: the first update publishes {@code display_data} with a fresh
 * display id through the running kernel ({@code MainApp.kernel}, what rapaio's own {@code display} and
 * {@code updateDisplay} use), later ones {@code update_display_data} with that id. Empty outside rapaio.
 */
public final class RapaioLiveViewProvider implements LiveViewProvider {

    static final String MAIN_CLASS = "org.rapaio.jupyter.kernel.MainApp";

    private static volatile Boolean kernelRunning;

    @Override
    public Optional<LiveView> open() {
        if (!kernelRunning()) {
            return Optional.empty();
        }
        return Optional.of(Bound.view());
    }

    /** Touches rapaio's classes only once the kernel is known to run (this jar also loads in IJava). */
    private static final class Bound {
        static LiveView view() {
            RapaioKernel kernel = MainApp.kernel;
            return new View(kernel::display, kernel::updateDisplay);
        }
    }

    /**
     * Whether this JVM is rapaio's kernel: some thread runs {@code MainApp.main}. Merely touching
     * {@code MainApp} elsewhere would construct a kernel (its static initialiser does), and a class whose
     * {@code main} is on a stack is initialised, so this is the safe test. The answer holds for the JVM's
     * life, so it is computed once.
     */
    static boolean kernelRunning() {
        Boolean known = kernelRunning;
        if (known == null) {
            known = mainOnSomeStack(MAIN_CLASS);
            kernelRunning = known;
        }
        return known;
    }

    static boolean mainOnSomeStack(String mainClass) {
        for (StackTraceElement[] stack : Thread.getAllStackTraces().values()) {
            for (StackTraceElement frame : stack) {
                if (frame.getClassName().equals(mainClass) && frame.getMethodName().equals("main")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** One display: shown by the first update, replaced by the later ones. */
    static final class View extends InPlaceView<DisplayData> {
        View(Consumer<DisplayData> display, Consumer<DisplayData> update) {
            super(display, update);
        }

        @Override
        protected DisplayData data(String html, String text, String id) {
            DisplayData data = DisplayData.fromHtml(html);
            data.putText(text);
            data.setDisplayId(id);
            return data;
        }
    }
}
