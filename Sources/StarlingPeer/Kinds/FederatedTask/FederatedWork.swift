import StarlingCrypto
import StarlingMembership
import StarlingTasks
import StarlingTrust

/// A FederatedTask's work for the driver (`TaskWork.federated`), which its federated executor
/// performs: the runtime's `TaskRunner`, the simulator's `EngineState+Work`.
public enum FederatedWork: Sendable, Equatable {
    /// Run a training worker for a round: fetch the base model (unless `ModelHash.none`) from
    /// `sources`, hand it to the worker, and answer `.trained` or `.trainingFailed`.
    case train(TrainingWork)
    /// Coordinator: fetch a participant's update and fold it into the round's aggregation; answer
    /// `.collected`.
    case collect(CollectWork)
    /// Coordinator: finish the round's aggregation with the updates folded so far; answer `.aggregated`.
    case aggregate(AggregateWork)

    public var task: TaskID {
        switch self {
        case let .train(work): return work.task
        case let .collect(work): return work.task
        case let .aggregate(work): return work.task
        }
    }
}

public struct TrainingWork: Sendable, Equatable {
    public let task: TaskID
    public let spec: TaskSpec
    public let worker: String
    public let epoch: UInt64
    public let round: UInt64
    public let baseModel: ContentHash
    /// The coordinator first (it holds the base model), then the round's other participants (which
    /// serve the chunks they already fetched).
    public let sources: [BlobSource]
    /// Whether the worker should also evaluate the base model on its local data this round.
    public let validate: Bool
    /// Unix seconds on the coordinator's clock.
    public let deadline: UInt64
    /// The same for every worker of a task (from its id): workers initialise round 1 identically.
    public let seed: UInt64

    public init(task: TaskID, spec: TaskSpec, worker: String, epoch: UInt64, round: UInt64, baseModel: ContentHash,
                sources: [BlobSource], validate: Bool, deadline: UInt64, seed: UInt64) {
        self.task = task
        self.spec = spec
        self.worker = worker
        self.epoch = epoch
        self.round = round
        self.baseModel = baseModel
        self.sources = sources
        self.validate = validate
        self.deadline = deadline
        self.seed = seed
    }
}

public struct CollectWork: Sendable, Equatable {
    public let task: TaskID
    public let spec: TaskSpec
    public let epoch: UInt64
    public let round: UInt64
    /// The model the round started from: the aggregation's base.
    public let baseModel: ContentHash
    public let worker: String
    public let update: UpdateRef
    public let source: BlobSource
}

public struct AggregateWork: Sendable, Equatable {
    public let task: TaskID
    public let spec: TaskSpec
    public let epoch: UInt64
    public let round: UInt64
    public let baseModel: ContentHash
    /// Score the new model on the task's central evaluation dataset
    /// (`aggregationWorker.evaluation`) before answering, and add the scores to the round's metrics
    /// as `central_<name>`: this round validates (every `rounds_between_validations`, and the last).
    public var evaluate: Bool = false
}

/// What an aggregation produced.
public struct AggregatedRound: Sendable, Equatable {
    public let model: ContentHash
    /// Workers whose updates went in.
    public let participants: [String]
    public let sampleCount: UInt64
    /// Sample-weighted means of the workers' metrics, plus the aggregation's own.
    public let metrics: [String: Double]

    public init(model: ContentHash, participants: [String], sampleCount: UInt64, metrics: [String: Double]) {
        self.model = model
        self.participants = participants
        self.sampleCount = sampleCount
        self.metrics = metrics
    }
}

/// The federated executor's answer to a `FederatedWork`.
public enum FederatedWorkResult: Sendable, Equatable {
    case trained(task: TaskID, worker: String, epoch: UInt64, round: UInt64, update: UpdateRef)
    case trainingFailed(task: TaskID, worker: String, epoch: UInt64, round: UInt64, reason: String)
    /// `rejection` is nil when the update was folded in, else why it was not (fetch failed, wrong
    /// shapes, NaN...).
    case collected(task: TaskID, epoch: UInt64, round: UInt64, worker: String, rejection: String?)
    case aggregated(task: TaskID, epoch: UInt64, round: UInt64, AggregatedRound)
    case aggregationFailed(task: TaskID, epoch: UInt64, round: UInt64, reason: String)

    public var task: TaskID {
        switch self {
        case let .trained(task, _, _, _, _), let .trainingFailed(task, _, _, _, _), let .collected(task, _, _, _, _),
             let .aggregated(task, _, _, _), let .aggregationFailed(task, _, _, _):
            return task
        }
    }
}
