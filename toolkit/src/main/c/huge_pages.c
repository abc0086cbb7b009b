/*
 * rlcd4j: weights on 2 MiB pages.
 *
 * A decode step of one row streams every weight from memory once, so its speed is the memory's. With 4 KiB pages,
 * that stream also walks a page table entry every 4 KiB, and in a virtual machine each walk is two-dimensional (the
 * guest's tables, then the host's). Linux backs anonymous memory with 2 MiB pages only where asked
 * (transparent_hugepage=madvise, the common default), and libtorch does not ask. Measured gains are in
 * docs/perf/engine.md, "Weights on 2 MiB pages".
 *
 * Both calls cover the 2 MiB-aligned part of [address, address + bytes) and are advice: on older kernels, or with
 * huge pages off, memory stays as it was.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

#define HUGE_PAGE ((uintptr_t) 2 << 20)

/* The 2 MiB pages wholly inside [address, address + bytes), as [*lo, *hi); empty when *hi <= *lo. */
static void inside(int64_t address, int64_t bytes, uintptr_t *lo, uintptr_t *hi) {
    *lo = ((uintptr_t) address + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    *hi = ((uintptr_t) address + (uintptr_t) bytes) & ~(HUGE_PAGE - 1);
}

/* For memory not yet written: MADV_HUGEPAGE, so that its first writes fault in 2 MiB pages. Returns 0 or -errno. */
long rlcd4j_huge_pages_ahead(int64_t address, int64_t bytes) {
    uintptr_t lo, hi;
    inside(address, bytes, &lo, &hi);
    if (hi <= lo) return 0;
    return madvise((void *) lo, hi - lo, MADV_HUGEPAGE) == 0 ? 0 : -errno;
}

/*
 * For memory in use: MADV_COLLAPSE (Linux 6.1) moves its pages onto 2 MiB pages now, contents unchanged, a page at a
 * time so that one page the kernel will not move (in another kind of mapping; none free) costs only that page.
 * Returns the bytes moved; -errno of the last refusal where none were (EINVAL: no MADV_COLLAPSE here; EAGAIN,
 * ENOMEM: no 2 MiB page free).
 */
long rlcd4j_huge_pages(int64_t address, int64_t bytes) {
    uintptr_t lo, hi;
    inside(address, bytes, &lo, &hi);
    long moved = 0;
    int refused = 0;
    for (uintptr_t p = lo; p < hi; p += HUGE_PAGE) {
        madvise((void *) p, HUGE_PAGE, MADV_HUGEPAGE); /* and keep them there */
        if (madvise((void *) p, HUGE_PAGE, MADV_COLLAPSE) == 0)
            moved += (long) HUGE_PAGE;
        else
            refused = errno;
    }
    return moved > 0 || refused == 0 ? moved : -refused;
}
