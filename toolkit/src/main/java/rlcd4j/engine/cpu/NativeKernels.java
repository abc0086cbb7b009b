package rlcd4j.engine.cpu;

import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;

/**
 * The native kernels' library ({@code src/main/c}, AVX2, FMA and F16C): found once, shared by
 * {@link DecodeAttention} and {@link NativeDecoder}. Maven builds it with gcc where it can (Linux x86-64); without
 * it, or on a CPU without those instructions, {@link #library()} is null and the engine uses libtorch's ops, which
 * give the same results to rounding. {@link #status()} says which, and why.
 */
final class NativeKernels {
    private static final NativeLibrary LIBRARY;
    private static final String STATUS;

    static {
        NativeLibrary library = null;
        String status;
        if (!Platform.isLinux() || !Platform.isIntel() || !Platform.is64Bit()) {
            status = "libtorch's ops (the native kernels are built for Linux x86-64 only)";
        } else if (!cpuHas("avx2") || !cpuHas("fma") || !cpuHas("f16c")) {
            status = "libtorch's ops (this CPU lacks AVX2, FMA or F16C)";
        } else {
            try {
                library = NativeLibrary.getInstance("rlcd4j_kernels");
                status = "native (AVX2)";
            } catch (UnsatisfiedLinkError e) {
                status = "libtorch's ops (librlcd4j_kernels.so was not built: Maven builds it where gcc is installed; "
                        + e.getMessage().lines().findFirst().orElse("") + ")";
            }
        }
        LIBRARY = library;
        STATUS = status;
    }

    private NativeKernels() {}

    /** The library, or null when it cannot be used here ({@link #status()} says why). */
    static NativeLibrary library() {
        return LIBRARY;
    }

    static String status() {
        return STATUS;
    }

    private static boolean cpuHas(String flag) {
        String flags = MklCpuPath.cpuInfo("flags");
        return flags != null && (" " + flags + " ").contains(" " + flag + " ");
    }
}
