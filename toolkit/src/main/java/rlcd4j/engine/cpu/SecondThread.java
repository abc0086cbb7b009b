package rlcd4j.engine.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * A thread that runs one task while the caller runs another, for native kernels that share a call between two cores.
 * It parks when idle, so it takes no core from libtorch's threads between calls.
 */
final class SecondThread {
    private static final int IDLE = 0, POSTED = 1, DONE = 2;
    private final AtomicInteger state = new AtomicInteger(IDLE);
    private final Thread thread;
    private volatile Runnable task;
    private volatile Throwable failure;

    /** A thread named {@code name}, started by the first call that uses it. */
    SecondThread(String name) {
        thread = new Thread(this::loop, name);
        thread.setDaemon(true);
    }

    /**
     * Runs {@code task} with thread ids 0 (the caller's thread) to {@code threads} - 1 (1 or 2; id 1 on this thread),
     * as {@link #run} does.
     */
    void runOnAll(int threads, IntConsumer task) {
        if (threads == 1) task.accept(0);
        else run(() -> task.accept(1), () -> task.accept(0));
    }

    /**
     * Runs {@code theirs} on this thread and {@code mine} on the caller's, and returns when both are done, even if the
     * caller is stopped meanwhile (both may use native memory the caller frees when it unwinds). A failure of either
     * is thrown.
     */
    synchronized void run(Runnable theirs, Runnable mine) {
        if (thread.getState() == Thread.State.NEW) thread.start();
        task = theirs;
        state.set(POSTED);
        LockSupport.unpark(thread);
        try {
            mine.run();
        } finally {
            NativeThreads.awaitEvenIfStopped(state, DONE, IDLE);
        }
        Throwable t = failure;
        if (t != null) {
            failure = null;
            throw t instanceof RuntimeException r ? r : new IllegalStateException(thread.getName() + " failed", t);
        }
    }

    private void loop() {
        while (true) {
            while (state.get() != POSTED) LockSupport.park(this);
            try {
                task.run();
            } catch (Throwable t) {
                failure = t;
            }
            task = null;
            state.set(DONE);
        }
    }
}
