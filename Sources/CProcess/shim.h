// Process-wide settings Swift cannot reach directly: prctl is variadic, and Glibc's module map does
// not export <malloc.h>. Used by `starling exec-worker` (a worker dies with its peer) and by the
// runtime's allocator tuning (StarlingRuntime/MallocTuning.swift).
#pragma once
#ifdef __linux__
#include <sys/prctl.h>
#include <signal.h>
#include <malloc.h>
static inline int starling_kill_with_parent(void) { return prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0); }
static inline int starling_tune_malloc(int mmap_threshold, int trim_threshold) {
    return mallopt(M_MMAP_THRESHOLD, mmap_threshold) && mallopt(M_TRIM_THRESHOLD, trim_threshold);
}
#else
static inline int starling_kill_with_parent(void) { return -1; }
static inline int starling_tune_malloc(int mmap_threshold, int trim_threshold) { return 0; }
#endif
