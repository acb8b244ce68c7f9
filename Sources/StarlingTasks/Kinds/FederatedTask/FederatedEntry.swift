import StarlingTrust
import StarlingWire

/// A FederatedTask's own entries (docs/tasks.md, "Rounds"): the coordinator announces a round and
/// commits it; a peer reports on each training worker it runs.
public enum FederatedEntry: Hashable, Sendable, KindEntry {
    /// The lease holder starts a round.
    case announce(RoundAnnouncement)
    /// The lease holder commits a round: a commit on the task's line.
    case commit(RoundCommit)
    /// A peer reports on a worker it runs.
    case report(WorkerReport)

    var taskKind: TaskKindName { .federatedTask }

    public var kind: TaskEntryKind {
        switch self {
        case .announce: return .announce
        case .commit: return .commit
        case .report: return .report
        }
    }

    /// Announces and commits need `.coordinator` (that the author holds the epoch's lease is decided
    /// in the view); reports need `.peer`.
    var requiredRole: Roles {
        switch self {
        case .announce, .commit: return .coordinator
        case .report: return .peer
        }
    }

    var lineCommit: CommitRef? {
        if case let .commit(commit) = self { return commit.ref }
        return nil
    }

    var holderStep: HolderStep? {
        if case let .announce(announcement) = self { return HolderStep(epoch: announcement.epoch, round: announcement.round) }
        return nil
    }

    var slot: EntrySlot? {
        if case let .report(report) = self { return EntrySlot(key: report.worker, progress: report.progress) }
        return nil
    }

    /// The rules an entry keeps on its own, for the task's spec.
    func problem(spec: TaskSpec) -> String? {
        guard let spec = spec.federatedTask else { return "not a FederatedTask" }
        let workers = Set(spec.trainingWorkers.map(\.name))
        let roundsMax = UInt64(spec.rounds.rounds)
        switch self {
        case let .announce(announcement):
            if let problem = TaskEntry.roundProblem(epoch: announcement.epoch, round: announcement.round, roundsMax: roundsMax) {
                return problem
            }
            if let stranger = announcement.participants.first(where: { !workers.contains($0.worker) }) {
                return "\(stranger.worker) is not a training worker of the task"
            }
        case let .commit(commit):
            if let problem = TaskEntry.roundProblem(epoch: commit.epoch, round: commit.round, roundsMax: roundsMax) { return problem }
            if let stranger = commit.participants.first(where: { !workers.contains($0) }) {
                return "\(stranger) is not a training worker of the task"
            }
            // Never a round aggregated from fewer updates than the task asks for, whoever signed it.
            if commit.participants.count < spec.rounds.minNodeNumber {
                return "a commit needs at least min_node_number (\(spec.rounds.minNodeNumber)) participants; "
                    + "this one has \(commit.participants.count)"
            }
        case let .report(report):
            if !workers.contains(report.worker) { return "\(report.worker) is not a training worker of the task" }
            if report.round > roundsMax { return "round \(report.round) is past the task's last round" }
        }
        return nil
    }

    func encode(to writer: inout WireWriter) {
        switch self {
        case let .announce(announcement): writer.write(announcement)
        case let .commit(commit): writer.write(commit)
        case let .report(report): writer.write(report)
        }
    }

    static func decode(_ kind: TaskEntryKind, from reader: inout WireReader) throws -> FederatedEntry {
        switch kind {
        case .announce: return .announce(try reader.read())
        case .commit: return .commit(try reader.read())
        case .report: return .report(try reader.read())
        default: preconditionFailure("\(kind) is not a FederatedTask entry")
        }
    }
}

/// Shorthands: a FederatedTask's entries as entry bodies (`.commit(commit)` where a body is
/// expected), and read back (`body.federated`).
extension TaskEntryBody {
    public static func announce(_ announcement: RoundAnnouncement) -> TaskEntryBody { .program(.federated(.announce(announcement))) }
    public static func commit(_ commit: RoundCommit) -> TaskEntryBody { .program(.federated(.commit(commit))) }
    public static func report(_ report: WorkerReport) -> TaskEntryBody { .program(.federated(.report(report))) }

    public var federated: FederatedEntry? {
        if case let .program(.federated(entry)) = self { return entry }
        return nil
    }
}
