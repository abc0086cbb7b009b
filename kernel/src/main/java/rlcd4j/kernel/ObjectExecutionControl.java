package rlcd4j.kernel;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import jdk.jshell.execution.DirectExecutionControl;
import jdk.jshell.spi.ExecutionControl;
import jdk.jshell.spi.ExecutionControlProvider;
import jdk.jshell.spi.ExecutionEnv;

/**
 * Runs JShell snippets inside the kernel JVM and keeps their results as real objects.
 *
 * <p>JShell's execution engines hand back only a string of each value. Here {@link #invoke(Method)} stores the value
 * under a fresh key and returns the key as the "value string"; the evaluator swaps it back, so a cell ending in a
 * {@code Table} can be rendered as HTML. Each snippet runs on its own thread so that an interrupt can stop it
 * without touching the thread that talks to Jupyter.
 */
final class ObjectExecutionControl extends DirectExecutionControl {
    /** How long an interrupted snippet gets to notice {@link Thread#interrupt()} before it is stopped hard. */
    private static final long STOP_GRACE_MILLIS = 1_000;

    private final Map<String, Object> results = new ConcurrentHashMap<>();
    private final AtomicLong keys = new AtomicLong();
    private volatile Thread running;
    private volatile boolean stopRequested;
    private volatile Throwable lastThrown;
    private volatile ClassLoader snippetLoader;

    /** The value a snippet returned, by the key JShell reported as its value. */
    Object takeResult(String key) {
        return key == null ? null : results.remove(key);
    }

    void clearResults() {
        results.clear();
        lastThrown = null;
        stopRequested = false;
    }

    /** The exception the last failing snippet threw, as the real object (JShell only keeps its class name). */
    Throwable lastThrown() {
        return lastThrown;
    }

    /** The class loader of the snippets (and of jars added to JShell's class path); null before the first one. */
    ClassLoader snippetLoader() {
        return snippetLoader;
    }

    boolean stopRequested() {
        return stopRequested;
    }

    /**
     * libtorch's grad mode is per thread and on by default in a new thread; DJL turns it off only in the thread that
     * starts the engine, and its GradientCollector restores the mode it found. Each cell runs in a new thread, so
     * without this the optimiser's in-place updates after a training step fail ("a leaf Variable that requires grad
     * is being used in an in-place operation") and inference records autograd graphs. Before the engine has loaded
     * its natives the call fails with UnsatisfiedLinkError, which is fine: the engine's start turns it off itself.
     */
    private static void gradModeOff() {
        try {
            Class.forName("ai.djl.pytorch.jni.JniUtils")
                    .getMethod("setGradMode", boolean.class)
                    .invoke(null, false);
        } catch (ReflectiveOperationException | LinkageError e) {
            // no PyTorch engine on the class path, or not loaded yet
        }
    }

    @Override
    protected String invoke(Method doit) throws Exception {
        snippetLoader = doit.getDeclaringClass().getClassLoader();
        Object[] value = new Object[1];
        Throwable[] failure = new Throwable[1];
        Thread worker = new Thread(
                () -> {
                    try {
                        gradModeOff();
                        value[0] = doit.invoke(null);
                    } catch (InvocationTargetException e) {
                        failure[0] = e.getCause();
                    } catch (Throwable t) { // ThreadDeath from a hard stop lands here when it hits outside the snippet
                        failure[0] = t;
                    }
                },
                "rlcd-cell");
        worker.setDaemon(true);
        worker.setContextClassLoader(doit.getDeclaringClass().getClassLoader());
        running = worker;
        try {
            worker.start();
            worker.join();
        } finally {
            running = null;
        }
        if (failure[0] != null) {
            lastThrown = failure[0];
            // The base class turns this into JShell's EvalException; we keep the real object above.
            throw new InvocationTargetException(failure[0]);
        }
        String key = "\u0000rlcd-result-" + keys.incrementAndGet();
        if (value[0] != null) results.put(key, value[0]);
        return key;
    }

    /**
     * Stops the running snippet: first a polite {@link Thread#interrupt()} (sleeps, waits, I/O and toolkit loops
     * that check the flag end at once); a busy loop that ignores it is stopped with {@link Thread#stop()} after a
     * grace period. Thread.stop is deprecated but is what JShell itself uses on JDK 17.
     */
    @Override
    @SuppressWarnings({"removal", "deprecation"})
    public void stop() {
        Thread t = running;
        if (t == null) return;
        stopRequested = true;
        t.interrupt();
        Thread stopper = new Thread(
                () -> {
                    try {
                        t.join(STOP_GRACE_MILLIS);
                        if (t.isAlive()) t.stop();
                    } catch (InterruptedException ignored) {
                        Thread.currentThread().interrupt();
                    } catch (UnsupportedOperationException ignored) {
                        // JDK 20+ removed Thread.stop: only cooperative interruption remains.
                    }
                },
                "rlcd-cell-stopper");
        stopper.setDaemon(true);
        stopper.start();
    }

    /** Plugs this engine into {@code JShell.builder().executionEngine(...)}. */
    static final class Provider implements ExecutionControlProvider {
        private final ObjectExecutionControl control = new ObjectExecutionControl();

        ObjectExecutionControl control() {
            return control;
        }

        @Override
        public String name() {
            return "rlcd-direct";
        }

        @Override
        public ExecutionControl generate(ExecutionEnv env, Map<String, String> parameters) {
            return control;
        }
    }
}
