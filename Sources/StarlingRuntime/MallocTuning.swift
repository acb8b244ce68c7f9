import CProcess

/// glibc's allocator, tuned for a peer that moves models in megabyte chunks.
///
/// By default glibc serves every allocation of 128 KiB or more with its own `mmap` and returns
/// freed memory above the heap's top at once, so each 1 MiB chunk buffer (read, seal, frame, open)
/// is fresh memory: a page fault per 4 KiB and a zeroed page, about 40 % of a blob transfer's CPU
/// (`perf`, docs/benchmarks.md "Blobs"). Keeping such buffers in the heap, and keeping up to
/// `RuntimeLimits.mallocTrimBytes` of freed heap for reuse, makes them warm; measured 63 → 85 MB/s
/// per stream on loopback, with the same peak RSS.
enum MallocTuning {
    /// Applied once per process, before the first transfer (a process-wide setting; idempotent).
    static func apply() {
        _ = starling_tune_malloc(Int32(RuntimeLimits.mallocMmapThresholdBytes), Int32(RuntimeLimits.mallocTrimBytes))
    }
}
