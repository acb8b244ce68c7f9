// A memory hint Swift cannot give: madvise(MADV_HUGEPAGE) on the 2 MiB-aligned interior of a
// buffer, before it is first written. This kernel's transparent huge pages are "madvise" only, so
// without the hint a fresh 100 MB buffer costs 25,600 page faults (about 60 ms of aggregation);
// with it, 50. Used by StarlingLearning's VectorMath for model-sized float buffers.
#pragma once
#include <stddef.h>
#include <stdint.h>
#ifdef __linux__
#include <sys/mman.h>
#endif
static inline void starling_advise_huge_pages(void *start, size_t length) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const uintptr_t huge = (uintptr_t)2 * 1024 * 1024;
    uintptr_t begin = ((uintptr_t)start + huge - 1) & ~(huge - 1);
    uintptr_t end = ((uintptr_t)start + length) & ~(huge - 1);
    if (end > begin) (void)madvise((void *)begin, end - begin, MADV_HUGEPAGE);
#else
    (void)start; (void)length;
#endif
}
