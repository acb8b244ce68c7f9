import StarlingCrypto
import StarlingLearning
import StarlingPeer
import StarlingStore
import StarlingTasks

/// The runtime's IncrementalLearningJob executor (`TaskWork.incremental`), on the loop's thread:
/// - **train**: the rows of this peer's training part up to the step's watermark are written to
///   the worker's directory, and the job's `trainSpec.workerSpec` runs one round through the same
///   protocol a FederatedTask worker speaks (`starling.rounds()`), from the deployed model; its
///   update is the candidate's share. One process per cycle (the data grows between cycles).
/// - **evaluate**: `+Evaluation`.
/// - **combine** (coordinator): the trainers' updates are fetched and averaged by samples (FedAvg)
///   into the candidate, stored as a blob.
/// Serving the deployed version goes through the `ServingExecutor`.
final class IncrementalExecutor {
    unowned let runner: TaskRunner
    /// The step round each running training answers, by the supervisor's key.
    private var training: [TaskRunner.WorkerKey: UInt64] = [:]
    /// The evaluation running for each job here (to cancel it when the job is released).
    var evaluations: [TaskID: ModelEvaluationRun] = [:]
    /// The name a job's training worker goes by (its log, its work directory).
    static let trainWorker = "train"

    init(runner: TaskRunner) {
        self.runner = runner
    }

    func perform(_ work: IncrementalWork) {
        switch work {
        case let .train(order): train(order)
        case let .evaluate(order): evaluate(order)
        case let .combine(order): combine(order)
        }
    }

    func answer(_ result: IncrementalWorkResult) { runner.answer(.incremental(result)) }

    func release(_ task: TaskID) {
        for key in training.keys where key.task == task {
            training[key] = nil
            runner.supervisors.removeValue(forKey: key)?.release()
        }
        releaseEvaluations(task)
    }

    func shutdown() {
        training = [:]
        shutdownEvaluations()
    }

    // MARK: Train

    private func train(_ order: JobTrainWork) {
        guard let job = order.spec.incrementalLearningJob else { return }
        let key = TaskRunner.WorkerKey(task: order.task, worker: Self.trainWorker)
        if let running = runner.supervisors.removeValue(forKey: key) { running.release() }
        let dataPath: String, rows: Int
        do {
            (dataPath, rows) = try stageData(order.data, task: order.task, worker: Self.trainWorker)
        } catch {
            return answer(.failed(task: order.task, round: order.round, work: .train, reason: "\(error)"))
        }
        guard rows > 0 else {
            return answer(.failed(task: order.task, round: order.round, work: .train,
                                  reason: "no training rows among the first \(order.data.rows) of dataset \(order.data.dataset) here"))
        }
        // One round of the rounds protocol: the worker trains from the deployed model and submits.
        let round = TrainingWork(task: order.task, spec: order.spec, worker: Self.trainWorker, epoch: 1, round: order.cycle,
                                 baseModel: order.base, sources: order.sources, validate: false, deadline: UnixClock.now() + UInt64(TaskSettings().jobStageTimeout.components.seconds),
                                 seed: order.seed)
        let log = WorkerLog(directory: TaskRunner.logDirectory(runner.dataDirectory, task: order.task), worker: Self.trainWorker)
        let dataset = JobData.record(order.data.dataset, path: dataPath, rows: rows)
        let supervisor = WorkerSupervisor(
            task: order.task, worker: Self.trainWorker, loop: runner.loop, log: log,
            launch: { [launch = runner.launch] round, token in
                try launch.jobCommand(task: round.task, spec: round.spec, worker: job.trainSpec.workerSpec, role: "train",
                                      name: Self.trainWorker, token: token, dataset: dataset, seed: round.seed)
            },
            answer: { [weak self] result in self?.trained(result, key: key) })
        runner.supervisors[key] = supervisor
        training[key] = order.round
        runner.counters.increment("jobs.trainings started")
        supervisor.assign(round)
        runner.blobs.fetchBlob(order.base, from: order.sources) { [weak supervisor] result in
            supervisor?.modelFetched(result, for: round)
        }
    }

    /// The training worker submitted (the runner stored the update) or failed: answer, and let the
    /// worker go (the next cycle starts a new one on the data of its time).
    private func trained(_ result: FederatedWorkResult, key: TaskRunner.WorkerKey) {
        guard let round = training.removeValue(forKey: key) else { return }
        if let supervisor = runner.supervisors.removeValue(forKey: key) { supervisor.release() }
        switch result {
        case let .trained(task, _, _, _, update):
            runner.counters.increment("jobs.trainings completed")
            answer(.trained(task: task, round: round, update: update))
        case let .trainingFailed(task, _, _, _, reason):
            runner.counters.increment("jobs.trainings failed")
            answer(.failed(task: task, round: round, work: .train, reason: reason))
        default:
            break
        }
    }

    /// Writes a stage's slice of this peer's data into the stage worker's directory
    /// (`WORK/<task>/<worker>/<part>-rows.csv`); the path and the rows written.
    func stageData(_ slice: JobDataSlice, task: TaskID, worker: String) throws -> (path: String, rows: Int) {
        let directory = "\(runner.launch.workDirectory)/\(task.text.prefix(16))/\(worker)"
        let path = "\(directory)/\(slice.part.rawValue)-rows.csv"
        try POSIXFile.makeDirectories(directory)
        return (path, try JobData.write(slice, from: runner.store, to: path))
    }

    // MARK: Combine

    private func combine(_ order: JobCombineWork) {
        var fetched: [(JobUpdate, Result<String, RuntimeError>)] = []
        var outstanding = order.updates.count
        for update in order.updates {
            runner.blobs.fetchBlob(update.update.hash, from: [update.source]) { [weak self] result in
                fetched.append((update, result))
                outstanding -= 1
                if outstanding == 0 { self?.average(order, fetched) }
            }
        }
    }

    private func average(_ order: JobCombineWork, _ fetched: [(JobUpdate, Result<String, RuntimeError>)]) {
        var problems: [String] = []
        do {
            let settings = try AggregationSettings.parse(algorithm: .defaultAlgorithm, parameters: [])
            let base = runner.blobs.holds(order.base) ? try? SafeTensors.decode(runner.blobs.read(order.base)) : nil
            var aggregator = RoundAggregator(settings: settings, base: base, state: nil)
            aggregator.foldWindow = 1
            var folded = 0
            for (update, result) in fetched {
                do {
                    guard case .success = result else {
                        if case let .failure(error) = result { throw error }
                        continue
                    }
                    let weights = try SafeTensors.decode(runner.blobs.read(update.update.hash), requireFinite: true)
                    try aggregator.add(weights, sampleCount: update.update.sampleCount, metrics: [:], valuesChecked: true)
                    folded += 1
                } catch {
                    problems.append("\(update.source.node.short): \(error)")
                }
            }
            guard folded > 0 else {
                return answer(.failed(task: order.task, round: order.round, work: .combine,
                                      reason: "no update could be combined: " + problems.joined(separator: "; ")))
            }
            var model = try aggregator.finish().model
            model.metadata = ModelMetadata.forModel(task: order.task, name: order.spec.name, epoch: 1, round: order.round, metrics: [:])
            let encoded = SafeTensors.encode(model)
            let hash = try runner.blobs.importBytes(encoded)
            runner.counters.increment("jobs.candidates combined")
            answer(.combined(task: order.task, round: order.round, model: hash))
        } catch {
            answer(.failed(task: order.task, round: order.round, work: .combine, reason: "\(error)"))
        }
    }
}
