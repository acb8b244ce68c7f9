import StarlingCrypto
import StarlingLearning
import StarlingPeer
import StarlingStore
import StarlingTasks

/// Central evaluation on the coordinator (Flower's `evaluate_fn`; docs/workers.md, "Central
/// evaluation"): a round that validates is aggregated, then its new model is scored on the task's
/// evaluation dataset, held by this peer, by the task's evaluator process (the training workers'
/// script with `STARLING_ROLE=evaluate`, kept across rounds). The scores join the round's metrics
/// as `central_<name>`. An evaluation that fails or outlasts its timeout never holds the round
/// back: the round is committed without them, and why is logged and counted.
extension FederatedExecutor {
    struct PendingEvaluation {
        let order: AggregateWork
        let aggregated: AggregatedRound
        let timer: LoopTimer
    }

    /// Prefix of the scores in a commit's metrics.
    static let centralPrefix = "central_"

    func evaluate(_ aggregated: AggregatedRound, of order: AggregateWork) {
        guard let federated = order.spec.federatedTask, let datasetName = federated.aggregationWorker.evaluationDataset?.name else {
            answer(.aggregated(task: order.task, epoch: order.epoch, round: order.round, aggregated))
            return
        }
        guard let dataset = (try? runner.store?.datasets())??.first(where: { $0.name == datasetName }) else {
            // Coordinators are chosen among the peers declaring it while any is alive: none was.
            runner.counters.increment("evaluation.skipped without dataset")
            runner.log(.warning, "task \(order.spec.name): round \(order.round) not scored centrally: this peer holds no dataset "
                + "\(datasetName) (aggregationWorker.evaluation)")
            answer(.aggregated(task: order.task, epoch: order.epoch, round: order.round, aggregated))
            return
        }
        let name = federated.aggregationWorker.name
        let key = TaskRunner.WorkerKey(task: order.task, worker: name)
        let supervisor: WorkerSupervisor
        if let existing = runner.supervisors[key] {
            supervisor = existing
        } else {
            let log = WorkerLog(directory: TaskRunner.logDirectory(runner.dataDirectory, task: order.task), worker: name)
            supervisor = WorkerSupervisor(
                task: order.task, worker: name, role: .evaluate, loop: runner.loop, log: log,
                launch: { [launch = runner.launch, store = runner.store] order, token in
                    let (current, arrivals) = DatasetRows.registered(dataset.name, in: store)
                    return try launch.command(for: order, token: token, dataset: current ?? dataset, arrivals: arrivals)
                },
                answer: { [weak self] result in
                    guard case let .trainingFailed(task, _, epoch, round, reason) = result else { return }
                    self?.evaluationEnded(task: task, epoch: epoch, round: round, outcome: .failure(RuntimeError(reason)))
                })
            runner.supervisors[key] = supervisor
            runner.counters.increment("workers.created")
        }
        evaluations.removeValue(forKey: order.task)?.timer.close()
        guard let timer = try? LoopTimer(loop: runner.loop) else {
            answer(.aggregated(task: order.task, epoch: order.epoch, round: order.round, aggregated))
            return
        }
        evaluations[order.task] = PendingEvaluation(order: order, aggregated: aggregated, timer: timer)
        let limit = min(WorkerLimits.evaluationTimeout, federated.rounds.roundTimeout)
        timer.start(after: limit) { [weak self] in
            self?.evaluationEnded(task: order.task, epoch: order.epoch, round: order.round,
                                  outcome: .failure(RuntimeError("no scores within \(limit)")))
        }
        let job = TrainingWork(task: order.task, spec: order.spec, worker: name, epoch: order.epoch, round: order.round,
                                baseModel: aggregated.model, sources: [], validate: true, deadline: 0, seed: 0)
        supervisor.assign(job)
        guard supervisor.order == job else { return }  // given up: answered through `answer` already
        supervisor.modelFetched(runner.blobs.filePath(of: aggregated.model).map { .success($0) }
                                    ?? .failure(RuntimeError("the new model is not in the blob store")), for: job)
    }

    /// The evaluator's scores (`worker-evaluated`), its failure, or the timeout: the round is
    /// answered, with the scores when there are some.
    func evaluationEnded(task: TaskID, epoch: UInt64, round: UInt64, outcome: Result<[String: Double], RuntimeError>) {
        guard let pending = evaluations[task], pending.order.epoch == epoch, pending.order.round == round else { return }
        evaluations[task] = nil
        pending.timer.close()
        var metrics = pending.aggregated.metrics
        switch outcome {
        case let .success(scores):
            for (name, value) in scores where value.isFinite { metrics[Self.centralPrefix + name] = value }
            runner.counters.increment("evaluation.rounds scored")
        case let .failure(error):
            runner.counters.increment("evaluation.rounds not scored")
            runner.log(.warning, "task \(pending.order.spec.name): round \(round) not scored centrally: \(error)")
            if let supervisor = runner.supervisors[TaskRunner.WorkerKey(task: task, worker: pending.order.spec.federatedTask?.aggregationWorker.name ?? "")],
               supervisor.order?.round == round {
                supervisor.evaluationFinished()
            }
        }
        let aggregated = pending.aggregated
        answer(.aggregated(task: task, epoch: epoch, round: round, AggregatedRound(
            model: aggregated.model, participants: aggregated.participants, sampleCount: aggregated.sampleCount, metrics: metrics)))
    }
}
