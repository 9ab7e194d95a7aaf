package io.safetune.kernel;

import io.safetune.display.LiveView;

import java.util.UUID;
import java.util.function.Consumer;

/**
 * A {@link LiveView} over a kernel's display pair: the first update is shown as {@code display_data}
 * with a fresh display id, later ones replace it ({@code update_display_data}, same id), so a run
 * leaves one output. Each kernel adapter supplies its own {@code DisplayData} type.
 *
 * @param <D> the kernel library's display-data class
 */
public abstract class InPlaceView<D> implements LiveView {

    private final Consumer<D> display;
    private final Consumer<D> update;
    private final String id = UUID.randomUUID().toString();
    private boolean shown;
    private boolean closed;

    protected InPlaceView(Consumer<D> display, Consumer<D> update) {
        this.display = display;
        this.update = update;
    }

    /** The kernel's display data holding {@code html} and {@code text}, tagged with display id {@code id}. */
    protected abstract D data(String html, String text, String id);

    @Override
    public synchronized void update(String html, String text) {
        if (closed) {
            return;
        }
        D data = data(html, text, id);
        if (shown) {
            update.accept(data);
        } else {
            display.accept(data);
            shown = true;
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
    }

    /** The display id every update carries. */
    public String id() {
        return id;
    }
}
