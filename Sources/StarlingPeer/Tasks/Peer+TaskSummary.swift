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
        let rounds = UInt64(state.spec.federatedTask?.rounds.rounds ?? 0)
        var participants: [TaskSummary.Participant] = []
        if let announced = view.announcement {
            for participant in announced.participants {
                let report = view.latestReports[participant.worker]
                participants.append(TaskSummary.Participant(
                    worker: participant.worker, node: participant.node, nodeName: name(of: participant.node),
                    state: report.map { "\($0.state)" }, round: report?.round, message: report?.message))
            }
        }
        let committed = view.committedRounds.map {
            TaskSummary.Round(round: $0.round, epoch: $0.epoch, coordinator: $0.coordinator, modelHash: $0.modelHash,
                              participants: $0.commit.participants,
                              metrics: Dictionary($0.commit.metrics.map { ($0.name, $0.value) }) { first, _ in first },
                              sampleCount: $0.commit.sampleCount, replicatedBy: view.replicatedBy[$0.ref] ?? [])
        }
        return TaskSummary(
            id: state.id, name: state.spec.name, kind: state.spec.kind.name, phase: "\(view.phase)",
            submitter: state.signedSpec.submitter, submitterName: name(of: state.signedSpec.submitter),
            submittedAt: state.signedSpec.submittedAt,
            coordinator: lease?.holder, coordinatorName: lease.flatMap { name(of: $0.holder) }, epoch: lease?.epoch,
            leaseExpiresAt: lease?.expiresAt, leaseValid: lease.map { view.isLeaseValid(at: unix, holderAlive: holderCounts($0.holder, now: lastNow)) } ?? false,
            round: view.lastCommitted?.round ?? 0, rounds: rounds,
            announcedRound: view.announcement?.round, roundDeadline: view.announcement?.deadline,
            announcedBaseModel: view.announcement?.baseModel,
            participants: participants, committed: committed,
            superseded: view.entries(.superseded).count, stale: view.entries(.stale).count,
            lastError: view.lastError.map { "\($0.worker): \($0.message)" }, cancelReason: view.cancelReason,
            failure: view.failure?.reason,
            minNodeNumber: state.spec.federatedTask?.rounds.minNodeNumber ?? 0,
            roundAttempts: view.announcement.map { Self.expiredAttempts(of: $0.round, in: state, at: unix) } ?? 0,
            roundAttemptsMax: (state.spec.federatedTask?.rounds.roundRetries ?? 0) + 1,
            entries: state.count, digest: state.digest)
    }
}
