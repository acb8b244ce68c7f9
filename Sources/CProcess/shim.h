// What Swift cannot call directly: prctl is variadic. Used by `starling exec-worker` so a worker
// dies with its peer.
#pragma once
#ifdef __linux__
#include <sys/prctl.h>
#include <signal.h>
static inline int starling_kill_with_parent(void) { return prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0); }
#else
static inline int starling_kill_with_parent(void) { return -1; }
#endif
