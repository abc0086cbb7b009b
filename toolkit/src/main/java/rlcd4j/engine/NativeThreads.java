package rlcd4j.engine;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Makes libtorch's idle OpenMP workers sleep instead of spin. By default libgomp spins a waiting worker for a while
 * before it sleeps; when the cores are shared with other processes, every parallel op then waits for a descheduled
 * peer, and a 2-thread decode step of a SmolLM2-135M-shaped model took 1.4-2.5 s instead of 0.10 s (measured on a
 * 2-core machine at load 8-15, see docs/perf/engine.md). libgomp reads {@code OMP_WAIT_POLICY} once, when libtorch is
 * loaded, so this must run before the first DJL engine call; a value already in the environment is kept.
 */
public final class NativeThreads {
    private NativeThreads() {}

    private interface LibC extends Library {
        int setenv(String name, String value, int overwrite);
    }

    /** Sets {@code OMP_WAIT_POLICY=PASSIVE} unless it is set; returns false if libgomp was already loaded (too late). */
    public static synchronized boolean preferPassiveWait() {
        if (!Platform.isLinux() || System.getenv("OMP_WAIT_POLICY") != null) return true;
        if (gompLoaded()) return false;
        return Native.load("c", LibC.class).setenv("OMP_WAIT_POLICY", "PASSIVE", 0) == 0;
    }

    private static boolean gompLoaded() {
        try {
            return Files.readString(Path.of("/proc/self/maps")).contains("libgomp");
        } catch (IOException e) {
            return false;
        }
    }
}
