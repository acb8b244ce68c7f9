/// Counts of what the engine did, for reports and tests.
public struct SimulationStatistics: Sendable, Equatable {
    /// Events popped from the queue (including stale ones that were skipped).
    public var events: UInt64 = 0
    /// Inputs handed to machines.
    public var inputs: UInt64 = 0
    public var staleEvents: UInt64 = 0
    /// Events held back because their node was slow.
    public var deferredEvents: UInt64 = 0

    public var datagramsSent: UInt64 = 0
    public var datagramsDelivered: UInt64 = 0
    public var datagramsLost: UInt64 = 0
    public var datagramsDuplicated: UInt64 = 0
    public var datagramsPartitioned: UInt64 = 0
    /// Sent to a node that was down, or in flight when it crashed or restarted.
    public var datagramsToDownNodes: UInt64 = 0
    public var datagramsUnroutable: UInt64 = 0
    public var datagramsOversized: UInt64 = 0

    public var requestsSent: UInt64 = 0
    public var responsesDelivered: UInt64 = 0
    public var exchangeFailures: UInt64 = 0
    public var exchangeTimeouts: UInt64 = 0
    /// Stream segments "lost" on a lossy network, each delivered after a retransmission timeout.
    public var streamRetransmissions: UInt64 = 0

    public var timersFired: UInt64 = 0
    public var crashes: UInt64 = 0
    public var restarts: UInt64 = 0

    /// Bytes sent by honest nodes, and the total time honest nodes were up (for bytes/node/s).
    public var honestBytesSent: UInt64 = 0
    public var honestUpNanoseconds: Double = 0

    public init() {}
}
