package rlcd4j.engine.cpu;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Applies {@link MklCpuPath} before the first test class of the test JVM runs (registered for every class through
 * {@code junit-platform.properties}), so the tests run on the MKL path that the CLI, the kernel and the benchmarks
 * use, whichever test happens to make the JVM's first matrix product.
 */
public final class MklCpuPathExtension implements BeforeAllCallback {
    @Override
    public void beforeAll(ExtensionContext context) {
        MklCpuPath.apply();
    }
}
