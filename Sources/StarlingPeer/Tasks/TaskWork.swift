import StarlingCrypto
import StarlingMembership
import StarlingTasks
import StarlingTrust

/// A peer that holds (or is fetching) a model or an update, and where to reach it.
public struct BlobSource: Hashable, Sendable {
    public let node: NodeID
    public let address: PeerAddress

    public init(node: NodeID, address: PeerAddress) {
        self.node = node
        self.address = address
    }
}

/// The heavy work a task needs, which the peer machine asks of its driver (an effect) and the
/// driver answers with a `TaskWorkResult`: moving models, running workers, aggregating. The
/// machine deals in hashes only; the driver holds the bytes (the runtime in its blob store and
/// worker processes, the simulator in memory). Each kind's work is nested under one case, and each
/// driver has one executor per kind.
public enum TaskWork: Sendable, Equatable {
    /// A FederatedTask's work: train, collect an update, aggregate.
    case federated(FederatedWork)
    /// A JointInferenceService's work: serve its models in this peer's roles (or stop); also an
    /// IncrementalLearningJob's deploy peers serving its current version.
    case serve(ServeWork)
    /// An IncrementalLearningJob's work: train, evaluate, combine.
    case incremental(IncrementalWork)
    /// Hold a model locally (a candidate asked to replicate a commit, a starting model); answer
    /// `.modelHeld`.
    case holdModel(task: TaskID, round: UInt64, model: ContentHash, sources: [BlobSource])
    /// The task ended (completed, failed or cancelled) or this peer left it: stop its workers and
    /// drop its aggregations.
    case release(task: TaskID, reason: String)
}

/// A driver's answer to a `TaskWork` effect.
public enum TaskWorkResult: Sendable, Equatable {
    case federated(FederatedWorkResult)
    case serving(ServingResult)
    case incremental(IncrementalWorkResult)
    /// The model is held locally (fetched, or made here).
    case modelHeld(ContentHash)
}
