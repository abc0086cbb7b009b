package rlcd4j.engine.cpu;

import ai.djl.engine.Engine;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The matrix product and the OpenMP runtime of the libtorch that DJL loaded, by address, for native kernels that write
 * products into buffers of their own and run their passes on libtorch's threads ({@link NativePrefill}).
 *
 * <ul>
 *   <li><b>The product</b> is the Fortran BLAS {@code sgemm_} that libtorch_cpu.so exports: its MKL, the same code
 *       that libtorch's {@code matmul} calls, with MKL's threads.</li>
 *   <li><b>OpenMP</b> is libgomp's (or Intel's libiomp5, which has the same entry points) {@code GOMP_parallel},
 *       {@code omp_get_thread_num} and {@code omp_get_num_threads}. A pass started through them runs on the team
 *       of threads that just ran a product, whose workers are still spinning ({@link NativeThreads}); a thread of
 *       our own would instead wait for the core those workers hold.</li>
 * </ul>
 *
 * Either may be missing in another libtorch build: {@link Symbols#sgemm()} is then 0 (the kernels' callers fall back to
 * libtorch's ops) and the OpenMP entry points 0 (passes run on the calling thread); {@link Symbols#status()} says
 * which.
 */
final class LibtorchRuntime {
    private static Symbols symbols;

    private LibtorchRuntime() {}

    /**
     * The entry points' addresses, 0 where missing: MKL's {@code sgemm_}, and {@code GOMP_parallel},
     * {@code omp_get_thread_num} and {@code omp_get_num_threads} (all three, or all 0); {@code status} says what was
     * found, for benchmark headers and logs.
     */
    record Symbols(long sgemm, long ompParallel, long ompThreadNum, long ompNumThreads, String status) {}

    /** Looks the entry points up in the loaded libtorch once (loading it if needed). */
    static synchronized Symbols symbols() {
        if (symbols == null) symbols = find();
        return symbols;
    }

    private static Symbols find() {
        Engine.getInstance(); // maps libtorch
        String torch = mappedFile("libtorch_cpu.so");
        long sgemm = torch == null ? 0 : address(torch, "sgemm_");
        String omp = mappedFile("libgomp");
        if (omp == null) omp = mappedFile("libiomp5");
        long parallel = 0, threadNum = 0, numThreads = 0;
        if (omp != null) {
            parallel = address(omp, "GOMP_parallel");
            threadNum = address(omp, "omp_get_thread_num");
            numThreads = address(omp, "omp_get_num_threads");
        }
        boolean openMp = parallel != 0 && threadNum != 0 && numThreads != 0;
        String status = (sgemm != 0 ? "products by libtorch's sgemm_" : "no sgemm_ in libtorch_cpu.so")
                + (openMp
                        ? ", passes on OpenMP's threads (" + Path.of(omp).getFileName() + ")"
                        : ", passes on the calling thread (no OpenMP runtime found)");
        return openMp
                ? new Symbols(sgemm, parallel, threadNum, numThreads, status)
                : new Symbols(sgemm, 0, 0, 0, status);
    }

    private static long address(String library, String function) {
        try {
            return Pointer.nativeValue(NativeLibrary.getInstance(library).getFunction(function));
        } catch (UnsatisfiedLinkError e) {
            return 0;
        }
    }

    /** The path of the mapped library whose file name starts with {@code prefix}, or null. */
    static String mappedFile(String prefix) {
        for (String line : processMaps()) {
            int slash = line.indexOf('/');
            if (slash >= 0
                    && Path.of(line.substring(slash)).getFileName().toString().startsWith(prefix))
                return line.substring(slash);
        }
        return null;
    }

    /** The lines of /proc/self/maps, or none where it cannot be read. */
    static List<String> processMaps() {
        try {
            return Files.readAllLines(Path.of("/proc/self/maps"));
        } catch (IOException e) {
            return List.of();
        }
    }
}
