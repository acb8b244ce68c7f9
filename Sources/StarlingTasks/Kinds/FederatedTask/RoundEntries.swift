import StarlingCrypto
import StarlingTrust

/// A training worker taking part in a round, and the peer that runs it.
public struct Participant: Hashable, Sendable, Comparable {
    public let worker: String
    public let node: NodeID

    public init(worker: String, node: NodeID) {
        self.worker = worker
        self.node = node
    }

    public static func < (left: Participant, right: Participant) -> Bool { left.worker < right.worker }
}

/// The coordinator's start of a round: which model to train from, who trains, until when.
public struct RoundAnnouncement: Hashable, Sendable {
    public let epoch: UInt64
    public let round: UInt64
    /// The global model the round starts from (`ModelHash.none` before the first commit).
    public let baseModel: ContentHash
    /// Sorted by worker name; one entry per worker.
    public let participants: [Participant]
    /// Unix seconds on the coordinator's clock.
    public let deadline: UInt64

    public init(epoch: UInt64, round: UInt64, baseModel: ContentHash, participants: [Participant], deadline: UInt64) {
        self.epoch = epoch
        self.round = round
        self.baseModel = baseModel
        self.participants = participants.sorted()
        self.deadline = deadline
    }
}

/// One named number of a commit's metrics (loss, accuracy...). Finite; -0 is stored as 0 so the
/// value has one encoding.
public struct Metric: Hashable, Sendable, Comparable {
    public let name: String
    public let value: Double

    public init(name: String, value: Double) throws(TaskRejection) {
        guard value.isFinite else { throw .invalid("metric \(name) is not finite") }
        self.name = name
        self.value = value == 0 ? 0 : value
    }

    public static func < (left: Metric, right: Metric) -> Bool { left.name < right.name }

    /// A worker's or aggregation's metrics map as a commit carries it: sorted by name, every value
    /// finite. Throws for the first value that is not.
    public static func list(_ metrics: [String: Double]) throws(TaskRejection) -> [Metric] {
        var list: [Metric] = []
        for (name, value) in metrics.sorted(by: { $0.key < $1.key }) { list.append(try Metric(name: name, value: value)) }
        return list
    }
}

/// The coordinator's record that a round is done: the new global model and what went into it.
public struct RoundCommit: Hashable, Sendable {
    public let epoch: UInt64
    public let round: UInt64
    public let modelHash: ContentHash
    /// Workers whose updates were aggregated, sorted, unique.
    public let participants: [String]
    /// Samples behind the aggregated updates.
    public let sampleCount: UInt64
    /// Sorted by name, names unique.
    public let metrics: [Metric]

    public init(epoch: UInt64, round: UInt64, modelHash: ContentHash, participants: [String],
                sampleCount: UInt64, metrics: [Metric] = []) {
        self.epoch = epoch
        self.round = round
        self.modelHash = modelHash
        self.participants = Array(Set(participants)).sorted()
        self.sampleCount = sampleCount
        // Metric names are a set: the first value given for a name is kept.
        var seen: Set<String> = []
        self.metrics = metrics.filter { seen.insert($0.name).inserted }.sorted()
    }

    /// The commit as a reference (for a lease's base, `complete` and `replicated`).
    public var ref: CommitRef { CommitRef(epoch: epoch, round: round, modelHash: modelHash) }
}

/// Where a worker is.
public enum WorkerState: UInt8, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    case ready = 1, training = 2, submitted = 3, failed = 4, left = 5

    public static func < (left: WorkerState, right: WorkerState) -> Bool { left.rawValue < right.rawValue }

    public var description: String {
        switch self {
        case .ready: return "ready"
        case .training: return "training"
        case .submitted: return "submitted"
        case .failed: return "failed"
        case .left: return "left"
        }
    }
}

/// A worker's update: its blob and how many samples it was trained on.
public struct UpdateRef: Hashable, Sendable {
    public let hash: ContentHash
    public let sampleCount: UInt64

    public init(hash: ContentHash, sampleCount: UInt64) {
        self.hash = hash
        self.sampleCount = sampleCount
    }
}

/// A peer's report on a worker it runs.
public struct WorkerReport: Hashable, Sendable {
    public let worker: String
    /// The epoch of the announcement the worker follows (0 before any).
    public let epoch: UInt64
    /// The round it is in (0 before the first).
    public let round: UInt64
    public let state: WorkerState
    /// Free text (an error when `state` is `.failed`), at most `TaskStateLimits.messageBytesMax`.
    public let message: String
    public let update: UpdateRef?

    public init(worker: String, epoch: UInt64, round: UInt64, state: WorkerState, message: String = "", update: UpdateRef? = nil) {
        self.worker = worker
        self.epoch = epoch
        self.round = round
        self.state = state
        self.message = message
        self.update = update
    }

    /// The order of "later": a report of a later epoch, then round, then a further state wins;
    /// in one round an update wins over everything (a worker that failed on one peer and was
    /// placed on another, which then trained, has its update counted).
    var progress: EntryProgress { EntryProgress(epoch, round, state == .submitted ? UInt64(UInt8.max) : UInt64(state.rawValue)) }
}
