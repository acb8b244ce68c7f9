import StarlingTasks

/// What `starling task list|status` show of a FederatedTask beyond what the host knows: the round
/// limit, the announced round and its participants with their latest reports, each commit's
/// participants, samples and metrics, the last worker error, and the announced round's attempts.
extension FederatedProgram {
    static func summarize(_ task: ProgramTask<Spec>, into summary: inout TaskSummary, host: some TaskHost) {
        let settings = task.spec.rounds
        summary.rounds = UInt64(settings.rounds)
        summary.minNodeNumber = settings.minNodeNumber
        summary.roundAttemptsMax = settings.roundRetries + 1
        guard let view = task.view.federated else { return }
        let details = Dictionary(view.rounds.map { ($0.entry, $0.commit) }, uniquingKeysWith: { first, _ in first })
        let entries = task.view.committedRounds.map(\.entry)
        for (index, entry) in entries.enumerated() {
            guard let commit = details[entry], index < summary.committed.count else { continue }
            summary.committed[index].participants = commit.participants
            summary.committed[index].metrics = Dictionary(commit.metrics.map { ($0.name, $0.value) }) { first, _ in first }
            summary.committed[index].sampleCount = commit.sampleCount
        }
        summary.lastError = view.lastError.map { "\($0.worker): \($0.message)" }
        guard let announced = view.announcement else { return }
        summary.announcedRound = announced.round
        summary.roundDeadline = announced.deadline
        summary.announcedBaseModel = announced.baseModel
        summary.roundAttempts = expiredAttempts(of: announced.round, in: task.state, at: task.unix)
        summary.participants = announced.participants.map { participant in
            let report = view.latestReports[participant.worker]
            return TaskSummary.Participant(
                worker: participant.worker, node: participant.node, nodeName: host.name(of: participant.node),
                state: report.map { "\($0.state)" }, round: report?.round, message: report?.message)
        }
    }
}
