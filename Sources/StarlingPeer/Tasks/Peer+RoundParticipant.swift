import StarlingCrypto
import StarlingMembership
import StarlingTasks
import StarlingTrust

/// The participant's side of a round, and the driver's answers to every `TaskWork` order.
extension Peer {
    /// Orders training for each worker this peer runs in the current announcement, once per
    /// (epoch, round); the report is signed when the driver answers.
    mutating func participate(_ id: TaskID, state: TaskState, view: TaskView, outputs: inout [PeerOutput]) {
        guard let announced = view.announcement, let federated = state.spec.federatedTask else { return }
        let key = TaskBook.RoundKey(epoch: announced.epoch, round: announced.round)
        for participant in announced.participants where participant.node == membership.me {
            // A failure elsewhere does not stop this peer: the worker may have been placed here since.
            if let report = view.latestReports[participant.worker], report.epoch == key.epoch, report.round == key.round,
               report.state == .submitted { continue }
            if taskBook.training[id]?[participant.worker] == key { continue }
            taskBook.training[id, default: [:]][participant.worker] = key
            taskBook.engaged.insert(id)
            let order = TrainingOrder(
                task: id, spec: state.spec, worker: participant.worker, epoch: key.epoch, round: key.round,
                baseModel: announced.baseModel, sources: modelSources(announced, holder: view.currentLease?.holder),
                validate: Self.validates(key.round, federated.rounds),
                deadline: announced.deadline, seed: Self.seed(of: id))
            outputs.append(.work(.train(order)))
            count("tasks.trainings ordered")
        }
    }

    /// Where the round's base model is: the coordinator first (it made or replicated it), then the
    /// other participants, which serve the chunks they have fetched.
    private func modelSources(_ announced: RoundAnnouncement, holder: NodeID?) -> [BlobSource] {
        var nodes: [NodeID] = holder.map { [$0] } ?? []
        for participant in announced.participants where participant.node != membership.me && !nodes.contains(participant.node) {
            nodes.append(participant.node)
        }
        return nodes.compactMap(blobSource)
    }

    /// Whether `round` validates: every `roundsBetweenValidations`, and the last round.
    static func validates(_ round: UInt64, _ settings: RoundSettings) -> Bool {
        round % UInt64(max(1, settings.roundsBetweenValidations)) == 0 || round == UInt64(settings.rounds)
    }

    /// One number per task, the same on every peer: workers seed their first model with it.
    static func seed(of id: TaskID) -> UInt64 {
        id.hash.bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Stops the driver's work for a task once.
    mutating func release(_ id: TaskID, reason: String, outputs: inout [PeerOutput]) {
        guard taskBook.engaged.remove(id) != nil else { return }
        taskBook.training[id] = nil
        taskBook.rounds[id] = nil
        taskBook.startingModels[id] = nil
        outputs.append(.work(.release(task: id, reason: reason)))
    }

    // MARK: The driver's answers

    mutating func workDone(_ result: TaskWorkResult, now: Instant, outputs: inout [PeerOutput]) {
        lastNow = now
        switch result {
        case let .trained(task, _, _, _, _), let .trainingFailed(task, _, _, _, _), let .collected(task, _, _, _, _),
             let .aggregated(task, _, _, _), let .aggregationFailed(task, _, _, _):
            taskBook.dirty.insert(task)
        case .modelHeld:
            break
        }
        switch result {
        case let .trained(task, worker, epoch, round, update):
            guard taskBook.training[task]?[worker] == TaskBook.RoundKey(epoch: epoch, round: round) else {
                count("tasks.trainings late")
                return
            }
            let report = WorkerReport(worker: worker, epoch: epoch, round: round, state: .submitted, update: update)
            if signAndPush(.report(report), task: task, to: coordinatorOf(task), outputs: &outputs) == .added {
                count("tasks.reports sent")
            }
        case let .trainingFailed(task, worker, epoch, round, reason):
            guard taskBook.training[task]?[worker] == TaskBook.RoundKey(epoch: epoch, round: round) else { return }
            let message = Self.clip(reason, to: TaskStateLimits.messageBytesMax)
            let report = WorkerReport(worker: worker, epoch: epoch, round: round, state: .failed, message: message)
            if signAndPush(.report(report), task: task, to: coordinatorOf(task), outputs: &outputs) == .added {
                count("tasks.workers failed")
            }
            let name = taskBook.states[task]?.spec.name ?? task.short
            outputs.append(.log(.warning, "task \(name) (\(task.short)): worker \(worker) failed in round \(round): \(message)"))
        case let .collected(task, epoch, round, worker, rejection):
            guard var progress = taskBook.rounds[task], progress.key == TaskBook.RoundKey(epoch: epoch, round: round) else {
                count("tasks.updates late")
                return
            }
            if let rejection {
                progress.rejected[worker] = rejection
                taskBook.rejections[task, default: [:]][worker] = "round \(round): \(rejection)"
                count("tasks.updates rejected")
                // Signed, so every peer's status shows why (as the task's last error); the worker's own
                // `submitted` report still stands for its round.
                let message = Self.clip("update rejected by the coordinator: \(rejection)", to: TaskStateLimits.messageBytesMax)
                sign(.report(WorkerReport(worker: worker, epoch: epoch, round: round, state: .failed, message: message)),
                     task: task, outputs: &outputs)
                let name = taskBook.states[task]?.spec.name ?? task.short
                outputs.append(.log(.warning, "task \(name) (\(task.short)): update of \(worker) for round \(round) rejected: \(rejection)"))
            } else {
                progress.folded.insert(worker)
                count("tasks.updates folded")
            }
            taskBook.rounds[task] = progress
        case let .aggregated(task, epoch, round, aggregated):
            taskBook.modelHeld(aggregated.model, max: taskSettings.heldModelsMax)
            guard let progress = taskBook.rounds[task], progress.key == TaskBook.RoundKey(epoch: epoch, round: round),
                  progress.aggregating, let state = taskBook.states[task],
                  state.view.currentLease?.holder == membership.me, state.view.currentLease?.epoch == epoch else {
                count("tasks.aggregations late")
                return
            }
            taskBook.rounds[task] = nil
            let minimum = state.spec.federatedTask?.rounds.minNodeNumber ?? 1
            guard aggregated.participants.count >= minimum else {
                // The driver aggregated fewer updates than were folded: never commit that. The next
                // tick collects the round's updates again into a fresh aggregation.
                count("tasks.aggregations short")
                outputs.append(.log(.error, "task \(state.spec.name) (\(task.short)): the aggregation of round \(round) holds "
                    + "\(aggregated.participants.count) updates, fewer than min_node_number (\(minimum)); not committed"))
                return
            }
            var metrics = aggregated.metrics.filter { $0.value.isFinite }
            if !progress.rejected.isEmpty { metrics["updates_rejected"] = Double(progress.rejected.count) }
            let list = (try? Metric.list(metrics)) ?? []
            let commit = RoundCommit(epoch: epoch, round: round, modelHash: aggregated.model,
                                     participants: aggregated.participants, sampleCount: aggregated.sampleCount,
                                     metrics: Array(list.prefix(TaskStateLimits.metricsMax)))
            startCommit(task, commit: commit, spec: state.spec, now: now, outputs: &outputs)
        case let .aggregationFailed(task, epoch, round, reason):
            guard let progress = taskBook.rounds[task], progress.key == TaskBook.RoundKey(epoch: epoch, round: round) else { return }
            // The next tick asks for every reported update again, into a fresh aggregation.
            taskBook.rounds[task] = nil
            count("tasks.aggregations failed")
            let name = taskBook.states[task]?.spec.name ?? task.short
            outputs.append(.log(.warning, "task \(name) (\(task.short)): aggregation of round \(round) failed: \(reason)"))
        case let .modelHeld(hash):
            taskBook.modelHeld(hash, max: taskSettings.heldModelsMax)
            // A coordinator waiting for this starting model announces round 1 now, not at the next tick.
            for (id, asked) in taskBook.startingModels where asked.model == hash { taskBook.dirty.insert(id) }
        }
    }

    /// The task's lease holder, as a push target.
    func coordinatorOf(_ id: TaskID) -> [NodeID] {
        taskBook.states[id]?.view.currentLease.map { [$0.holder] } ?? []
    }

    /// `text` cut to at most `bytes` UTF-8 bytes on a character boundary, control characters removed.
    static func clip(_ text: String, to bytes: Int) -> String {
        var result = ""
        var used = 0
        for character in text where !character.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            let size = character.utf8.count
            guard used + size <= bytes else { break }
            result.append(character)
            used += size
        }
        return result
    }
}
