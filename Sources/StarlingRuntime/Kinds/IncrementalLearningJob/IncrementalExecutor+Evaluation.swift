import StarlingCrypto
import StarlingPeer
import StarlingStore
import StarlingTasks

/// The eval stage on this peer: both models fetched, this peer's evaluation rows below the
/// step's watermark written to the stage's directory, then the job's `evalSpec.workerSpec` run
/// once (`ModelEvaluationRun`) and its confusion matrices answered.
extension IncrementalExecutor {
    func evaluate(_ order: JobEvalWork) {
        guard let job = order.spec.incrementalLearningJob else { return }
        evaluations.removeValue(forKey: order.task)?.cancel()
        let dataPath: String, rows: Int
        do {
            (dataPath, rows) = try stageData(order.data, task: order.task, worker: ModelEvaluationRun.workerName)
        } catch {
            return answer(.failed(task: order.task, round: order.round, work: .evaluate, reason: "\(error)"))
        }
        let wanted = [("candidate", order.candidate), ("deployed", order.deployed)]
        var paths: [String: String] = [:]
        var failure: String?
        var outstanding = wanted.count
        for (name, model) in wanted {
            runner.blobs.fetchBlob(model, from: order.sources) { [weak self] result in
                switch result {
                case let .success(path): paths[name] = path
                case let .failure(error): failure = failure ?? "cannot fetch the \(name) model \(model.hex.prefix(12)): \(error)"
                }
                outstanding -= 1
                guard outstanding == 0, let self else { return }
                if let failure { return self.answer(.failed(task: order.task, round: order.round, work: .evaluate, reason: failure)) }
                self.run(order, worker: job.evalSpec.workerSpec, models: paths, dataPath: dataPath, rows: rows)
            }
        }
    }

    private func run(_ order: JobEvalWork, worker: WorkerSpec, models: [String: String], dataPath: String, rows: Int) {
        let log = WorkerLog(directory: TaskRunner.logDirectory(runner.dataDirectory, task: order.task), worker: ModelEvaluationRun.workerName)
        let evaluation = ModelEvaluationOrder(task: order.task, spec: order.spec, worker: worker, models: models,
                                              dataset: order.data.dataset, dataPath: dataPath, rows: UInt64(rows))
        let run = ModelEvaluationRun(loop: runner.loop, launch: runner.launch, log: log, order: evaluation) { [weak self] result in
            guard let self else { return }
            self.evaluations[order.task] = nil
            switch result {
            case let .success(matrices):
                guard let candidate = matrices["candidate"], let deployed = matrices["deployed"] else {
                    return self.answer(.failed(task: order.task, round: order.round, work: .evaluate, reason: "the result lacks a model"))
                }
                guard candidate.classes <= TaskStateLimits.evaluationClassesMax, deployed.classes <= TaskStateLimits.evaluationClassesMax else {
                    return self.answer(.failed(task: order.task, round: order.round, work: .evaluate,
                                               reason: "\(max(candidate.classes, deployed.classes)) classes exceed the "
                                                   + "\(TaskStateLimits.evaluationClassesMax) a job's evaluation carries (TaskStateLimits.evaluationClassesMax)"))
                }
                self.runner.counters.increment("jobs.evaluations completed")
                self.answer(.evaluated(task: order.task, round: order.round, evaluation: Evaluation(candidate: candidate, deployed: deployed)))
            case let .failure(error):
                self.runner.counters.increment("jobs.evaluations failed")
                self.answer(.failed(task: order.task, round: order.round, work: .evaluate, reason: error.description))
            }
        }
        evaluations[order.task] = run
        run.start()
    }

    func releaseEvaluations(_ task: TaskID) {
        evaluations.removeValue(forKey: task)?.cancel()
    }

    func shutdownEvaluations() {
        for run in evaluations.values { run.cancel() }
        evaluations = [:]
    }
}
