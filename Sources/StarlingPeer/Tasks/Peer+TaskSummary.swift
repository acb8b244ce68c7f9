import StarlingMembership
import StarlingTasks
import StarlingTrust

extension Peer {
    /// Every task this peer holds, as `starling task list|status` show them, in id order.
    public var tasks: [TaskSummary] {
        taskBook.orderedIDs.compactMap { id in taskBook.states[id].map { summary(of: $0, at: unixNow(lastNow)) } }
    }

    /// What the host knows of any task; the task's program adds its own part (`describeProgram`).
    func summary(of state: TaskState, at unix: UInt64) -> TaskSummary {
        let view = state.view
        let lease = view.currentLease
        // A kind this build has no program for: whatever its entries say, this peer cannot run it.
        let phase = TaskPrograms.supports(state.spec.kind) ? "\(view.phase)" : TaskSummary.unsupported
        let committed = view.committedRounds.map {
            TaskSummary.Round(round: $0.round, epoch: $0.epoch, coordinator: $0.coordinator, modelHash: $0.modelHash,
                              participants: [], replicatedBy: view.replicatedBy[$0.ref] ?? [])
        }
        var summary = TaskSummary(
            id: state.id, name: state.spec.name, kind: state.spec.kind.name, phase: phase,
            submitter: state.signedSpec.submitter, submitterName: name(of: state.signedSpec.submitter),
            submittedAt: state.signedSpec.submittedAt,
            coordinator: lease?.holder, coordinatorName: lease.flatMap { name(of: $0.holder) }, epoch: lease?.epoch,
            leaseExpiresAt: lease?.expiresAt,
            leaseValid: lease.map { view.isLeaseValid(at: unix, holderAlive: holderCounts($0.holder, now: lastNow)) } ?? false,
            round: view.lastCommitted?.round ?? 0, rounds: 0,
            announcedRound: nil, roundDeadline: nil, announcedBaseModel: nil,
            participants: [], committed: committed,
            superseded: view.entries(.superseded).count, stale: view.entries(.stale).count,
            lastError: nil, cancelReason: view.cancelReason, failure: view.failure?.reason,
            entries: state.count, digest: state.digest)
        describeProgram(state, view: view, unix: unix, into: &summary)
        return summary
    }
}
