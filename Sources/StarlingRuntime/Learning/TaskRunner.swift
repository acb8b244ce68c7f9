import StarlingCrypto
import StarlingLearning
import StarlingPeer
import StarlingStore
import StarlingTasks

/// The runtime's driver for `TaskWork` (docs/workers.md): training workers as processes, models
/// and updates as blobs, aggregation with StarlingLearning. Everything runs on the loop's thread;
/// each order is answered with a `.workDone` input.
final class TaskRunner {
    struct WorkerKey: Hashable {
        let task: TaskID
        let worker: String
    }

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

    let loop: EventLoop
    let blobs: BlobProvider
    let store: Store?
    let dataDirectory: String
    let launch: WorkerLaunch
    let counters: RuntimeCounters
    private let deliver: (PeerInput) -> Void
    let log: (LogLevel, String) -> Void
    var supervisors: [WorkerKey: WorkerSupervisor] = [:]
    private var aggregations: [RoundKey: PendingAggregation] = [:]
    private var serverStates: [TaskID: ServerOptimizerState] = [:]
    /// Coordinator: aggregated rounds waiting for their central evaluation, by task (one at a time).
    var evaluations: [TaskID: PendingEvaluation] = [:]
    private var opened: UInt64 = 0

    init(loop: EventLoop, blobs: BlobProvider, store: Store?, dataDirectory: String, launcher: String?, python: String?,
         socketPath: String, counters: RuntimeCounters, deliver: @escaping (PeerInput) -> Void,
         log: @escaping (LogLevel, String) -> Void) {
        self.loop = loop
        self.blobs = blobs
        self.store = store
        self.dataDirectory = dataDirectory
        self.launch = WorkerLaunch(launcher: launcher, socketPath: socketPath, workDirectory: "\(dataDirectory)/work",
                                   python: python)
        self.counters = counters
        self.deliver = deliver
        self.log = log
    }

    func perform(_ work: TaskWork) {
        switch work {
        case let .federated(.train(order)): train(order)
        case let .federated(.collect(order)): collect(order)
        case let .federated(.aggregate(order)): aggregate(order)
        case let .holdModel(task, round, model, sources): hold(model, task: task, round: round, sources: sources)
        case let .release(task, reason): release(task, reason: reason)
        }
    }

    /// Peer shutdown: every worker is killed now.
    func shutdown() {
        for supervisor in supervisors.values { supervisor.close() }
        supervisors = [:]
        aggregations = [:]
    }

    func answer(_ result: TaskWorkResult) { deliver(.workDone(result)) }
    func answer(_ result: FederatedWorkResult) { deliver(.workDone(.federated(result))) }

    // MARK: Participant

    private func train(_ order: TrainingOrder) {
        let key = WorkerKey(task: order.task, worker: order.worker)
        let supervisor: WorkerSupervisor
        if let existing = supervisors[key] {
            supervisor = existing
        } else {
            guard supervisors.count < WorkerLimits.workersMax else {
                counters.increment("workers.refused over limit")
                answer(.trainingFailed(task: order.task, worker: order.worker, epoch: order.epoch, round: order.round,
                                       reason: "this peer runs \(WorkerLimits.workersMax) workers already (WorkerLimits.workersMax)"))
                return
            }
            let dataset = datasetRecord(for: order)
            let log = WorkerLog(directory: Self.logDirectory(dataDirectory, task: order.task), worker: order.worker)
            supervisor = WorkerSupervisor(
                task: order.task, worker: order.worker, loop: loop, log: log,
                launch: { [launch] order, token in try launch.command(for: order, token: token, dataset: dataset) },
                answer: { [weak self] result in self?.answer(result) })
            supervisors[key] = supervisor
            counters.increment("workers.created")
        }
        supervisor.assign(order)
        guard order.baseModel != ModelHash.none, supervisor.order == order else { return }
        blobs.fetchBlob(order.baseModel, from: order.sources) { [weak self, weak supervisor] result in
            supervisor?.modelFetched(result, for: order)
            if case .success = result { self?.modelArrived(order.baseModel, task: order.task, taskName: order.spec.name,
                                                           round: order.round - 1, epoch: 0) }
        }
    }

    private func datasetRecord(for order: TrainingOrder) -> DatasetRecord? {
        guard let worker = order.spec.federatedTask?.trainingWorkers.first(where: { $0.name == order.worker }) else { return nil }
        return (try? store?.datasets())??.first { $0.name == worker.dataset.name }
    }

    static func logDirectory(_ dataDirectory: String, task: TaskID) -> String { "\(dataDirectory)/logs/\(task.text.prefix(16))" }

    // MARK: Coordinator

    private func collect(_ order: CollectOrder) {
        blobs.fetchBlob(order.update.hash, from: [order.source]) { [weak self] result in
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
    private func fold(_ order: CollectOrder) -> String? {
        let key = RoundKey(task: order.task, epoch: order.epoch, round: order.round)
        let update: ModelWeights
        do {
            update = try SafeTensors.decode(blobs.read(order.update.hash), requireFinite: true)
        } catch {
            counters.increment("aggregation.updates unreadable")
            return "the update is not a readable safetensors file of finite values: \(error)"
        }
        if aggregations[key] == nil {
            do { try openAggregation(key, order: order) } catch { return "\(error)" }
        }
        do {
            try aggregations[key]!.aggregator.add(update, sampleCount: order.update.sampleCount,
                                                  metrics: ModelMetadata.metrics(in: update.metadata), valuesChecked: true)
        } catch {
            counters.increment("aggregation.updates rejected")
            return error.reason
        }
        aggregations[key]!.folded.append(order.worker)
        counters.increment("aggregation.updates folded")
        return nil
    }

    private func openAggregation(_ key: RoundKey, order: CollectOrder) throws {
        guard let federated = order.spec.federatedTask else { throw RuntimeError("task \(order.spec.name) is not federated") }
        var base: ModelWeights?
        if order.baseModel != ModelHash.none {
            guard blobs.holds(order.baseModel) else {
                throw RuntimeError("the coordinator does not hold the round's base model \(order.baseModel.hex.prefix(12))")
            }
            base = try SafeTensors.decode(blobs.read(order.baseModel))
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

    private func aggregate(_ order: AggregateOrder) {
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
            let hash = try blobs.importBytes(encoded)
            if let state = result.state { serverStates[order.task] = state }
            modelArrived(hash, task: order.task, taskName: order.spec.name, round: order.round, epoch: order.epoch,
                         made: (model, encoded.count))
            counters.increment("aggregation.rounds")
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

    // MARK: Models

    private func hold(_ model: ContentHash, task: TaskID, round: UInt64, sources: [BlobSource]) {
        blobs.fetchBlob(model, from: sources) { [weak self] result in
            guard let self else { return }
            switch result {
            case .success:
                self.modelArrived(model, task: task, taskName: nil, round: round, epoch: 0)
                self.answer(.modelHeld(model))
            case let .failure(error):
                self.counters.increment("models.fetch failed")
                self.log(.warning, "cannot fetch model \(model.hex.prefix(12)) of round \(round): \(error)")
            }
        }
    }

    /// Records a committed model held here (made, replicated or fetched as a round's base), with
    /// the round and metrics its metadata carries, and deletes the task's models beyond the
    /// retention, except a blob an imported model names (the same contents, exported and imported
    /// again as another task's start). `made`: the model and its encoded size when this peer just
    /// made it (else the blob is read, once). Round 0 (an imported starting model) is no commit.
    func modelArrived(_ hash: ContentHash, task: TaskID, taskName: String?, round: UInt64, epoch: UInt64,
                      made: (model: ModelWeights, byteCount: Int)? = nil) {
        guard let store, round > 0 else { return }
        var known = made
        if known == nil, let bytes = try? blobs.read(hash), let weights = try? SafeTensors.decode(bytes) {
            known = (weights, bytes.count)
        }
        let metadata = known?.model.metadata ?? [:]
        let record = ModelRecord(
            hash: hash.hex, task: task.text, taskName: taskName ?? metadata[ModelMetadata.taskName] ?? "",
            round: metadata[ModelMetadata.round].flatMap(UInt64.init) ?? round,
            epoch: metadata[ModelMetadata.epoch].flatMap(UInt64.init) ?? epoch,
            metrics: ModelMetadata.metrics(in: metadata), bytes: UInt64(known?.byteCount ?? 0),
            parameters: UInt64(known?.model.parameterCount ?? 0), savedAt: UnixClock.now())
        do {
            let dropped = try store.saveModel(record, keepPerTask: WorkerLimits.modelsPerTaskMax)
            guard !dropped.isEmpty else { return }
            let imported = Set(try store.importedModels().map(\.hash))
            for old in dropped where !imported.contains(old) {
                if let id = try? ContentHash(hex: old) { try? blobs.remove(id) }
            }
        } catch {
            log(.warning, "cannot record model \(hash.hex.prefix(12)): \(error)")
        }
    }

    // MARK: Release

    private func release(_ task: TaskID, reason: String) {
        for (key, supervisor) in supervisors where key.task == task {
            // The supervisor (and its log) goes once its process has exited: told "stop", it has
            // WorkerLimits.doneGrace to finish by itself. A peer stopping meanwhile does not wait
            // for it: `shutdown` closes every supervisor (and kills its process) at once.
            supervisor.onStopped = { [weak self, weak supervisor] in
                guard let self, let supervisor, self.supervisors[key] === supervisor, supervisor.released else { return }
                supervisor.close()
                self.supervisors[key] = nil
            }
            supervisor.release()
        }
        for key in aggregations.keys where key.task == task { aggregations[key] = nil }
        evaluations.removeValue(forKey: task)?.timer.close()
        serverStates[task] = nil
        log(.info, "task \(task.short): workers released (\(reason))")
    }
}

extension Error {
    /// An `UpdateRejection`'s reason, or the error's description.
    var reason: String { (self as? UpdateRejection)?.reason ?? "\(self)" }
}
