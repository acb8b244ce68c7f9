/// The lease holder gives up: its program found the task cannot go on (for a FederatedTask, a
/// round whose announcements passed their deadlines short of `min_node_number` updates more than
/// `round_retries` times). The task ends `failed` with
/// `reason` (which workers, on which peers, and their last errors).
public struct TaskFailure: Hashable, Sendable {
    public let epoch: UInt64
    public let round: UInt64
    /// Printable text, at most `TaskStateLimits.failureBytesMax` bytes.
    public let reason: String

    public init(epoch: UInt64, round: UInt64, reason: String) {
        self.epoch = epoch
        self.round = round
        self.reason = reason
    }
}
