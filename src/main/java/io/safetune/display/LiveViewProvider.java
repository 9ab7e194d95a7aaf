package io.safetune.display;

import java.util.Optional;

/**
 * Service interface (META-INF/services) through which a Jupyter kernel adapter (kernel-ext) offers
 * in-place displays. {@link #open()} is empty when that kernel is not the one running this JVM.
 */
public interface LiveViewProvider {

    /** A new live view in the current cell's output, or empty outside this provider's kernel. */
    Optional<LiveView> open();
}
