import StarlingWire

/// Every bound of the libuv runtime, in one place.
///
/// The runtime faces the network, so everything a remote peer can make it hold (connections,
/// buffered bytes, time) has a maximum here; what goes over is dropped or refused and counted
/// (see `RuntimeCounters`), never queued without limit.
public enum RuntimeLimits {
    // MARK: UDP

    /// Largest datagram sent or accepted; larger ones are dropped and counted.
    public static let datagramBytesMax = WireLimits.datagramBytesMax
    /// Size of the loop's one receive buffer. A UDP payload is at most 65,507 bytes, so a datagram of
    /// any size fits and an oversized one is measured (and counted) rather than truncated unseen.
    public static let receiveBufferBytes = 65_536

    // MARK: TCP

    /// Largest frame body (after the 4-byte big-endian length); a larger prefix is refused as soon as
    /// it arrives, before any of the body is buffered.
    public static let frameBytesMax = WireLimits.frameBytesMax
    /// Concurrent inbound connections (requests being read, answered or written). More are accepted
    /// and closed at once, so the listener never stalls.
    public static let inboundConnectionsMax = 64
    /// Concurrent outbound requests; `sendRequest` beyond it fails at once with `.unreachable`.
    public static let outboundConnectionsMax = 64
    /// An inbound connection must deliver its whole request frame within this time.
    public static let inboundReadTimeout: Duration = .seconds(10)
    /// The machine must answer an inbound request (`sendReply`) within this time.
    public static let inboundReplyTimeout: Duration = .seconds(30)
    /// A reply must be written out (the client reading it) within this time.
    public static let replyWriteTimeout: Duration = .seconds(30)
    /// Bytes queued for writing on all streams together (requests, replies, local API answers).
    public static let writeQueuedBytesMax = 64 * 1024 * 1024
    /// Bytes of partial frames buffered from all streams together.
    public static let readBufferedBytesMax = 64 * 1024 * 1024
    /// Pending connections the kernel keeps for `accept`.
    public static let listenBacklog: Int32 = 128

    // MARK: Memory

    /// Allocations at least this large get their own `mmap` (glibc's default is 128 KiB, rising
    /// with use). Chunk buffers (1–2 MiB) stay in the heap and are reused warm (`MallocTuning`).
    public static let mallocMmapThresholdBytes = 32 * 1024 * 1024
    /// Freed heap kept for reuse before it is returned to the kernel: room for a transfer's chunk
    /// buffers, so an idle peer's RSS grows by at most this much after moving models.
    public static let mallocTrimBytes = 64 * 1024 * 1024

    // MARK: Local API (what its clients share too is in StarlingLocalAPI's `LocalAPILimits`)

    /// Concurrent local API clients; more are accepted and closed at once.
    public static let localConnectionsMax = 16

    // MARK: Shutdown

    /// After SIGINT/SIGTERM the machine has this long to leave gracefully (emit `.left`).
    public static let leaveGracePeriod: Duration = .seconds(3)
}
