/// Every bound of blob transfer, in one place (docs/runtime.md, "Blobs").
///
/// A blob moves as chunks of `chunkBytes`, one chunk per TCP exchange, so a chunk answer always
/// fits a frame and neither side ever holds more than a chunk per exchange in memory.
public enum BlobLimits {
    /// Largest chunk of blobs made here (every chunk but the last has the blob's chunk size).
    public static let chunkBytes = 1024 * 1024
    /// Smallest chunk of blobs made here.
    public static let chunkBytesMin = 64 * 1024
    /// Chunks a blob made here is cut into at least, when `chunkBytesMin` allows: fetchers that
    /// start together can only serve each other chunks they do not all ask for at once (a 4 MB
    /// model in 1 MiB chunks went 7.4 times out of its coordinator per round, to 10 participants).
    public static let chunksPerBlobMin = 32

    /// The chunk size for a blob of `byteCount` bytes: the smallest power of two from
    /// `chunkBytesMin` to `chunkBytes` that cuts it into at most `chunksPerBlobMin` chunks, else
    /// `chunkBytes`.
    public static func chunkBytes(forBlobOf byteCount: UInt64) -> Int {
        var size = chunkBytesMin
        while size < chunkBytes && UInt64(size) * UInt64(chunksPerBlobMin) < byteCount { size *= 2 }
        return size
    }
    /// Largest chunk size a manifest may declare: a sealed chunk answer must fit one 4 MiB frame.
    public static let chunkBytesMax = 2 * 1024 * 1024
    /// Largest blob (a model or an update).
    public static let blobBytesMax: UInt64 = 2 * 1024 * 1024 * 1024
    /// Most chunks a manifest may list: 2 GiB at 1 MiB is 2,048; the rest is room for smaller
    /// chunk sizes. A manifest is then at most ~512 KiB, one frame.
    public static let chunksMax = 16_384
    /// Chunk requests one fetch keeps in flight (its share of connections and read buffers).
    public static let chunksInFlightPerFetch = 4
    /// Fetches (distinct blobs) transferring at once; more wait in line.
    public static let fetchesMax = 8
    /// Fetches waiting for a slot; beyond it a fetch fails at once.
    public static let fetchesQueuedMax = 256
    /// Callers waiting on one shared transfer.
    public static let waitersPerFetchMax = 64
    /// Chunk answers queued for writing at once, in chunks: a chunk is answered "busy" (as not held,
    /// so the asker goes elsewhere) when the runtime's queued write bytes would pass
    /// `servesMax * chunkBytes`.
    public static let servesMax = 16
    /// Failures a chunk (or the manifest) may see (corrupt data, failed requests, a whole round of
    /// sources without it) before its fetch gives up.
    public static let retriesPerChunk = 6
    /// "Busy" answers one chunk may get (each asked again after `busyBackoff`) before its fetch
    /// gives up: a source that stays saturated for ~10 s.
    public static let busyRetriesPerChunk = 100
    public static let busyBackoff: Duration = .milliseconds(100)
    /// Other holders (participants) asked for a chunk before the first source (the coordinator):
    /// enough to spread a model among fetchers that start together, few enough that a chunk none
    /// of them holds yet costs at most this many extra round trips.
    public static let othersAskedBeforeFirstSource = 3
    /// Consecutive failed requests after which a source is skipped for the rest of the fetch.
    public static let sourceFailuresMax = 3
    /// Sources one fetch may use.
    public static let sourcesMax = 64
    /// One chunk or manifest exchange, connect to last byte.
    public static let requestTimeout: Duration = .seconds(30)
    /// Requesters whose pairwise keys are kept (X25519 costs ~100 µs; a chunk answer far less).
    public static let pairwiseKeysCached = 256
    /// Manifests of complete blobs kept in memory for serving.
    public static let manifestsCached = 64
    /// Largest blob `read(_:)` returns in memory; bigger ones are read through `filePath(of:)`.
    public static let readBytesMax = 256 * 1024 * 1024
}
