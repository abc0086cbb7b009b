package rlcd4j.engine.cpu;

import ai.djl.engine.Engine;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Lets the MKL inside libtorch choose its matrix kernels by the CPU's features on CPUs not made by Intel.
 *
 * <p>libtorch's CPU build links Intel's MKL for its matrix products. MKL picks a code path once, at its first call:
 * on an Intel CPU by the instruction sets it has (AVX2 gives path 5), on any other CPU the generic path 0, whatever
 * the CPU can do. On the project's AMD EPYC (AVX2, FMA), path 5 made a decode step's weight products and whole
 * generations faster (docs/perf/code-figures.md#mklcpupath). Python users get the same by preloading a library
 * that redefines MKL's {@code mkl_serv_intel_cpu_true} to return 1; this class does the equivalent from Java, before
 * MKL's first call:
 *
 * <ul>
 *   <li>{@code mkl_serv_intel_cpu_true}, which MKL's detection asks, returns a value it caches in a variable; the
 *       variable is set to 1 ("Intel");</li>
 *   <li>{@code mkl_serv_intel_cpu}, which other parts of MKL ask, caches its own answer, set to 0 ("not Intel"), as
 *       the preloaded library leaves it: when it also answered 1, decode steps ran slower than on path 0.</li>
 * </ul>
 *
 * MKL then detects the CPU's instruction sets as usual. Both variables, and MKL's chosen path, are found through the
 * exported functions' first instructions (RIP-relative reads); the bytes of each function are checked against the expected
 * code, the variables must lie in a writable mapping and still hold -1 (not yet computed), and MKL's detected path
 * must not be set yet. If any check fails, nothing is written and {@link #status()} says why: the engine works as
 * before, only slower. Nothing is done on Intel CPUs or outside Linux x86-64.
 *
 * <p>Opt-in: it writes only with {@code -Drlcd4j.mklIntelPath=true}. Rewriting another library's private state is
 * not something a library should do to the JVM it is embedded in, which may use MKL for its own work; the project's
 * own JVMs (the {@code ./rlcd} launcher, the Jupyter kernel, the tests and the benchmark scripts) opt in.
 */
public final class MklCpuPath {
    private MklCpuPath() {}

    private static String status;
    private static Pointer cpuType; // MKL's chosen code path (mkl_cpu_type), once found

    /** {@code -Drlcd4j.mklIntelPath=true} turns it on; it is off without it. */
    public static final String PROPERTY = "rlcd4j.mklIntelPath";

    /**
     * Loads libtorch if needed and sets MKL's CPU answers as described above, once per JVM; returns {@link #status()}.
     * Must run before the first matrix product to have any effect.
     */
    public static synchronized String apply() {
        if (status == null) status = tryApply();
        return status;
    }

    /** What {@link #apply()} did, for benchmark headers and logs; "not applied yet" before it ran. */
    public static synchronized String status() {
        return status == null ? "not applied yet" : status;
    }

    /**
     * MKL's code path number, as MKL numbers them (0 generic; 5 AVX2 on this libtorch's MKL), once its first call chose
     * one; -1 before that, -2 where {@link #apply()} could not find it (other platforms, other MKL code).
     */
    public static synchronized int codePath() {
        return cpuType == null ? -2 : cpuType.getInt(0);
    }

    private static String tryApply() {
        String wanted = System.getProperty(PROPERTY);
        if (!Boolean.parseBoolean(wanted)) {
            findCodePath();
            String why = wanted == null ? "off unless -D" + PROPERTY + "=true" : "-D" + PROPERTY + "=" + wanted;
            return "MKL path unchanged (" + why + ")";
        }
        if (!Platform.isLinux() || !Platform.isIntel() || !Platform.is64Bit())
            return "MKL path unchanged (not Linux x86-64)";
        String vendor = cpuInfo("vendor_id");
        if (vendor == null) return "MKL path unchanged (no vendor_id in /proc/cpuinfo)";
        if (vendor.equals("GenuineIntel")) {
            findCodePath();
            return "MKL path chosen by MKL (Intel CPU)";
        }
        Engine.getInstance(); // maps libtorch
        String lib = LibtorchRuntime.mappedFile("libtorch_cpu.so");
        if (lib == null) return "MKL path unchanged (libtorch_cpu.so is not loaded)";
        try {
            NativeLibrary torch = NativeLibrary.getInstance(lib);
            // mov eax, [rip + d]; test eax, eax; js +1; ret
            Pointer intelTrue = cachedVariable(
                    torch,
                    "mkl_serv_intel_cpu_true",
                    new int[] {0x8b, 0x05, -1, -1, -1, -1, 0x85, 0xc0, 0x78, 0x01, 0xc3},
                    2,
                    6);
            // mov eax, [rip + d]; cmp eax, -1; je +1; ret
            Pointer intelCpu = cachedVariable(
                    torch,
                    "mkl_serv_intel_cpu",
                    new int[] {0x8b, 0x05, -1, -1, -1, -1, 0x83, 0xf8, 0xff, 0x74, 0x01, 0xc3},
                    2,
                    6);
            Pointer type = cpuTypeVariable(torch);
            if (intelTrue == null || intelCpu == null || type == null)
                return "MKL path unchanged (this libtorch's MKL has different code)";
            for (Pointer p : List.of(intelTrue, intelCpu, type)) {
                if (!writable(Pointer.nativeValue(p)))
                    return "MKL path unchanged (its variables are not in a writable mapping)";
            }
            cpuType = type;
            if (type.getInt(0) != -1)
                return "MKL path unchanged (MKL chose path " + type.getInt(0) + " before this ran)";
            if (intelTrue.getInt(0) != -1 || intelCpu.getInt(0) != -1)
                return "MKL path unchanged (MKL asked for the CPU vendor before this ran)";
            intelTrue.setInt(0, 1);
            intelCpu.setInt(0, 0);
            return "MKL path chosen by the CPU's features (CPU vendor " + vendor + ", set by MklCpuPath)";
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            return "MKL path unchanged (" + e.getMessage() + ")";
        }
    }

    /** Finds mkl_cpu_type only, for {@link #codePath()} when nothing is changed. */
    private static void findCodePath() {
        if (!Platform.isLinux() || !Platform.isIntel() || !Platform.is64Bit()) return;
        Engine.getInstance();
        String lib = LibtorchRuntime.mappedFile("libtorch_cpu.so");
        if (lib == null) return;
        try {
            Pointer type = cpuTypeVariable(NativeLibrary.getInstance(lib));
            if (type != null && writable(Pointer.nativeValue(type))) cpuType = type;
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            // codePath() stays unknown
        }
    }

    /**
     * mkl_cpu_type, read twice by mkl_serv_cpu_detect's fast path: cmp dword [rip + d1], 0; js +7;
     * mov eax, [rip + d2]; ret. Both reads must name the same variable.
     */
    private static Pointer cpuTypeVariable(NativeLibrary torch) {
        Pointer compared = cachedVariable(
                torch,
                "mkl_serv_cpu_detect",
                new int[] {0x83, 0x3d, -1, -1, -1, -1, 0x00, 0x78, 0x07, 0x8b, 0x05, -1, -1, -1, -1, 0xc3},
                2,
                7);
        if (compared == null) return null;
        Pointer f = torch.getFunction("mkl_serv_cpu_detect");
        Pointer returned = new Pointer(Pointer.nativeValue(f) + 15 + f.getInt(11));
        return compared.equals(returned) ? compared : null;
    }

    /**
     * The variable a function reads RIP-relatively, if the function's first bytes match {@code code} (-1 = any byte);
     * the 32-bit offset is at {@code offsetAt} and counts from the end of an instruction {@code length} bytes long.
     */
    private static Pointer cachedVariable(NativeLibrary lib, String function, int[] code, int offsetAt, int length) {
        Pointer f;
        try {
            f = lib.getFunction(function);
        } catch (UnsatisfiedLinkError e) {
            return null;
        }
        byte[] bytes = f.getByteArray(0, code.length);
        for (int i = 0; i < code.length; i++) if (code[i] >= 0 && (bytes[i] & 0xff) != code[i]) return null;
        return new Pointer(Pointer.nativeValue(f) + length + f.getInt(offsetAt));
    }

    /** The value of the first {@code key : value} line of /proc/cpuinfo (e.g. vendor_id, flags), or null. */
    static String cpuInfo(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equals(key))
                    return line.substring(colon + 1).trim();
            }
        } catch (IOException e) {
            return null;
        }
        return null;
    }

    /** Whether {@code address} lies in a readable and writable mapping of this process. */
    private static boolean writable(long address) {
        for (String line : LibtorchRuntime.processMaps()) {
            String[] f = line.split("\\s+", 3);
            if (f.length < 2) continue;
            int dash = f[0].indexOf('-');
            long start = Long.parseUnsignedLong(f[0].substring(0, dash), 16),
                    end = Long.parseUnsignedLong(f[0].substring(dash + 1), 16);
            if (Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address + 4, end) <= 0)
                return f[1].startsWith("rw");
        }
        return false;
    }
}
