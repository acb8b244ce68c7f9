import StarlingMembership
import StarlingTasks
import StarlingTrust

extension Peer {
    /// Every task this peer holds, as `starling task list|status` show them, in id order.
    public var tasks: [TaskSummary] {
        taskBook.orderedIDs.compactMap { id in taskBook.states[id].map { summary(of: $0, at: unixNow(lastNow)) } }
    }

    func summary(of state: TaskState, at unix: UInt64) -> TaskSummary {
        let view = state.view
        let lease = view.currentLease
        let federated = state.spec.federatedTask
        let program = view.federated
        let announcement = program?.announcement
        let rounds = UInt64(federated?.rounds.rounds ?? 0)
        var participants: [TaskSummary.Participant] = []
        if let program, let announced = announcement {
            for participant in announced.participants {
                let report = program.latestReports[participant.worker]
                participants.append(TaskSummary.Participant(
                    worker: participant.worker, node: participant.node, nodeName: name(of: participant.node),
                    state: report.map { "\($0.state)" }, round: report?.round, message: report?.message))
            }
        }
        let committed = (program?.rounds ?? []).map {
            TaskSummary.Round(round: $0.round, epoch: $0.epoch, coordinator: $0.coordinator, modelHash: $0.modelHash,
                              participants: $0.commit.participants,
                              metrics: Dictionary($0.commit.metrics.map { ($0.name, $0.value) }) { first, _ in first },
                              sampleCount: $0.commit.sampleCount, replicatedBy: view.replicatedBy[$0.ref] ?? [])
        }
        // A kind this build has no program for: whatever its entries say, this peer cannot run it.
        let phase = TaskPrograms.supports(state.spec.kind) ? "\(view.phase)" : TaskSummary.unsupported
        return TaskSummary(
            id: state.id, name: state.spec.name, kind: state.spec.kind.name, phase: phase,
            submitter: state.signedSpec.submitter, submitterName: name(of: state.signedSpec.submitter),
            submittedAt: state.signedSpec.submittedAt,
            coordinator: lease?.holder, coordinatorName: lease.flatMap { name(of: $0.holder) }, epoch: lease?.epoch,
            leaseExpiresAt: lease?.expiresAt, leaseValid: lease.map { view.isLeaseValid(at: unix, holderAlive: holderCounts($0.holder, now: lastNow)) } ?? false,
            round: view.lastCommitted?.round ?? 0, rounds: rounds,
            announcedRound: announcement?.round, roundDeadline: announcement?.deadline,
            announcedBaseModel: announcement?.baseModel,
            participants: participants, committed: committed,
            superseded: view.entries(.superseded).count, stale: view.entries(.stale).count,
            lastError: program?.lastError.map { "\($0.worker): \($0.message)" }, cancelReason: view.cancelReason,
            failure: view.failure?.reason,
            minNodeNumber: federated?.rounds.minNodeNumber ?? 0,
            roundAttempts: announcement.map { FederatedProgram.expiredAttempts(of: $0.round, in: state, at: unix) } ?? 0,
            roundAttemptsMax: (federated?.rounds.roundRetries ?? 0) + 1,
            entries: state.count, digest: state.digest)
    }
}
