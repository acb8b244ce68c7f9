import StarlingTrust
import StarlingWire

/// Who may sign each kind of entry, and the rules an entry must keep on its own (whatever else the
/// task holds). Rules that depend on other entries (is there a lease for this epoch? is this commit
/// on the surviving line?) are not refusals: they decide the view (`TaskView`), so that the result
/// never depends on the order in which entries arrive. A kind's entries bring their own rules
/// (`ProgramEntry.problem`).
extension TaskEntry {
    /// The role the author's certificate must carry. Leases, completions, replications and
    /// failures need `.coordinator` here; that the author actually holds the epoch's lease is
    /// decided in the view.
    public var requiredRole: Roles {
        switch body {
        case .lease, .complete, .replicated, .fail: return .coordinator
        case .cancel: return .submit
        case let .program(entry): return entry.requiredRole
        }
    }

    /// What is wrong with this entry on its own, for the task `spec`; nil when nothing is.
    public func problem(spec: TaskSpec) -> String? {
        if let problem = bodyProblem(spec: spec) { return problem }
        // What one peer accepts, every peer must be able to decode: the entry must survive its own
        // canonical encoding (lengths, labels, sorted sets, control characters).
        do {
            let decoded = try TaskEntry(wireBytes: wireBytes)
            return decoded.hash == hash ? nil : "the entry does not re-encode to the same bytes"
        } catch {
            return "the entry does not decode: \(error)"
        }
    }

    private func bodyProblem(spec: TaskSpec) -> String? {
        let roundsMax = spec.kind.roundsMax
        switch body {
        case let .lease(lease):
            if lease.holder != author { return "a lease's holder must be its author" }
            if lease.epoch == 0 { return "lease epochs start at 1" }
            if let base = lease.base, base.epoch >= lease.epoch { return "a lease's base must be under an earlier epoch" }
            if !(lease.capacity > 0 && lease.capacity <= TaskStateLimits.capacityMax) {
                return "a lease's capacity must be a number in (0, \(Int(TaskStateLimits.capacityMax))]"
            }
            if lease.baseRound > roundsMax { return "a lease's base is past the task's last round" }
        case .cancel:
            break
        case let .complete(ref), let .replicated(ref):
            return Self.roundProblem(epoch: ref.epoch, round: ref.round, roundsMax: roundsMax)
        case let .fail(failure):
            return Self.roundProblem(epoch: failure.epoch, round: failure.round, roundsMax: roundsMax)
        case let .program(entry):
            return entry.problem(spec: spec)
        }
        return nil
    }

    static func roundProblem(epoch: UInt64, round: UInt64, roundsMax: UInt64) -> String? {
        if epoch == 0 { return "epochs start at 1" }
        if round == 0 { return "rounds start at 1" }
        if round > roundsMax { return "round \(round) is past the task's last round (\(roundsMax))" }
        return nil
    }
}

extension TaskSpec.Kind {
    /// The last round a task's line may reach: a FederatedTask's `rounds`; for a kind with no
    /// fixed end, `TaskStateLimits.roundMax`.
    var roundsMax: UInt64 {
        switch self {
        case let .federatedTask(spec): return UInt64(spec.rounds.rounds)
        case .incrementalLearningJob, .jointInferenceService: return TaskStateLimits.roundMax
        }
    }
}
