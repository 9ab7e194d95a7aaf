package io.safetune.kernel.ijava;

import io.github.spencerpark.jupyter.kernel.BaseKernel;
import io.github.spencerpark.jupyter.kernel.display.DisplayData;

import io.safetune.display.LiveView;
import io.safetune.kernel.InPlaceView;
import io.safetune.display.LiveViewProvider;

import java.util.Optional;
import java.util.function.Consumer;

/**
 * In-place displays in IJava: the first update publishes {@code display_data} with a fresh display id,
 * later ones {@code update_display_data} with the same id, so a progress bar stays one output. Found by
 * {@code io.safetune.display.LiveViews} through META-INF/services; empty outside IJava.
 */
public final class IJavaLiveViewProvider implements LiveViewProvider {

    private final String holderClass;

    public IJavaLiveViewProvider() {
        this(SafeTuneDisplays.IJAVA_CLASS);
    }

    /** For tests: the class whose static {@code getKernelInstance()} returns the kernel. */
    IJavaLiveViewProvider(String holderClass) {
        this.holderClass = holderClass;
    }

    @Override
    public Optional<LiveView> open() {
        try {
            Class.forName(holderClass, false, IJavaLiveViewProvider.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            return Optional.empty();
        }
        return Bound.open(holderClass);
    }

    /** Touches basekernel's classes only inside IJava (this jar also loads in rapaio, which lacks them). */
    private static final class Bound {
        static Optional<LiveView> open(String holderClass) {
            return SafeTuneDisplays.ijavaKernel(holderClass).map(Bound::viewOn);
        }

        private static LiveView viewOn(BaseKernel kernel) {
            return new View(kernel::display, kernel.getIO().display::updateDisplay);
        }
    }

    /** One display: shown by the first update, replaced by the later ones. */
    static final class View extends InPlaceView<DisplayData> {
        View(Consumer<DisplayData> display, Consumer<DisplayData> update) {
            super(display, update);
        }

        @Override
        protected DisplayData data(String html, String text, String id) {
            DisplayData data = new DisplayData(text);
            data.putHTML(html);
            data.setDisplayId(id);
            return data;
        }
    }
}
