package io.safetune.display;

/**
 * One display that is redrawn in place: in a notebook, a single output area that a Jupyter kernel
 * updates (kernel-ext provides it); on a console, lines. Used for progress bars, so a long run shows
 * one line, not a wall of them.
 */
public interface LiveView extends AutoCloseable {

    /** Replaces what the view shows; {@code text} is for front ends without HTML. */
    void update(String html, String text);

    /** The view stays as last drawn; nothing more will be drawn. */
    @Override
    default void close() {
    }
}
