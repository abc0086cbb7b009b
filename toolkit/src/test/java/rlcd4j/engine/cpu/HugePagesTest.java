package rlcd4j.engine.cpu;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A native decoder's weights on 2 MiB pages (HugePages), checked in the kernel's own accounting. */
class HugePagesTest {
    private static final long MIB2 = 2L << 20;

    @Test
    void rangesAreWidenedToThePagesTheyTouchAndJoinedWhereThoseMeet() {
        List<HugePages.Range> merged = HugePages.merged(List.of(
                new HugePages.Range(5 * MIB2 + 100, 10), // alone on page 5
                new HugePages.Range(MIB2 + 16, MIB2), // pages 1 and 2
                new HugePages.Range(3 * MIB2 - 8, 16), // pages 2 and 3: meets the one before
                new HugePages.Range(9 * MIB2, 0))); // empty: nothing
        assertEquals(List.of(new HugePages.Range(MIB2, 3 * MIB2), new HugePages.Range(5 * MIB2, MIB2)), merged);
    }

    @Test
    void aDecoderAsksFor2MiBPagesUnderTheWeightsItReadsAndLeavesTheirValues() throws IOException {
        assumeTrue(NativeDecoder.enabled(), NativeDecoder.status());
        String thp = Files.readString(Path.of("/sys/kernel/mm/transparent_hugepage/enabled"));
        assumeTrue(!thp.contains("[never]"), "transparent huge pages are off here: " + thp.strip());
        assumeTrue(collapseExists(), "MADV_COLLAPSE needs Linux 6.1 or later");
        int D = 64, heads = 2, hd = 32, ffn = 128, vocab = 65536; // the embedding: 16 MiB of fp32
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray embed = m.arange(0f, (float) vocab * D).reshape(vocab, D);
            NDArray qkv = m.zeros(new Shape((heads + 2) * hd, D)), o = m.zeros(new Shape(D, heads * hd));
            NDArray gateUp = m.zeros(new Shape(2 * ffn, D)), down = m.zeros(new Shape(D, ffn));
            NDArray norm = m.ones(new Shape(D)), invFreq = m.ones(new Shape(hd / 2));
            long e = DecodeAttention.address(embed);
            long inside = pagesInside(e, embed.size() * 4);
            // where huge pages are "always", libtorch's array may be on them already, and there is nothing to move
            assumeTrue(anonHugeBytes(e, e + embed.size() * 4) < inside, "already on 2 MiB pages");

            NativeDecoder decoder = NativeDecoder.of(
                    new NativeDecoder.Plan(
                            D,
                            heads,
                            heads,
                            hd,
                            ffn,
                            vocab,
                            1e-5f,
                            NativeDecoder.F32,
                            e,
                            DecodeAttention.address(norm),
                            e,
                            DecodeAttention.address(invFreq),
                            new long[] {DecodeAttention.address(norm)},
                            new long[] {DecodeAttention.address(qkv)},
                            new long[] {DecodeAttention.address(o)},
                            new long[] {DecodeAttention.address(norm)},
                            new long[] {DecodeAttention.address(gateUp)},
                            new long[] {DecodeAttention.address(down)}),
                    List.of());

            assertNotNull(decoder);
            long moved = decoder.hugePages().join();
            assertTrue(moved >= inside, moved + " bytes, expected " + inside);
            long seen = anonHugeBytes(e, e + embed.size() * 4);
            assertTrue(seen >= inside, "the kernel counts " + seen + " bytes on 2 MiB pages, expected " + inside);
            float[] values = embed.toFloatArray();
            for (int i = 0; i < values.length; i++) assertEquals(i, values[i], "weight " + i);
        }
    }

    @Test
    void memoryAllocatedForCopiesFaultsIn2MiBPages() throws IOException {
        assumeTrue(NativeDecoder.enabled(), NativeDecoder.status());
        String thp = Files.readString(Path.of("/sys/kernel/mm/transparent_hugepage/enabled"));
        assumeTrue(!thp.contains("[never]"), "transparent huge pages are off here: " + thp.strip());
        long bytes = 16L << 20;
        Memory block = HugePages.allocate(bytes);
        long start = Pointer.nativeValue(block) + HugePages.alignedOffset(block);
        assertEquals(0, start % MIB2);
        assertTrue(HugePages.alignedOffset(block) + bytes <= block.size());
        block.share(HugePages.alignedOffset(block), bytes).setMemory(0, bytes, (byte) 1); // the first writes
        long seen = anonHugeBytes(start, start + bytes);
        assertTrue(seen >= bytes, "the kernel counts " + seen + " bytes on 2 MiB pages, expected " + bytes);
        block.close();
    }

    @Test
    void aDecoderOf16BitCopiesMovesNothingAgain() {
        assumeTrue(NativeDecoder.enabled(), NativeDecoder.status());
        int D = 64, heads = 2, hd = 32, ffn = 128, vocab = 65536; // the embedding: 8 MiB of bf16
        long matrixBytes = 2L * vocab * D;
        Memory block = HugePages.allocate(matrixBytes);
        long at = Pointer.nativeValue(block) + HugePages.alignedOffset(block);
        block.share(HugePages.alignedOffset(block), matrixBytes).setMemory(0, matrixBytes, (byte) 0);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray norm = m.ones(new Shape(D)), invFreq = m.ones(new Shape(hd / 2));
            long n = DecodeAttention.address(norm);
            // every matrix at the block's start: only the ranges matter here, no step is taken
            NativeDecoder decoder = NativeDecoder.of(
                    new NativeDecoder.Plan(
                            D,
                            heads,
                            heads,
                            hd,
                            ffn,
                            vocab,
                            1e-5f,
                            NativeDecoder.BF16,
                            at,
                            n,
                            at,
                            DecodeAttention.address(invFreq),
                            new long[] {n},
                            new long[] {at},
                            new long[] {at},
                            new long[] {n},
                            new long[] {at},
                            new long[] {at}),
                    List.of(block));
            assertNotNull(decoder);
            assertEquals(0L, decoder.hugePages().join(), "16-bit copies are made on 2 MiB pages; nothing to move");
        }
    }

    /** The bytes of the whole 2 MiB pages within [address, address + bytes). */
    private static long pagesInside(long address, long bytes) {
        long lo = Math.floorDiv(address + MIB2 - 1, MIB2) * MIB2, hi = Math.floorDiv(address + bytes, MIB2) * MIB2;
        return Math.max(0, hi - lo);
    }

    /** AnonHugePages of the mappings that overlap [lo, hi), from /proc/self/smaps. */
    private static long anonHugeBytes(long lo, long hi) throws IOException {
        long total = 0;
        boolean overlapping = false;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                String[] range = line.substring(0, line.indexOf(' ')).split("-");
                long start = Long.parseUnsignedLong(range[0], 16), end = Long.parseUnsignedLong(range[1], 16);
                overlapping = start < hi && end > lo;
            } else if (overlapping && line.startsWith("AnonHugePages:")) {
                total += Long.parseLong(line.replaceAll("\\D+", "")) * 1024;
            }
        }
        return total;
    }

    private static boolean collapseExists() throws IOException {
        String[] release =
                Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip().split("[.-]");
        int major = Integer.parseInt(release[0]), minor = Integer.parseInt(release[1]);
        return major > 6 || (major == 6 && minor >= 1);
    }
}
