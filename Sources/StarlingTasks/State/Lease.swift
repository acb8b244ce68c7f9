import StarlingTrust

/// A coordinator's lease on a task: "I drive the rounds under `epoch`, resuming after `base`, until
/// `expiresAt`". Signed by its holder; renewed by signing it again with a later expiry and a higher
/// `renewal`.
public struct Lease: Hashable, Sendable {
    /// 1 for the first lease; every new claim takes `TaskView.nextEpoch`.
    public let epoch: UInt64
    /// The coordinator; always the entry's author.
    public let holder: NodeID
    /// The last committed round of the line this lease resumes; nil for a task with no commit yet
    /// (the first round of this lease is then round 1).
    public let base: CommitRef?
    /// Unix seconds on the holder's clock.
    public let expiresAt: UInt64
    /// 0 for the claim, then +1 per renewal; of one (epoch, holder) only the highest is kept.
    public let renewal: UInt32
    /// The capacity the holder declared (its `capacity` tag) when it claimed: carried in the lease so
    /// that every peer resolves a same-epoch race with the same numbers (`CoordinatorElection`).
    public let capacity: Double

    public init(epoch: UInt64, holder: NodeID, base: CommitRef?, expiresAt: UInt64, renewal: UInt32 = 0,
                capacity: Double = 1) {
        self.epoch = epoch
        self.holder = holder
        self.base = base
        self.expiresAt = expiresAt
        self.renewal = renewal
        self.capacity = capacity
    }

    /// The round this lease resumes after (0: from the start).
    public var baseRound: UInt64 { base?.round ?? 0 }

    /// The same lease with a later expiry and the next renewal number.
    public func renewed(until expiresAt: UInt64) -> Lease {
        Lease(epoch: epoch, holder: holder, base: base, expiresAt: expiresAt,
              renewal: renewal &+ 1, capacity: capacity)
    }
}
