import StarlingCrypto
import StarlingTrust

/// Where a task is.
public enum TaskPhase: String, Sendable, CustomStringConvertible {
    /// Submitted; no coordinator has claimed it yet.
    case pending
    /// At least one lease has been taken.
    case running
    /// A `complete` entry on the surviving line.
    case completed
    /// A valid `cancel` (and no completion).
    case cancelled
    /// A counted `fail` by the current lease holder: a round could not fill within its retries.
    case failed

    public var description: String { rawValue }
}

/// How the view counts an entry the state holds.
public enum EntryStatus: String, Sendable, CustomStringConvertible {
    /// Part of the view: on the surviving line, a lease of its chain, a report, a cancel...
    case counted
    /// Valid under its lease, but that lease lost (to the surviving line or a same-epoch race).
    case superseded
    /// Fenced by a later epoch, or under an epoch its author holds no lease for.
    case stale

    public var description: String { rawValue }
}

/// A commit on the surviving line, whatever its kind (`ProgramEntry.lineCommit`).
public struct LineCommit: Hashable, Sendable {
    public let ref: CommitRef
    /// The lease holder that signed the commit.
    public let coordinator: NodeID
    /// The hash of the commit entry.
    public let entry: ContentHash

    public init(ref: CommitRef, coordinator: NodeID, entry: ContentHash) {
        self.ref = ref
        self.coordinator = coordinator
        self.entry = entry
    }

    public var round: UInt64 { ref.round }
    public var epoch: UInt64 { ref.epoch }
    public var modelHash: ContentHash { ref.modelHash }
}

/// What a task's entries mean: a pure function of the set of entries (`TaskState.view`).
///
/// The rules (docs/tasks.md, "Replicated state, leases and the line of rounds"):
/// - **Leases.** Of one (epoch, holder) only the highest renewal is kept (by the state).
///   `nextEpoch` is 1 + the highest epoch of any lease, so a new claim is above every side.
/// - **Fencing.** A lease of epoch E resuming after round b fences every lower epoch at b: a commit,
///   announce or completion under an epoch below E for a round after b is stale. So is one under an
///   epoch its author holds no lease for.
/// - **Segments.** A lease's segment is the unbroken run of its holder's commits under its epoch at
///   rounds base+1, base+2, ... (up to its fence). Two commits of one round by one holder: the lower
///   hash counts.
/// - **Chains.** A lease with no base starts a chain; a lease whose base (epoch, round, model) is a
///   commit on another lease's segment continues that lease's chain (the best one if several
///   match); a lease whose base is not on any segment (yet) is on no chain.
/// - **The surviving line** is the chain that is best by: highest last committed round, then higher
///   tip epoch, then higher election score of the tip holder (`CoordinatorElection.electionScore`,
///   capacity only, so every peer agrees), then lower tip NodeID. Its commits are the tip's segment
///   preceded by each predecessor's segment up to the next lease's base: no round appears twice.
///   Every other commit is superseded (kept, never dropped).
/// - **Current lease**: the tip of the surviving line. Two holders of one epoch (a race, or both
///   sides of a partition) are therefore settled by progress first, then score, then NodeID; the
///   loser's lease is superseded.
/// - **Phase**: completed when a `complete` entry by the lease holder names a commit on the line;
///   else failed when a `fail` by the current holder under its epoch names a round past the line;
///   else cancelled after any cancel; else running once any lease exists; else pending.
/// - **The program's view** (`program`): what the kind's own entries mean, derived by the kind
///   from the counted entries and the line (for a FederatedTask: the announced round, the workers'
///   reports, the commits' details). Nil for a kind this peer has no program for.
public struct TaskView: Sendable, Equatable {
    public let task: TaskID
    public let phase: TaskPhase
    /// The tip of the surviving line (nil while no lease is on a chain).
    public let currentLease: Lease?
    /// The epoch a new claim must take.
    public let nextEpoch: UInt64
    /// The surviving line, by round.
    public let committedRounds: [LineCommit]
    /// The reason of a cancel (the one with the lowest entry hash, when several).
    public let cancelReason: String?
    /// The commit a `complete` entry declared final.
    public let completion: CommitRef?
    /// The counted `fail` entry (then the phase is `failed`, unless the task completed).
    public let failure: TaskFailure?
    /// Coordinator candidates that acknowledged holding each commit (sorted).
    public let replicatedBy: [CommitRef: [NodeID]]
    /// What the kind's own entries mean (nil: no program for the task's kind).
    public let program: ProgramView?
    let statuses: [ContentHash: EntryStatus]

    public var lastCommitted: LineCommit? { committedRounds.last }

    /// How the view counts the entry with this hash (nil for an entry the state does not hold).
    public func status(of entry: ContentHash) -> EntryStatus? { statuses[entry] }

    /// Hashes of the entries with this status, sorted.
    public func entries(_ status: EntryStatus) -> [ContentHash] {
        statuses.filter { $0.value == status }.map(\.key).sorted()
    }

    /// Whether the current lease still stands: not expired at `unixNow`, and its holder not declared
    /// dead or left by membership (`holderAlive`, which the caller knows and the state does not).
    public func isLeaseValid(at unixNow: UInt64, holderAlive: Bool) -> Bool {
        guard let lease = currentLease else { return false }
        return holderAlive && unixNow < lease.expiresAt
    }
}
