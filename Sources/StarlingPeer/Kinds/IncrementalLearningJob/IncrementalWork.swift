import StarlingCrypto
import StarlingTasks
import StarlingTrust

/// An IncrementalLearningJob's work for the driver (`TaskWork.incremental`), which its job
/// executor performs (the runtime's workers, the simulator's `EngineState+IncrementalWork`).
/// Serving the deployed version is `TaskWork.serve`, as a JointInferenceService's edge serves.
public enum IncrementalWork: Sendable, Equatable {
    /// Train a candidate from `base` on this peer's training rows; answer `.trained` or `.failed`.
    case train(JobTrainWork)
    /// Evaluate the candidate and the deployed model on this peer's evaluation rows; answer
    /// `.evaluated` or `.failed`.
    case evaluate(JobEvalWork)
    /// Coordinator: fetch the trained updates and average them (weighted by samples) into the
    /// candidate; answer `.combined` or `.failed`.
    case combine(JobCombineWork)

    public var task: TaskID {
        switch self {
        case let .train(work): return work.task
        case let .evaluate(work): return work.task
        case let .combine(work): return work.task
        }
    }
}

/// Which of a peer's rows of a dataset a stage uses: the first `rows` (the watermark its step
/// recorded), in one part of the split (`ArrivalSplit`).
public struct JobDataSlice: Sendable, Equatable {
    public let dataset: String
    public let rows: UInt64
    public let part: ArrivalSplit.Part
    public let trainProbability: Double

    public init(dataset: String, rows: UInt64, part: ArrivalSplit.Part, trainProbability: Double) {
        self.dataset = dataset
        self.rows = rows
        self.part = part
        self.trainProbability = trainProbability
    }
}

public struct JobTrainWork: Sendable, Equatable {
    public let task: TaskID
    public let spec: TaskSpec
    /// The line round of the `.training` step (results name it).
    public let round: UInt64
    public let cycle: UInt64
    public let base: ContentHash
    public let sources: [BlobSource]
    public let data: JobDataSlice
    /// The same for every worker of the job (from its id).
    public let seed: UInt64
}

public struct JobEvalWork: Sendable, Equatable {
    public let task: TaskID
    public let spec: TaskSpec
    /// The line round of the `.evaluating` step.
    public let round: UInt64
    public let cycle: UInt64
    public let candidate: ContentHash
    public let deployed: ContentHash
    /// Where both models can be fetched.
    public let sources: [BlobSource]
    public let data: JobDataSlice
}

public struct JobCombineWork: Sendable, Equatable {
    public let task: TaskID
    public let spec: TaskSpec
    /// The line round of the `.training` step.
    public let round: UInt64
    public let base: ContentHash
    public let updates: [JobUpdate]
}

/// A trained update and the peer that holds it.
public struct JobUpdate: Sendable, Equatable {
    public let update: UpdateRef
    public let source: BlobSource

    public init(update: UpdateRef, source: BlobSource) {
        self.update = update
        self.source = source
    }
}

/// The job executor's answers; `round` is the step's the work was asked for.
public enum IncrementalWorkResult: Sendable, Equatable {
    case trained(task: TaskID, round: UInt64, update: UpdateRef)
    case evaluated(task: TaskID, round: UInt64, evaluation: Evaluation)
    case combined(task: TaskID, round: UInt64, model: ContentHash)
    case failed(task: TaskID, round: UInt64, work: Work, reason: String)

    public enum Work: String, Sendable, Equatable { case train, evaluate, combine }

    public var task: TaskID {
        switch self {
        case let .trained(task, _, _), let .evaluated(task, _, _), let .combined(task, _, _), let .failed(task, _, _, _): return task
        }
    }
}
