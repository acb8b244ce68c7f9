import StarlingCrypto
import StarlingMembership
import StarlingTasks
import StarlingTrust

/// The participant's side of a round, and what the program makes of the driver's answers.
extension FederatedProgram {
    /// Asks for training of each worker this peer runs in the current announcement, once per
    /// (epoch, round); the report is signed when the driver answers.
    static func participate(_ task: ProgramTask<Spec>, host: some TaskHost, local: inout Local) -> [ProgramEffect] {
        guard let view = task.view.federated, let announced = view.announcement else { return [] }
        var effects: [ProgramEffect] = []
        let key = RoundKey(epoch: announced.epoch, round: announced.round)
        for participant in announced.participants where participant.node == host.me {
            // A failure elsewhere does not stop this peer: the worker may have been placed here since.
            if let report = view.latestReports[participant.worker], report.epoch == key.epoch, report.round == key.round,
               report.state == .submitted { continue }
            if local.training[participant.worker] == key { continue }
            local.training[participant.worker] = key
            let training = TrainingWork(
                task: task.id, spec: task.state.spec, worker: participant.worker, epoch: key.epoch, round: key.round,
                baseModel: announced.baseModel, sources: modelSources(announced, holder: task.view.currentLease?.holder, host: host),
                validate: validates(key.round, task.spec.rounds),
                deadline: announced.deadline, seed: seed(of: task.id))
            effects.append(.work(.federated(.train(training))))
            effects.append(.count("tasks.trainings ordered"))
        }
        return effects
    }

    /// Where the round's base model is: the coordinator first (it made or replicated it), then the
    /// other participants, which serve the chunks they have fetched.
    private static func modelSources(_ announced: RoundAnnouncement, holder: NodeID?, host: some TaskHost) -> [BlobSource] {
        var nodes: [NodeID] = holder.map { [$0] } ?? []
        for participant in announced.participants where participant.node != host.me && !nodes.contains(participant.node) {
            nodes.append(participant.node)
        }
        return nodes.compactMap { host.blobSource($0) }
    }

    static func workDone(_ result: WorkResult, task: ProgramTask<Spec>, host: some TaskHost, local: inout Local) -> [ProgramEffect] {
        let coordinator = task.view.currentLease.map { [$0.holder] } ?? []
        switch result {
        case let .trained(_, worker, epoch, round, update):
            guard local.training[worker] == RoundKey(epoch: epoch, round: round) else { return [.count("tasks.trainings late")] }
            let report = WorkerReport(worker: worker, epoch: epoch, round: round, state: .submitted, update: update)
            return [.sign(.report(report), pushTo: coordinator, counter: "tasks.reports sent")]
        case let .trainingFailed(_, worker, epoch, round, reason):
            guard local.training[worker] == RoundKey(epoch: epoch, round: round) else { return [] }
            let message = Peer.clip(reason, to: TaskStateLimits.messageBytesMax)
            let report = WorkerReport(worker: worker, epoch: epoch, round: round, state: .failed, message: message)
            return [.sign(.report(report), pushTo: coordinator, counter: "tasks.workers failed"),
                    .log(.warning, "task \(task.name) (\(task.id.short)): worker \(worker) failed in round \(round): \(message)")]
        case let .collected(_, epoch, round, worker, rejection):
            guard var progress = local.round, progress.key == RoundKey(epoch: epoch, round: round) else {
                return [.count("tasks.updates late")]
            }
            defer { local.round = progress }
            guard let rejection else {
                progress.folded.insert(worker)
                return [.count("tasks.updates folded")]
            }
            progress.rejected[worker] = rejection
            // Signed, so every peer's status shows why (as the task's last error); the worker's own
            // `submitted` report still stands for its round.
            let message = Peer.clip("update rejected by the coordinator: \(rejection)", to: TaskStateLimits.messageBytesMax)
            return [.count("tasks.updates rejected"),
                    .sign(.report(WorkerReport(worker: worker, epoch: epoch, round: round, state: .failed, message: message))),
                    .log(.warning, "task \(task.name) (\(task.id.short)): update of \(worker) for round \(round) rejected: \(rejection)")]
        case let .aggregated(_, epoch, round, aggregated):
            var effects: [ProgramEffect] = [.holdsModel(aggregated.model)]
            guard let progress = local.round, progress.key == RoundKey(epoch: epoch, round: round), progress.aggregating,
                  task.view.currentLease?.holder == host.me, task.view.currentLease?.epoch == epoch else {
                return effects + [.count("tasks.aggregations late")]
            }
            local.round = nil
            let minimum = task.spec.rounds.minNodeNumber
            guard aggregated.participants.count >= minimum else {
                // The driver aggregated fewer updates than were folded: never commit that. The next
                // tick collects the round's updates again into a fresh aggregation.
                return effects + [.count("tasks.aggregations short"),
                                  .log(.error, "task \(task.name) (\(task.id.short)): the aggregation of round \(round) holds "
                                      + "\(aggregated.participants.count) updates, fewer than min_node_number (\(minimum)); not committed")]
            }
            var metrics = aggregated.metrics.filter { $0.value.isFinite }
            if !progress.rejected.isEmpty { metrics["updates_rejected"] = Double(progress.rejected.count) }
            let list = (try? Metric.list(metrics)) ?? []
            let commit = RoundCommit(epoch: epoch, round: round, modelHash: aggregated.model,
                                     participants: aggregated.participants, sampleCount: aggregated.sampleCount,
                                     metrics: Array(list.prefix(TaskStateLimits.metricsMax)))
            let shown = commit.metrics.map { "\($0.name) \(Peer.format($0.value))" }.joined(separator: ", ")
            effects.append(.commit(.federated(.commit(commit)),
                                   log: "task \(task.name) (\(task.id.short)): committed round \(commit.round) at epoch \(commit.epoch)"
                                       + " from \(commit.participants.count) updates" + (shown.isEmpty ? "" : " (\(shown))")))
            return effects
        case let .aggregationFailed(_, epoch, round, reason):
            guard let progress = local.round, progress.key == RoundKey(epoch: epoch, round: round) else { return [] }
            // The next tick asks for every reported update again, into a fresh aggregation.
            local.round = nil
            return [.count("tasks.aggregations failed"),
                    .log(.warning, "task \(task.name) (\(task.id.short)): aggregation of round \(round) failed: \(reason)")]
        }
    }
}
