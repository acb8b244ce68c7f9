import StarlingCrypto
import StarlingTrust
import StarlingWire

/// An IncrementalLearningJob's own entries: the coordinator's steps (commits on the line), each
/// working peer's stage results, and rollback requests.
public enum IncrementalEntry: Hashable, Sendable, KindEntry {
    case step(JobTransition)
    case result(StageResult)
    case rollback(RollbackRequest)

    var taskKind: TaskKindName { .incrementalLearningJob }

    public var kind: TaskEntryKind {
        switch self {
        case .step: return .jobStep
        case .result: return .stageResult
        case .rollback: return .rollback
        }
    }

    /// Steps are the coordinator's; results any member's (the view counts one only from the peer it
    /// names); a rollback is a submitter's, as a cancel is.
    var requiredRole: Roles {
        switch self {
        case .step: return .coordinator
        case .result: return .peer
        case .rollback: return .submit
        }
    }

    var lineCommit: CommitRef? {
        if case let .step(transition) = self { return transition.ref }
        return nil
    }

    var holderStep: HolderStep? { nil }

    /// A peer's results: the latest few are kept (by the round they answer).
    var slot: EntrySlot? {
        guard case let .result(result) = self else { return nil }
        let state: UInt64
        switch result.outcome {
        case .failed: state = 0
        case .trained, .evaluated: state = 1
        }
        return EntrySlot(key: "stage-result/" + result.peer.text, progress: EntryProgress(result.round, state, 0))
    }

    func problem(spec: TaskSpec) -> String? {
        guard spec.incrementalLearningJob != nil else { return "not an IncrementalLearningJob" }
        switch self {
        case let .step(transition):
            if let problem = TaskEntry.roundProblem(epoch: transition.epoch, round: transition.round, roundsMax: TaskStateLimits.roundMax) {
                return problem
            }
            switch transition.step {
            case let .deployed(version):
                if version.version == 0 { return "model versions start at 1" }
                if version.model == ModelHash.none { return "a deployed version names its model" }
                if version.parent >= version.version { return "a version's parent is an earlier version" }
            case let .rolledBack(to, _):
                if to == 0 { return "model versions start at 1" }
            case let .training(work), let .evaluating(_, work):
                if work.peers.isEmpty { return "a stage runs on at least one peer" }
            case .rollbackRefused, .deciding, .notDeployed, .failed: break
            }
            if transition.cycle == 0 {
                switch transition.step {
                case let .deployed(version) where version.version == 1: break
                case .rolledBack, .rollbackRefused: break
                default: return "cycle 0 is the initial model's deployment (version 1)"
                }
            }
        case .result, .rollback:
            break
        }
        return nil
    }

    func encode(to writer: inout WireWriter) {
        switch self {
        case let .step(transition): writer.write(transition)
        case let .result(result): writer.write(result)
        case let .rollback(request): writer.write(request)
        }
    }

    static func decode(_ kind: TaskEntryKind, from reader: inout WireReader) throws -> IncrementalEntry {
        switch kind {
        case .jobStep: return .step(try reader.read())
        case .stageResult: return .result(try reader.read())
        case .rollback: return .rollback(try reader.read())
        default: preconditionFailure("\(kind) is not an IncrementalLearningJob entry")
        }
    }
}

extension TaskEntryBody {
    public static func jobStep(_ transition: JobTransition) -> TaskEntryBody { .program(.incremental(.step(transition))) }
    public static func stageResult(_ result: StageResult) -> TaskEntryBody { .program(.incremental(.result(result))) }
    public static func rollback(_ request: RollbackRequest) -> TaskEntryBody { .program(.incremental(.rollback(request))) }

    public var incremental: IncrementalEntry? {
        if case let .program(.incremental(entry)) = self { return entry }
        return nil
    }
}
