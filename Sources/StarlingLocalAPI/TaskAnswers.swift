/// `tasks` ← `{"tasks":[…]}`: every task the peer holds, in id order.
public struct TasksResponse: Codable, Equatable, Sendable {
    public var tasks: [TaskReport]
    public init(tasks: [TaskReport]) { self.tasks = tasks }
}

/// A task as the local API reports it (the runtime builds it from the core's `TaskSummary`). Ids,
/// NodeIDs and model hashes are full lowercase hex, times unix seconds; a field with no value (no
/// coordinator yet, no announced round) is left out.
public struct TaskReport: Codable, Equatable, Sendable {
    public struct Participant: Codable, Equatable, Sendable {
        public var worker: String
        public var node: String
        public var nodeName: String?
        /// The worker's latest report: ready, training, submitted, failed or left (absent: none yet).
        public var state: String?
        public var round: UInt64?
        public var message: String?
        /// True when the peer that answered runs this worker and gave up on it: it could not be
        /// started, or it crashed more often in a row than the restart rule allows. Such a worker
        /// fails every later round at once. Absent on other peers.
        public var gaveUp: Bool?

        public init(worker: String, node: String, nodeName: String?, state: String?, round: UInt64?, message: String?,
                    gaveUp: Bool? = nil) {
            self.worker = worker
            self.node = node
            self.nodeName = nodeName
            self.state = state
            self.round = round
            self.message = message
            self.gaveUp = gaveUp
        }
    }

    public struct Round: Codable, Equatable, Sendable {
        public var round: UInt64
        public var epoch: UInt64
        public var coordinator: String
        public var modelHash: String
        public var participants: [String]
        public var metrics: [String: Double]?
        public var sampleCount: UInt64?

        public init(round: UInt64, epoch: UInt64, coordinator: String, modelHash: String, participants: [String],
                    metrics: [String: Double]?, sampleCount: UInt64?) {
            self.round = round
            self.epoch = epoch
            self.coordinator = coordinator
            self.modelHash = modelHash
            self.participants = participants
            self.metrics = metrics
            self.sampleCount = sampleCount
        }
    }

    public var id: String
    public var name: String
    public var kind: String
    /// pending, running, completed, failed or cancelled.
    public var phase: String
    public var submitter: String
    public var submitterName: String?
    public var submittedAt: UInt64
    /// The current lease: holder, its name when known, epoch, expiry (unix seconds), whether it stands.
    public var coordinator: String?
    public var coordinatorName: String?
    public var epoch: UInt64?
    public var leaseExpiresAt: UInt64?
    public var leaseValid: Bool
    /// The last committed round (0: none yet) and the task's number of rounds.
    public var round: UInt64
    public var rounds: UInt64
    /// The round announced and not committed yet, and its deadline (unix seconds).
    public var announcedRound: UInt64?
    public var roundDeadline: UInt64?
    public var participants: [Participant]
    /// The surviving line of rounds, in order.
    public var committed: [Round]
    public var superseded: Int
    public var stale: Int
    public var lastError: String?
    public var cancelReason: String?
    /// Why the task failed (phase failed): the round, and each worker short of an update.
    public var failure: String?
    /// Updates a round needs, and attempts of the announced round used so far out of the most.
    public var minNodeNumber: Int?
    public var roundAttempts: Int?
    public var roundAttemptsMax: Int?
    /// Entries the peer holds for the task.
    public var entries: Int
    /// A JointInferenceService's deployment and this peer's serving of it.
    public var service: ServiceReport?
    /// An IncrementalLearningJob's stage, versions and history.
    public var job: JobReport?

    /// A task with what every task has; the rest is set field by field.
    public init(id: String, name: String, kind: String, phase: String, submitter: String, submittedAt: UInt64,
                leaseValid: Bool = false, round: UInt64 = 0, rounds: UInt64 = 0, participants: [Participant] = [],
                committed: [Round] = [], superseded: Int = 0, stale: Int = 0, entries: Int = 0) {
        self.id = id
        self.name = name
        self.kind = kind
        self.phase = phase
        self.submitter = submitter
        self.submittedAt = submittedAt
        self.leaseValid = leaseValid
        self.round = round
        self.rounds = rounds
        self.participants = participants
        self.committed = committed
        self.superseded = superseded
        self.stale = stale
        self.entries = entries
    }
}

/// `task-logs` ← the end of each log of the task's workers on this peer.
public struct TaskLogsResponse: Codable, Equatable, Sendable {
    public struct Log: Codable, Equatable, Sendable {
        public var worker: String
        public var path: String
        public var text: String
        public init(worker: String, path: String, text: String) {
            self.worker = worker
            self.path = path
            self.text = text
        }
    }

    /// The task's full id and name.
    public var task: String
    public var name: String
    public var logs: [Log]

    public init(task: String, name: String, logs: [Log]) {
        self.task = task
        self.name = name
        self.logs = logs
    }
}
