package io.safetune.kernel.ijava;

import io.github.spencerpark.jupyter.kernel.BaseKernel;
import io.github.spencerpark.jupyter.kernel.LanguageInfo;
import io.github.spencerpark.jupyter.kernel.display.DisplayData;

/**
 * Stands in for {@code io.github.spencerpark.ijava.IJava} (not on Maven Central): a static
 * {@code getKernelInstance()} returning a real basekernel {@link BaseKernel}, or null when "not running".
 */
public final class FakeIJava {

    static volatile BaseKernel kernel;

    private FakeIJava() {
    }

    public static BaseKernel getKernelInstance() {
        return kernel;
    }

    /** The smallest real kernel: basekernel's own renderer, display stream and IO. */
    static final class Kernel extends BaseKernel {
        @Override
        public DisplayData eval(String expr) {
            return getRenderer().render(expr);
        }

        @Override
        public LanguageInfo getLanguageInfo() {
            return new LanguageInfo.Builder("Java").build();
        }
    }
}
