import StarlingTrust
import StarlingWire

/// Who may sign each kind of entry, and the rules an entry must keep on its own (whatever else the
/// task holds). Rules that depend on other entries (is there a lease for this epoch? is this commit
/// on the surviving line?) are not refusals: they decide the view (`TaskView`), so that the result
/// never depends on the order in which entries arrive.
extension TaskEntry {
    /// The role the author's certificate must carry. Commits, announces and completions need
    /// `.coordinator` here; that the author actually holds the epoch's lease is decided in the view.
    public var requiredRole: Roles {
        switch body {
        case .lease, .announce, .commit, .complete, .replicated, .fail: return .coordinator
        case .report: return .peer
        case .cancel: return .submit
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
        let workers = spec.federatedTask.map { Set($0.trainingWorkers.map(\.name)) }
        let roundsMax = spec.federatedTask.map { UInt64($0.rounds.rounds) } ?? TaskStateLimits.roundMax
        switch body {
        case let .lease(lease):
            if lease.holder != author { return "a lease's holder must be its author" }
            if lease.epoch == 0 { return "lease epochs start at 1" }
            if let base = lease.base, base.epoch >= lease.epoch { return "a lease's base must be under an earlier epoch" }
            if !(lease.capacity > 0 && lease.capacity <= TaskStateLimits.capacityMax) {
                return "a lease's capacity must be a number in (0, \(Int(TaskStateLimits.capacityMax))]"
            }
            if lease.baseRound > roundsMax { return "a lease's base is past the task's last round" }
        case let .announce(announcement):
            if let problem = roundProblem(epoch: announcement.epoch, round: announcement.round, roundsMax: roundsMax) { return problem }
            if let workers, let stranger = announcement.participants.first(where: { !workers.contains($0.worker) }) {
                return "\(stranger.worker) is not a training worker of the task"
            }
        case let .commit(commit):
            if let problem = roundProblem(epoch: commit.epoch, round: commit.round, roundsMax: roundsMax) { return problem }
            if let workers, let stranger = commit.participants.first(where: { !workers.contains($0) }) {
                return "\(stranger) is not a training worker of the task"
            }
            // Never a round aggregated from fewer updates than the task asks for, whoever signed it.
            if let minimum = spec.federatedTask?.rounds.minNodeNumber, commit.participants.count < minimum {
                return "a commit needs at least min_node_number (\(minimum)) participants; this one has \(commit.participants.count)"
            }
        case let .report(report):
            if let workers, !workers.contains(report.worker) { return "\(report.worker) is not a training worker of the task" }
            if report.round > roundsMax { return "round \(report.round) is past the task's last round" }
        case .cancel:
            break
        case let .complete(ref), let .replicated(ref):
            if let problem = roundProblem(epoch: ref.epoch, round: ref.round, roundsMax: roundsMax) { return problem }
        case let .fail(failure):
            if let problem = roundProblem(epoch: failure.epoch, round: failure.round, roundsMax: roundsMax) { return problem }
        }
        return nil
    }

    private func roundProblem(epoch: UInt64, round: UInt64, roundsMax: UInt64) -> String? {
        if epoch == 0 { return "epochs start at 1" }
        if round == 0 { return "rounds start at 1" }
        if round > roundsMax { return "round \(round) is past the task's last round (\(roundsMax))" }
        return nil
    }
}
