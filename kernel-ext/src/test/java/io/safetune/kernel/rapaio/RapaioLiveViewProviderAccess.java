package io.safetune.kernel.rapaio;

import io.safetune.display.LiveView;

import org.rapaio.jupyter.kernel.display.DisplayData;

import java.util.function.Consumer;

/** Lets tests in other packages build the rapaio adapter's view over their own publishers. */
public final class RapaioLiveViewProviderAccess {
    public LiveView view(Consumer<DisplayData> display, Consumer<DisplayData> update) {
        return new RapaioLiveViewProvider.View(display, update);
    }
}
