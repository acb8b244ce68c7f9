import StarlingCrypto
import StarlingTrust

/// The stages of an IncrementalLearningJob's cycle (docs/tasks.md, "How a job runs").
public enum JobStage: String, Hashable, Sendable, CaseIterable {
    case train, eval, deploy
}

/// Where a stage is: Waiting → Running → Completed or Failed.
public enum StageStatus: String, Hashable, Sendable {
    case waiting, running, completed, failed
}

/// One step of a job, committed by its coordinator on the task's line (the line's round is the
/// step's position), so every peer sees the same history and a new coordinator resumes where the
/// last one stopped. Waiting states are not committed: after a cycle ends, the next cycle's
/// training waits for its trigger; after an evaluation, the deploy waits for its own.
public struct JobTransition: Hashable, Sendable {
    public let epoch: UInt64
    /// The line's round.
    public let round: UInt64
    /// 0 for the initial model's deployment, then 1, 2, … one per training triggered.
    public let cycle: UInt64
    public let step: JobStep
    /// Unix seconds on the coordinator's clock, for people (no deadline depends on it).
    public let at: UInt64

    public init(epoch: UInt64, round: UInt64, cycle: UInt64, step: JobStep, at: UInt64) {
        self.epoch = epoch
        self.round = round
        self.cycle = cycle
        self.step = step
        self.at = at
    }

    /// As a line commit. A step that makes a model (the candidate of `.evaluating`, a version of
    /// `.deployed`) names it in the ref, so the next coordinator candidates hold it before the step
    /// spreads: a candidate outlives the peer that combined it.
    public var ref: CommitRef { CommitRef(epoch: epoch, round: round, modelHash: step.model ?? ModelHash.none) }
}

public enum JobStep: Hashable, Sendable {
    /// Deploy completed: a new model version is current (cycle 0: the initial model, version 1).
    case deployed(ModelVersion)
    /// Deploy completed by a rollback: version `to` is current again, at the request of the
    /// `RollbackRequest` entry `request`.
    case rolledBack(to: UInt64, request: ContentHash)
    /// A rollback request that names no version the job has: answered, changes nothing.
    case rollbackRefused(request: ContentHash, reason: String)
    /// Train running: the trigger fired; these peers train from the current version.
    case training(StageWork)
    /// Train completed with `candidate`; eval running on these peers.
    case evaluating(candidate: ContentHash, work: StageWork)
    /// Eval completed: the summed matrices of the candidate and of the deployed model; deploy
    /// waits for its trigger.
    case deciding(Evaluation)
    /// Deploy completed without deploying: the deploy condition did not hold (`reason` has the numbers).
    case notDeployed(reason: String)
    /// A stage failed; the job returns to Train/Waiting.
    case failed(stage: JobStage, reason: String)

    /// The model the step makes (see `JobTransition.ref`).
    public var model: ContentHash? {
        switch self {
        case let .evaluating(candidate, _): return candidate
        default: return nil
        }
    }

    /// The stage and status this step leaves the job in.
    public var position: (stage: JobStage, status: StageStatus) {
        switch self {
        case .deployed, .rolledBack, .rollbackRefused, .notDeployed: return (.deploy, .completed)
        case .training: return (.train, .running)
        case .evaluating: return (.eval, .running)
        case .deciding: return (.deploy, .waiting)
        case let .failed(stage, _): return (stage, .failed)
        }
    }

    /// Whether the cycle is over (the next one's training waits for its trigger).
    public var endsCycle: Bool {
        switch self {
        case .deployed, .rolledBack, .rollbackRefused, .notDeployed, .failed: return true
        case .training, .evaluating, .deciding: return false
        }
    }
}

/// The peers a train or eval stage runs on, and the rows of the dataset each counts (its size
/// when the trigger fired): a watermark, so a retry or a new coordinator uses the same data.
public struct StageWork: Hashable, Sendable {
    /// The version the cycle trains from, and its model.
    public let baseVersion: UInt64
    public let base: ContentHash
    /// Sorted, unique.
    public let peers: [NodeID]
    /// `rows[i]`: rows of `peers[i]`'s dataset counted.
    public let rows: [UInt64]
    /// New training rows since the last completed training (what `num_of_samples` counted).
    public let newSamples: UInt64

    public init(baseVersion: UInt64, base: ContentHash, peers: [NodeID], rows: [UInt64], newSamples: UInt64) {
        precondition(peers.count == rows.count, "one row count per peer")
        let order = peers.indices.sorted { peers[$0] < peers[$1] }
        self.baseVersion = baseVersion
        self.base = base
        self.peers = order.map { peers[$0] }
        self.rows = order.map { rows[$0] }
        self.newSamples = newSamples
    }

    public func rows(of peer: NodeID) -> UInt64? { peers.firstIndex(of: peer).map { rows[$0] } }
}

/// An eval stage's outcome over all its peers' evaluation rows.
public struct Evaluation: Hashable, Sendable {
    public let candidate: ConfusionMatrix
    public let deployed: ConfusionMatrix

    public init(candidate: ConfusionMatrix, deployed: ConfusionMatrix) {
        self.candidate = candidate
        self.deployed = deployed
    }

    /// What the deploy trigger reads: the candidate's metrics and `<metric>_delta` against the
    /// deployed model's.
    public var metrics: [String: MetricValue] {
        let candidate = candidate.metrics
        return candidate.merging(MetricValue.deltas(candidate: candidate, deployed: deployed.metrics)) { first, _ in first }
    }
}

/// A deployed model version and its lineage.
public struct ModelVersion: Hashable, Sendable {
    /// 1 for the initial model, then one more per deploy.
    public let version: UInt64
    public let model: ContentHash
    /// The version it was trained from (0 for the initial model).
    public let parent: UInt64
    public let cycle: UInt64
    /// Training rows it was trained on (all of them, not only the new ones), and evaluation rows.
    public let trainSamples: UInt64
    public let evalSamples: UInt64
    /// Its evaluation (nil for the initial model).
    public let evaluation: Evaluation?

    public init(version: UInt64, model: ContentHash, parent: UInt64, cycle: UInt64, trainSamples: UInt64, evalSamples: UInt64,
                evaluation: Evaluation?) {
        self.version = version
        self.model = model
        self.parent = parent
        self.cycle = cycle
        self.trainSamples = trainSamples
        self.evalSamples = evalSamples
        self.evaluation = evaluation
    }
}

/// A peer's answer to its share of a train or eval stage (signed by that peer; one slot per peer).
public struct StageResult: Hashable, Sendable {
    public let peer: NodeID
    /// The line round of the `.training` or `.evaluating` step it answers.
    public let round: UInt64
    public let outcome: Outcome

    public enum Outcome: Hashable, Sendable {
        /// Train: the update (the candidate's share) and the training rows it saw.
        case trained(UpdateRef)
        /// Eval: the candidate's and the deployed model's matrices on this peer's evaluation rows.
        case evaluated(Evaluation)
        case failed(String)
    }

    public init(peer: NodeID, round: UInt64, outcome: Outcome) {
        self.peer = peer
        self.round = round
        self.outcome = outcome
    }
}

/// Someone asks the job to serve an earlier version again (`starling model rollback`).
public struct RollbackRequest: Hashable, Sendable {
    /// The version wanted; 0: the current version's parent.
    public let version: UInt64
    /// Unix seconds on the asking peer, so two requests for the same version are two entries.
    public let requestedAt: UInt64

    public init(version: UInt64, requestedAt: UInt64) {
        self.version = version
        self.requestedAt = requestedAt
    }
}
