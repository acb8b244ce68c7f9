import StarlingCrypto
import StarlingTasks
import StarlingTrust

/// A task as one peer sees it: what `starling task list|status|watch` print. Any peer answers for
/// any task it has heard of.
public struct TaskSummary: Sendable, Equatable {
    public struct Participant: Sendable, Equatable {
        public var worker: String
        /// The peer running the worker (its NodeID and, when known, its name).
        public var node: NodeID
        public var nodeName: String?
        /// The worker's latest report: ready, training, submitted, failed or left (nil: none yet).
        public var state: String?
        public var round: UInt64?
        public var message: String?
    }

    public struct Round: Sendable, Equatable {
        public var round: UInt64
        public var epoch: UInt64
        public var coordinator: NodeID
        public var modelHash: ContentHash
        public var participants: [String]
        /// The commit's metrics (sample-weighted means of the workers' loss, accuracy...).
        public var metrics: [String: Double] = [:]
        public var sampleCount: UInt64 = 0
        /// Coordinator candidates that acknowledged holding the commit's model (`replicated`):
        /// where a peer that lacks it fetches it from (`starling model export`).
        public var replicatedBy: [NodeID] = []
    }

    public var id: TaskID
    public var name: String
    public var kind: String
    /// pending, running, completed, failed, cancelled, or `unsupported` (a kind this peer has no
    /// program for: it holds and gossips the task, and never runs it).
    public var phase: String
    public static let unsupported = "unsupported"
    public var submitter: NodeID
    public var submitterName: String?
    public var submittedAt: UInt64
    /// The current lease: its holder, epoch and expiry (unix seconds), and whether it still stands.
    public var coordinator: NodeID?
    public var coordinatorName: String?
    public var epoch: UInt64?
    public var leaseExpiresAt: UInt64?
    public var leaseValid: Bool
    /// Last committed round and the task's round limit.
    public var round: UInt64
    public var rounds: UInt64
    /// The round announced and not yet committed, with its deadline.
    public var announcedRound: UInt64?
    public var roundDeadline: UInt64?
    /// The model the announced round starts from (nil: none announced; `ModelHash.none`: round 1
    /// from `STARLING_SEED`).
    public var announcedBaseModel: ContentHash?
    public var participants: [Participant]
    public var committed: [Round]
    /// Commits kept but not on the surviving line (another side of a partition, a lost race) or
    /// fenced by a later epoch.
    public var superseded: Int
    public var stale: Int
    public var lastError: String?
    public var cancelReason: String?
    /// Why the task failed (`TaskFailure.reason`), when it did.
    public var failure: String?
    /// Updates a round needs (`min_node_number`), and the attempts the announced round has had
    /// (announcements whose deadline passed) out of the most it may have (1 + `round_retries`).
    public var minNodeNumber: Int = 0
    public var roundAttempts: Int = 0
    public var roundAttemptsMax: Int = 0
    /// Entries held for the task.
    public var entries: Int
    /// `TaskState.digest`: equal on two peers exactly when they hold the same entries.
    public var digest: ContentHash
    /// A JointInferenceService's current deployment (nil for other kinds, or before the first).
    public var service: Service?
    /// An IncrementalLearningJob's stage, versions and history (nil for other kinds).
    public var job: Job?

    /// A serving peer, and whether this peer's membership holds it up.
    public struct ServicePeer: Sendable, Equatable {
        public var node: NodeID
        public var nodeName: String?
        public var up: Bool
    }

    /// What a JointInferenceService's deployment serves, and where.
    public struct Service: Sendable, Equatable {
        public var version: UInt64
        public var edgeModel: ContentHash
        public var cloudModel: ContentHash
        public var edgeModelName: String
        public var cloudModelName: String
        public var edgePeers: [ServicePeer]
        public var cloudPeers: [ServicePeer]
        public var hardExampleMining: String
    }

    /// Where an IncrementalLearningJob is, what it deployed, and how it got there.
    public struct Job: Sendable, Equatable {
        public var cycle: UInt64
        public var stage: JobStage
        public var status: StageStatus
        /// Unix seconds (the coordinator's clock) of the step that put the job there.
        public var since: UInt64?
        public var current: ModelVersion?
        public var versions: [ModelVersion]
        /// The steps on the line, oldest first (at most `TaskSummary.jobHistoryMax`, the latest).
        public var history: [JobTransition]
        /// How many steps the line holds in all (`history` lists the latest).
        public var steps: Int
        /// On the coordinator: what the last train-trigger check found, and why the job cannot move.
        public var trainCheck: String?
        public var waitingFor: String?
        /// On a deploy peer: the version it serves, or why it does not.
        public var servedVersion: UInt64?
        public var servingFailure: String?
        public var deploysHere: Bool
        public var dataset: String
        public var deployModelName: String
    }

    /// Steps a summary lists (a job cycling for months has thousands).
    public static let jobHistoryMax = 64
}
