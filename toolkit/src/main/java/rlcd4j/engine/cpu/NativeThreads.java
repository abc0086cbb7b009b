package rlcd4j.engine.cpu;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How libtorch's OpenMP threads wait and how many a forward uses. Both were measured on the project's 2-core machine
 * (figures: docs/perf/code-figures.md#nativethreads):
 *
 * <ul>
 *   <li><b>Waiting.</b> libgomp lets an idle worker spin for 300,000 iterations before it sleeps. When the cores are
 *       shared with other processes, every parallel op then waits for a descheduled peer, and a decode step took
 *       many times longer. Never spinning ({@code PASSIVE}) avoids that but pays a futex wake-up on each of the ~300
 *       small parallel ops of a step, which halved batch-16 decoding on an idle machine. A short spin,
 *       {@code GOMP_SPINCOUNT=30000}, was the best of both: as fast as the default when idle, and faster than
 *       {@code PASSIVE} with two CPU hogs running.</li>
 *   <li><b>Threads per step.</b> A decode step of one or two rows multiplies vectors by matrices: it is bound by memory
 *       bandwidth, and libtorch runs a matrix-vector product on one core whatever its thread setting, so a second
 *       OpenMP thread only adds wake-ups (batch-1 decoding was slower with two threads than with one). Steps with few
 *       rows therefore use half the threads ({@code -Drlcd4j.decodeThreads=N} overrides); prefill and batched steps
 *       use all of them. When that half is one thread, the model splits each weight product of such a step with a
 *       helper thread of its own ({@code rlcd4j.engine.cpu.DecodeHelper}), which does use the second core.</li>
 * </ul>
 *
 * libgomp reads its environment once, when libtorch is loaded, so {@link #tuneWaiting()} must run before the first
 * DJL engine call; values already in the environment are kept.
 */
public final class NativeThreads {
    private NativeThreads() {}

    /** Rows (batch x tokens) of a forward below which it is memory-bound and runs on {@link #smallStepThreads()}. */
    public static final int SMALL_STEP_ROWS = 4;

    private static int engineThreads = -1;
    private static int current = -1;

    private interface LibC extends Library {
        int setenv(String name, String value, int overwrite);
    }

    /**
     * Sets {@code GOMP_SPINCOUNT=30000} unless {@code OMP_WAIT_POLICY} or {@code GOMP_SPINCOUNT} is set; returns
     * false if libgomp was already loaded (too late).
     */
    public static synchronized boolean tuneWaiting() {
        if (!Platform.isLinux() || System.getenv("OMP_WAIT_POLICY") != null || System.getenv("GOMP_SPINCOUNT") != null)
            return true;
        if (gompLoaded()) return false;
        return Native.load("c", LibC.class).setenv("GOMP_SPINCOUNT", "30000", 0) == 0;
    }

    /** What {@link #tuneWaiting()} left in force, for benchmark headers. */
    public static String waitingPolicy() {
        String policy = System.getenv("OMP_WAIT_POLICY"), spin = System.getenv("GOMP_SPINCOUNT");
        if (policy != null && !policy.isEmpty()) return "OMP_WAIT_POLICY=" + policy;
        return spin != null ? "GOMP_SPINCOUNT=" + spin : "GOMP_SPINCOUNT=30000 (set by NativeThreads)";
    }

    /** Intra-op threads for decode steps with fewer than {@link #SMALL_STEP_ROWS} rows. */
    public static synchronized int smallStepThreads() {
        return Integer.getInteger("rlcd4j.decodeThreads", Math.max(1, engineThreads() / 2));
    }

    /** libtorch's intra-op thread count as configured at start ({@code ai.djl.pytorch.num_threads} or its default). */
    public static synchronized int engineThreads() {
        if (engineThreads < 0) {
            Engine.getInstance(); // loads libtorch and applies ai.djl.pytorch.num_threads
            MklCpuPath.apply();
            engineThreads = JniUtils.getNumThreads();
            current = engineThreads;
        }
        return engineThreads;
    }

    /**
     * Sets the intra-op threads for a CPU forward over {@code rows} token rows: {@link #smallStepThreads()} below
     * {@link #SMALL_STEP_ROWS}, all of them otherwise. Cheap when nothing changes.
     */
    public static synchronized void forRows(int rows) {
        int want = rows < SMALL_STEP_ROWS ? smallStepThreads() : engineThreads();
        if (want != current) {
            JniUtils.setNumThreads(want);
            current = want;
        }
    }

    /** Back to the engine's thread count (after a generation). */
    public static synchronized void restore() {
        if (engineThreads >= 0 && current != engineThreads) {
            JniUtils.setNumThreads(engineThreads);
            current = engineThreads;
        }
    }

    private static boolean gompLoaded() {
        try {
            return Files.readString(Path.of("/proc/self/maps")).contains("libgomp");
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Spins until {@code state} holds {@code done}, then sets it to {@code then}, even if this thread is being stopped
     * meanwhile (the kernel stops a cell that ignores an interrupt with {@code Thread.stop}): a helper thread still
     * working on native memory must finish before the caller unwinds and its scope frees that memory. A stop that
     * arrived while waiting is rethrown afterwards.
     */
    public static void awaitEvenIfStopped(AtomicInteger state, int done, int then) {
        Throwable stopped = null;
        while (true) {
            try {
                while (state.get() != done) Thread.onSpinWait();
                break;
            } catch (Throwable t) {
                stopped = t;
            }
        }
        state.set(then);
        if (stopped instanceof Error e) throw e;
        if (stopped instanceof RuntimeException r) throw r;
    }
}
