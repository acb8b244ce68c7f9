import StarlingCrypto
import StarlingMembership
import StarlingTasks
import StarlingTrust

/// The IncrementalLearningJob program (docs/tasks.md, "How a job runs"): a deployed model keeps
/// learning from the data arriving at the peers that hold the job's dataset. As coordinator
/// (`+Coordinator`): deploy the initial model as version 1; check the train trigger every
/// `checkPeriodSeconds` on the new training rows; commit Train/Running on the peers with the data;
/// combine their updates into a candidate; commit Eval/Running; sum the peers' confusion matrices;
/// check the deploy trigger on the metrics and deltas; commit the new version, or "not deployed";
/// answer rollback requests. Every step is a commit on the line, replicated before it spreads, so a
/// new coordinator resumes mid-stage and never deploys a candidate twice. As participant
/// (`+Participant`): train or evaluate this peer's share once per step, and serve the current
/// version on the deploy peers.
enum IncrementalProgram: TaskProgram {
    typealias Spec = IncrementalLearningJobSpec
    typealias WorkResult = JobWorkResult

    struct Local: Sendable {
        // Coordinator.
        /// When the next trigger check is due (this peer's monotonic clock).
        var nextTrainCheck: Instant?
        var nextDeployCheck: Instant?
        /// What the last train-trigger check found (shown by `task status`, logged when it changes).
        var trainCheck: String?
        /// When this coordinator first saw the running step of each round (its deadline's start).
        var stageSeen: [UInt64: Instant] = [:]
        /// The round whose updates the driver is combining, and its answer.
        var combining: UInt64?
        var combined: [UInt64: Result<ContentHash, StageFailure>] = [:]
        /// New training rows counted per peer (`from..<to` → count), so a check hashes only new rows.
        var counted: [NodeID: CountedRows] = [:]
        /// The last reason the job could not move (logged once per reason).
        var waitingFor: String?

        // Participant.
        /// Rounds whose train or eval share this peer asked of its driver.
        var asked: Set<UInt64> = []
        /// The version last asked to be served here (0: stop), and what the driver answered.
        var serving: UInt64?
        var served: UInt64?
        var servingFailure: String?
        /// When a version that failed to load is asked for again (`deploySpec.model.pollPeriodSeconds`).
        var retryServingAt: Instant?
    }

    struct CountedRows: Sendable, Equatable {
        let from: UInt64
        let to: UInt64
        let count: UInt64
    }

    struct StageFailure: Error, Sendable, Equatable {
        let reason: String
    }

    static func spec(of spec: TaskSpec) -> Spec? { spec.incrementalLearningJob }
    static func held(_ local: Local) -> ProgramLocal { .incremental(local) }
    static func local(_ held: ProgramLocal?) -> Local {
        if case let .incremental(local)? = held { return local }
        return Local()
    }

    static func coordinators(_ candidates: [CoordinatorElection.Candidate], spec: Spec, host: some TaskHost)
        -> [CoordinatorElection.Candidate] { candidates }

    /// The job's seed: the same on every peer.
    static func seed(of id: TaskID) -> UInt64 { FederatedProgram.seed(of: id) }
}

/// What the driver answers an IncrementalLearningJob: its own work, or its serving.
enum JobWorkResult {
    case work(IncrementalWorkResult)
    case serving(ServingResult)
}
