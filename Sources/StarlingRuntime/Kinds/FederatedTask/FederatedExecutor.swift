import StarlingCrypto
import StarlingLearning
import StarlingPeer
import StarlingStore
import StarlingTasks

/// The runtime's FederatedTask executor (`TaskWork.federated`): training workers as processes
/// (through the runner's supervisors), updates fetched as blobs and folded into a streaming
/// aggregation with StarlingLearning, the aggregated model stored as a blob, and central
/// evaluation (`FederatedExecutor+Evaluation`). Runs on the loop's thread, as the runner does.
final class FederatedExecutor {
    struct RoundKey: Hashable {
        let task: TaskID
        let epoch: UInt64
        let round: UInt64
    }

    /// One round's aggregation on the coordinator: updates are folded in as they arrive.
    struct PendingAggregation {
        var aggregator: RoundAggregator
        var folded: [String] = []
        let opened: UInt64
    }

    /// The runner owns this executor and every shared service (loop, blobs, store, supervisors).
    unowned let runner: TaskRunner
    private var aggregations: [RoundKey: PendingAggregation] = [:]
    private var serverStates: [TaskID: ServerOptimizerState] = [:]
    /// Coordinator: aggregated rounds waiting for their central evaluation, by task (one at a time).
    var evaluations: [TaskID: PendingEvaluation] = [:]
    private var opened: UInt64 = 0

    init(runner: TaskRunner) {
        self.runner = runner
    }

    func perform(_ work: FederatedWork) {
        switch work {
        case let .train(order): train(order)
        case let .collect(order): collect(order)
        case let .aggregate(order): aggregate(order)
        }
    }

    func answer(_ result: FederatedWorkResult) { runner.answer(result) }

    /// The task ended here: its aggregations, evaluation and server-side optimizer state go.
    func release(_ task: TaskID) {
        for key in aggregations.keys where key.task == task { aggregations[key] = nil }
        evaluations.removeValue(forKey: task)?.timer.close()
        serverStates[task] = nil
    }

    func shutdown() {
        aggregations = [:]
        for pending in evaluations.values { pending.timer.close() }
        evaluations = [:]
    }

    // MARK: Participant

    private func train(_ order: TrainingWork) {
        let key = TaskRunner.WorkerKey(task: order.task, worker: order.worker)
        let supervisor: WorkerSupervisor
        if let existing = runner.supervisors[key] {
            supervisor = existing
        } else {
            guard runner.supervisors.count < WorkerLimits.workersMax else {
                runner.counters.increment("workers.refused over limit")
                answer(.trainingFailed(task: order.task, worker: order.worker, epoch: order.epoch, round: order.round,
                                       reason: "this peer runs \(WorkerLimits.workersMax) workers already (WorkerLimits.workersMax)"))
                return
            }
            let datasetName = order.spec.federatedTask?.trainingWorkers.first(where: { $0.name == order.worker })?.dataset.name
            let log = WorkerLog(directory: TaskRunner.logDirectory(runner.dataDirectory, task: order.task), worker: order.worker)
            supervisor = WorkerSupervisor(
                task: order.task, worker: order.worker, loop: runner.loop, log: log,
                // The dataset as it is when the worker (re)starts: arrivals since are included.
                launch: { [launch = runner.launch, store = runner.store] order, token in
                    let (dataset, arrivals) = DatasetRows.registered(datasetName, in: store)
                    return try launch.command(for: order, token: token, dataset: dataset, arrivals: arrivals)
                },
                answer: { [weak self] result in self?.answer(result) })
            runner.supervisors[key] = supervisor
            runner.counters.increment("workers.created")
        }
        supervisor.assign(order)
        guard order.baseModel != ModelHash.none, supervisor.order == order else { return }
        runner.blobs.fetchBlob(order.baseModel, from: order.sources) { [weak self, weak supervisor] result in
            supervisor?.modelFetched(result, for: order)
            if case .success = result { self?.runner.modelArrived(order.baseModel, task: order.task, taskName: order.spec.name,
                                                           round: order.round - 1, epoch: 0) }
        }
    }

    // MARK: Coordinator

    private func collect(_ order: CollectWork) {
        runner.blobs.fetchBlob(order.update.hash, from: [order.source]) { [weak self] result in
            guard let self else { return }
            let rejection: String?
            switch result {
            case .success: rejection = self.fold(order)
            case let .failure(error): rejection = "cannot fetch the update: \(error)"
            }
            self.answer(.collected(task: order.task, epoch: order.epoch, round: order.round, worker: order.worker,
                                   rejection: rejection))
        }
    }

    /// Folds a fetched update into its round's aggregation; the reason when it is rejected.
    private func fold(_ order: CollectWork) -> String? {
        let key = RoundKey(task: order.task, epoch: order.epoch, round: order.round)
        let update: ModelWeights
        do {
            update = try SafeTensors.decode(runner.blobs.read(order.update.hash), requireFinite: true)
        } catch {
            runner.counters.increment("aggregation.updates unreadable")
            return "the update is not a readable safetensors file of finite values: \(error)"
        }
        if aggregations[key] == nil {
            do { try openAggregation(key, order: order) } catch { return "\(error)" }
        }
        do {
            try aggregations[key]!.aggregator.add(update, sampleCount: order.update.sampleCount,
                                                  metrics: ModelMetadata.metrics(in: update.metadata), valuesChecked: true)
        } catch {
            runner.counters.increment("aggregation.updates rejected")
            return error.reason
        }
        aggregations[key]!.folded.append(order.worker)
        runner.counters.increment("aggregation.updates folded")
        return nil
    }

    private func openAggregation(_ key: RoundKey, order: CollectWork) throws {
        guard let federated = order.spec.federatedTask else { throw RuntimeError("task \(order.spec.name) is not federated") }
        var base: ModelWeights?
        if order.baseModel != ModelHash.none {
            guard runner.blobs.holds(order.baseModel) else {
                throw RuntimeError("the coordinator does not hold the round's base model \(order.baseModel.hex.prefix(12))")
            }
            base = try SafeTensors.decode(runner.blobs.read(order.baseModel))
        }
        let settings = try AggregationSettings.parse(
            algorithm: federated.aggregationWorker.algorithm,
            parameters: federated.aggregationWorker.extraParameters.map { (key: $0.key, value: $0.value) })
        opened += 1
        var aggregator = RoundAggregator(settings: settings, base: base, state: serverStates[key.task])
        // Fold each update as it arrives: the coordinator then holds the running mean and one
        // update, never a window of them (docs/benchmarks.md, "A round on loopback").
        aggregator.foldWindow = 1
        aggregations[key] = PendingAggregation(aggregator: aggregator, opened: opened)
        // Older rounds of the task (a re-announcement at a new epoch) and the oldest beyond the limit go.
        for other in aggregations.keys where other.task == key.task && other != key { aggregations[other] = nil }
        while aggregations.count > WorkerLimits.aggregationsMax,
              let oldest = aggregations.min(by: { $0.value.opened < $1.value.opened })?.key {
            aggregations[oldest] = nil
        }
    }

    private func aggregate(_ order: AggregateWork) {
        let key = RoundKey(task: order.task, epoch: order.epoch, round: order.round)
        guard let pending = aggregations.removeValue(forKey: key) else {
            answer(.aggregationFailed(task: order.task, epoch: order.epoch, round: order.round,
                                      reason: "no update of this round is held here"))
            return
        }
        do {
            let result = try pending.aggregator.finish()
            var model = result.model
            model.metadata = ModelMetadata.forModel(task: order.task, name: order.spec.name, epoch: order.epoch,
                                                    round: order.round, metrics: result.metrics)
            let encoded = SafeTensors.encode(model)
            let hash = try runner.blobs.importBytes(encoded)
            if let state = result.state { serverStates[order.task] = state }
            runner.modelArrived(hash, task: order.task, taskName: order.spec.name, round: order.round, epoch: order.epoch,
                         made: (model, encoded.count))
            runner.counters.increment("aggregation.rounds")
            let aggregated = AggregatedRound(model: hash, participants: pending.folded.sorted(), sampleCount: result.sampleCount,
                                             metrics: result.metrics)
            if order.evaluate {
                evaluate(aggregated, of: order)
            } else {
                answer(.aggregated(task: order.task, epoch: order.epoch, round: order.round, aggregated))
            }
        } catch {
            answer(.aggregationFailed(task: order.task, epoch: order.epoch, round: order.round, reason: "\(error)"))
        }
    }
}
