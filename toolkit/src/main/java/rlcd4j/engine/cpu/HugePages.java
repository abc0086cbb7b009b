package rlcd4j.engine.cpu;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Weights on 2 MiB pages ({@code src/main/c/huge_pages.c}). A decode step of one row streams every weight once, and
 * with 4 KiB pages that stream also walks the page tables every 4 KiB (in a virtual machine, the guest's and the
 * host's); from 2 MiB pages the same stream runs faster (docs/perf/engine.md, "Weights on 2 MiB pages"). Linux gives
 * anonymous memory 2 MiB pages only where asked, and libtorch does not ask, so {@link NativeDecoder} asks for the
 * weights it reads. The contents never change; where the kernel cannot (before Linux 6.1, huge pages off, none free),
 * the memory stays as it was.
 *
 * <p>Moving the pages copies them (a second or two per 540 MB, docs/perf/engine.md), so it runs on a thread of its own
 * while decoding goes on. It is only advice to the kernel: memory freed meanwhile makes the call fail, harmlessly.
 */
public final class HugePages {
    /** {@code -Drlcd4j.hugePages=false} leaves the weights' pages as they are (for A/B runs). */
    public static final String PROPERTY = "rlcd4j.hugePages";

    private static final long HUGE_PAGE = 2L << 20;

    private static final boolean LOADED;
    private static final ExecutorService MOVER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "rlcd4j-huge-pages");
        t.setDaemon(true);
        return t;
    });

    static {
        boolean loaded = NativeKernels.library() != null;
        if (loaded) Native.register(HugePages.class, NativeKernels.library());
        LOADED = loaded;
    }

    private static native long rlcd4j_huge_pages(long address, long bytes);

    private static native long rlcd4j_huge_pages_ahead(long address, long bytes);

    private HugePages() {}

    /** Whether weights are asked onto 2 MiB pages here, and the kernel's setting for them. */
    public static String status() {
        if (!LOADED) return "not asked (" + NativeKernels.status() + ")";
        if (!asked()) return "not asked (-D" + PROPERTY + "=false)";
        try {
            String setting = Files.readString(Path.of("/sys/kernel/mm/transparent_hugepage/enabled"))
                    .strip();
            return "asked (transparent_hugepage: " + setting + ")";
        } catch (IOException e) {
            return "asked (this kernel has no transparent huge pages)";
        }
    }

    /** A range of native memory: {@code bytes} from {@code address}. */
    public record Range(long address, long bytes) {
        long end() {
            return address + bytes;
        }
    }

    /**
     * Asks for 2 MiB pages under {@code ranges}, each widened to the 2 MiB pages it touches: a weight is rarely
     * 2 MiB-aligned, and its neighbours on those pages (other arrays of the same allocator) are only moved, not
     * changed. Returns the bytes now on 2 MiB pages; 0 where the kernel refused, the kernels are not built here, or
     * {@link #PROPERTY} is false.
     */
    public static long advise(List<Range> ranges) {
        if (!asked()) return 0;
        long onHuge = 0;
        for (Range r : merged(ranges)) {
            long got = rlcd4j_huge_pages(r.address(), r.bytes());
            if (got > 0) onHuge += got;
        }
        return onHuge;
    }

    /**
     * Native memory of at least {@code bytes}, to be written next, whose first writes fault in 2 MiB pages where the
     * kernel allows (no copy, unlike {@link #advise}). Its {@link Memory#share(long) share} at {@code
     * alignedOffset(m)} starts on a 2 MiB boundary.
     */
    public static Memory allocate(long bytes) {
        Memory m = new Memory(bytes + HUGE_PAGE);
        if (asked()) rlcd4j_huge_pages_ahead(Pointer.nativeValue(m), bytes + HUGE_PAGE);
        return m;
    }

    /** Whether the kernels are here and {@link #PROPERTY} does not turn the asking off; read at each call. */
    private static boolean asked() {
        return LOADED && !"false".equals(System.getProperty(PROPERTY));
    }

    /** The offset in {@code m} of its first 2 MiB boundary. */
    public static long alignedOffset(Memory m) {
        long a = Pointer.nativeValue(m);
        return Math.floorDiv(a + HUGE_PAGE - 1, HUGE_PAGE) * HUGE_PAGE - a;
    }

    /** {@link #advise} on a thread of its own: the bytes moved, when done. */
    public static CompletableFuture<Long> adviseInBackground(List<Range> ranges) {
        List<Range> copy = List.copyOf(ranges);
        return CompletableFuture.supplyAsync(() -> advise(copy), MOVER);
    }

    /** The 2 MiB pages the ranges touch, sorted, in as few ranges as they make. */
    static List<Range> merged(List<Range> ranges) {
        List<Range> sorted = new ArrayList<>();
        for (Range r : ranges) {
            long lo = Math.floorDiv(r.address(), HUGE_PAGE) * HUGE_PAGE;
            long hi = Math.floorDiv(r.end() + HUGE_PAGE - 1, HUGE_PAGE) * HUGE_PAGE;
            if (r.bytes() > 0) sorted.add(new Range(lo, hi - lo));
        }
        sorted.sort(Comparator.comparingLong(Range::address));
        List<Range> out = new ArrayList<>();
        Range open = null;
        for (Range r : sorted) {
            if (open != null && r.address() <= open.end()) {
                long end = Math.max(open.end(), r.end());
                open = new Range(open.address(), end - open.address());
            } else {
                if (open != null) out.add(open);
                open = r;
            }
        }
        if (open != null) out.add(open);
        return out;
    }
}
