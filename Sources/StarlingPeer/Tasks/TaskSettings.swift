import StarlingMembership

/// Every timing and count of the task layer, in one place (docs/tasks.md).
public struct TaskSettings: Sendable, Equatable {
    /// How often each peer looks at its tasks: claims, renewals, announcements, commits, reports.
    public var tickInterval: Duration = .seconds(1)
    /// A lease is signed to last this long and renewed every `renewEvery`, so a coordinator that
    /// stops (but is not declared dead) loses its task within `leaseDuration`.
    public var leaseSeconds: UInt64 = 15
    public var renewEverySeconds: UInt64 = 5
    /// With no valid lease, the candidate ranked k (in this peer's view) claims after k × this: long
    /// enough for the rank-0 claim to reach it first.
    public var claimBackoff: Duration = .seconds(3)
    /// A lease whose holder membership declared dead still stands this long (not for a holder that
    /// left): long enough for a refutation to arrive when the verdict was wrong.
    public var deadHolderGrace: Duration = .seconds(5)
    /// A peer that started with peers to join (bootstrap addresses, or peers remembered from
    /// before a restart) claims no lease until it hears from a member, or for this long after its
    /// start: its copy of a task may be behind, and a lease may stand elsewhere (a restarted
    /// coordinator once claimed, alone, a task the others were running). A peer with nobody to
    /// join (a one-peer cluster, the first seed) claims at once.
    public var claimAloneAfter: Duration = .seconds(15)
    /// Each change is advertised this many times × ceil(log10 N) (as membership updates are).
    public var advertMultiplier = 4
    /// Every tick, one random task is advertised once more, so peers that missed every advert (a
    /// late joiner, a healed partition) still hear of it.
    public var trickleAdverts = 1
    /// Bytes of each datagram left for adverts after membership's share (PiggybackBudget).
    public var advertsPerDatagramMax = 4
    /// Stream pulls in flight at once.
    public var pullsMax = 4
    public var pullTimeout: Duration = .seconds(5)
    /// Before a commit is announced, it is pushed to this many next candidates, each answering
    /// with a signed `replicated` entry; the commit waits at most `replicateTimeout` for them.
    public var replicateTo = 2
    /// Long enough for a candidate to fetch the committed model (it answers "not yet" until it
    /// holds it, and is asked again every `replicateRetry`).
    public var replicateTimeout: Duration = .seconds(20)
    public var replicateRetry: Duration = .milliseconds(100)
    /// A coordinator that asked for an imported starting model and has not got it asks for it
    /// again after this long (the fetch may have failed, or its source gone).
    public var startingModelRetry: Duration = .seconds(10)
    /// An IncrementalLearningJob's train or eval stage ends this long after its coordinator saw it
    /// start (by its own clock; a new coordinator counts from when it took over): with the results
    /// in by then, or failed. Neither Sedna job stuck in eval (#317) nor a peer gone for good can
    /// hold a job.
    public var jobStageTimeout: Duration = .seconds(1_800)
    /// Peers one entry is pushed to directly (`Peer+TaskPush`); the others hear of it by gossip.
    public var pushTargetsMax = 64
    /// Passes over changed tasks after each input (`driveChangedTasks`).
    public var drivePassesMax = 3
    /// Model hashes the machine remembers the driver holding (a cache; see `TaskBook.heldModels`).
    public var heldModelsMax = 256
    /// Tasks held; a submission or an advert beyond this is refused and counted.
    public var tasksMax = 1_000
    /// Certificates kept of task authors that are not members (see `TaskEntries`).
    public var certificatesMax = 20_000

    public init() {}
}
