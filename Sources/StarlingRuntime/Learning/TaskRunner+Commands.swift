import Foundation
import StarlingCrypto
import StarlingLearning
import StarlingLocalAPI
import StarlingPeer
import StarlingStore
import StarlingTasks

/// The local API commands of workers, datasets, models and logs (docs/workers.md, docs/cli.md);
/// the messages are StarlingLocalAPI's `LocalRequest` cases and the answers they name.
struct TaskRunnerCommands {
    let runner: TaskRunner
    let tasks: () -> [TaskSummary]
    let members: () -> [MemberView]
    let control: (ControlRequest) -> ControlAnswer

    /// The answer to a runner command; nil for the commands the machine answers.
    func respond(_ request: LocalRequest) -> LocalAPIAnswer? {
        switch request {
        case let .workerPoll(identity): .now(LocalAPI.line(workerPoll(identity)))
        case let .workerSubmit(identity, update): .now(worker(identity) { workerSubmit($0, update) })
        case let .workerFail(identity, failure): .now(worker(identity) { workerFail($0, failure) })
        case let .workerEvaluated(identity, scores): .now(worker(identity) { workerEvaluated($0, scores) })
        case let .datasetAdd(name, path, format): .now(LocalAPI.line(datasetAdd(name: name, path: path, format: format)))
        case let .datasetAppend(name, path, format): .now(LocalAPI.line(datasetAppend(name: name, path: path, format: format)))
        case .datasetList: .now(LocalAPI.line(datasetList()))
        case let .datasetRemove(name): .now(LocalAPI.line(datasetRemove(name)))
        case .modelList: .now(LocalAPI.line(modelList()))
        case let .modelImport(name, path): .now(LocalAPI.line(modelImport(name: name, path: path)))
        case let .modelRemove(name): .now(LocalAPI.line(modelRemove(name)))
        case let .modelExport(model, out): modelExport(model, out: out)
        case let .modelVersions(name): .now(modelVersions(name))
        case let .modelRollback(name, version): .now(modelRollback(name, version: version))
        case let .taskLogs(task, worker): .now(taskLogs(task, worker: worker))
        case let .infer(call): infer(call)
        case .members, .counters, .keyring, .keyringStatus, .tasks, .taskSubmit, .taskCancel: nil
        }
    }

    /// Scores `call` through the service's edge path; answered when the request is done (its
    /// cloud leg is bounded by the service's cloud deadline).
    private func infer(_ call: InferCall) -> LocalAPIAnswer {
        guard call.shape.count == 2, call.shape.allSatisfy({ $0 > 0 }), call.shape[0] * call.shape[1] == call.data.count else {
            return .now(LocalAPI.line(ErrorResponse(.badRequest, "infer needs \"shape\" [examples, features] and that many \"data\" values")))
        }
        return .later(within: ServingLimits.cloudTimeoutMax + LocalAPILimits.requestTimeout) { [runner] send in
            runner.serving.infer(service: call.service, values: call.data, rows: call.shape[0], features: call.shape[1]) { result in
                switch result {
                case let .success(outcome):
                    send(LocalAPI.line(InferAnswer(service: call.service, classes: outcome.classes, scores: outcome.scores,
                                                   computedAt: outcome.computedAt.map(\.rawValue), fallbackReason: outcome.fallbackReason,
                                                   edgeVersion: outcome.edgeVersion, cloudVersion: outcome.cloudVersion)))
                case let .failure(refusal):
                    let code: ErrorCode = if case .notFound = refusal { .noService } else if case .badRequest = refusal { .badRequest } else { .unavailable }
                    send(LocalAPI.line(ErrorResponse(code, refusal.message)))
                }
            }
        }
    }

    /// A task as the local API reports it, with `gaveUp` for the workers this peer supervises.
    func report(_ summary: TaskSummary) -> TaskReport {
        var report = TaskReport(summary, names: summary.job == nil ? [:] : nodeNames())
        for index in report.participants.indices {
            let key = TaskRunner.WorkerKey(task: summary.id, worker: report.participants[index].worker)
            if let supervisor = runner.supervisors[key] { report.participants[index].gaveUp = supervisor.gaveUp != nil }
        }
        report.service?.local = runner.serving.report(summary.id)
        report.job?.serving = runner.serving.report(summary.id)
        return report
    }

    // MARK: Workers

    private func supervisor(_ identity: WorkerIdentity) -> Result<WorkerSupervisor, ErrorResponse> {
        guard let id = try? TaskID(text: identity.task) else {
            return .failure(ErrorResponse(.badRequest, "a worker request's \"task\" is the task's id (64 hex), not \(identity.task)"))
        }
        guard let supervisor = runner.supervisors[TaskRunner.WorkerKey(task: id, worker: identity.worker)] else {
            return .failure(ErrorResponse(.noWorker, "this peer runs no worker \(identity.worker) for task \(id.short)"))
        }
        guard supervisor.token == identity.token else {
            return .failure(ErrorResponse(.wrongToken, "wrong token for worker \(identity.worker)"))
        }
        return .success(supervisor)
    }

    /// The answer line of a request of a worker this peer supervises; a refusal otherwise.
    private func worker(_ identity: WorkerIdentity, _ answer: (WorkerSupervisor) -> OutcomeResponse) -> [UInt8] {
        switch supervisor(identity) {
        case let .success(found): LocalAPI.line(answer(found))
        case let .failure(refusal): LocalAPI.line(refusal)
        }
    }

    private func workerPoll(_ identity: WorkerIdentity) -> Encodable {
        let supervisor: WorkerSupervisor
        switch self.supervisor(identity) {
        case let .success(found): supervisor = found
        // A worker whose task this peer no longer runs is done.
        case let .failure(refusal) where refusal.code == .noWorker: return WorkerJob.stop
        case let .failure(refusal): return refusal
        }
        switch supervisor.poll() {
        case .wait: return WorkerJob.wait
        case .stop: return WorkerJob.stop
        case let .evaluate(order, path):
            return WorkerJob.evaluate(EvaluateJob(epoch: order.epoch, round: order.round,
                                                  model: WorkerLaunch.absolute(path, in: runner.launch.baseDirectory)))
        case let .train(order, path):
            return WorkerJob.train(TrainJob(epoch: order.epoch, round: order.round,
                                            model: path.map { WorkerLaunch.absolute($0, in: runner.launch.baseDirectory) },
                                            validate: order.validate, deadline: order.deadline))
        }
    }

    private func workerSubmit(_ supervisor: WorkerSupervisor, _ submitted: WorkerUpdate) -> OutcomeResponse {
        guard let order = supervisor.order, submitted.epoch == order.epoch, submitted.round == order.round else {
            return OutcomeResponse(ok: false, message: "no round \(submitted.round) is owed by \(supervisor.worker) now "
                + "(late or repeated submission)")
        }
        guard submitted.numSamples > 0 else {
            return OutcomeResponse(ok: false, message: "worker-submit needs \"num_samples\" > 0")
        }
        do {
            let bytes = try POSIXFile.read(submitted.update, limit: LearningLimits.modelBytesMax)
            var update = try SafeTensors.decode(bytes, requireFinite: true)
            update.metadata = ModelMetadata.forUpdate(samples: submitted.numSamples, metrics: submitted.metrics)
            let hash = try runner.blobs.importBytes(SafeTensors.encode(update))
            supervisor.roundFinished(.trained(task: supervisor.task, worker: supervisor.worker, epoch: order.epoch,
                                              round: order.round, update: UpdateRef(hash: hash, sampleCount: submitted.numSamples)))
            runner.counters.increment("workers.updates submitted")
            return OutcomeResponse(ok: true, message: "update \(hash.hex.prefix(12)) of round \(order.round) stored")
        } catch {
            return OutcomeResponse(ok: false, message: "cannot read the update \(submitted.update): \(error)")
        }
    }

    /// A central evaluator's scores of the model it was asked about.
    private func workerEvaluated(_ supervisor: WorkerSupervisor, _ scores: WorkerScores) -> OutcomeResponse {
        guard supervisor.role == .evaluate, let order = supervisor.order, scores.epoch == order.epoch, scores.round == order.round else {
            return OutcomeResponse(ok: false, message: "no evaluation of round \(scores.round) is owed by \(supervisor.worker) now "
                + "(late, repeated, or not an evaluator)")
        }
        let metrics = scores.metrics.filter { $0.value.isFinite }
        supervisor.evaluationFinished()
        supervisor.log.append("--- round \(order.round) scored: "
            + metrics.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + "\n")
        runner.federated.evaluationEnded(task: supervisor.task, epoch: order.epoch, round: order.round, outcome: .success(metrics))
        return OutcomeResponse(ok: true, message: "scores of round \(order.round) recorded")
    }

    private func workerFail(_ supervisor: WorkerSupervisor, _ failure: WorkerFailure) -> OutcomeResponse {
        guard let order = supervisor.order, failure.round == order.round, failure.epoch.map({ $0 == order.epoch }) ?? true else {
            return OutcomeResponse(ok: false, message: "no such round is owed by \(supervisor.worker) now")
        }
        let reason = failure.reason ?? "the worker gave up"
        supervisor.log.append("--- worker reported failure: \(reason)\n")
        supervisor.roundFinished(.trainingFailed(task: supervisor.task, worker: supervisor.worker, epoch: order.epoch,
                                                 round: order.round, reason: reason))
        return OutcomeResponse(ok: true, message: "round \(order.round) reported failed")
    }

    // MARK: Datasets

    private func datasetAdd(name: String, path: String, format formatName: String?) -> DatasetAddResponse {
        guard let store = runner.store else { return DatasetAddResponse(ok: false, message: "this peer has no store") }
        guard Self.isLabel(name) else {
            return DatasetAddResponse(ok: false, message: "a dataset name is a DNS-1123 label: 1-63 lowercase letters, digits and '-'")
        }
        guard path.hasPrefix("/") else { return DatasetAddResponse(ok: false, message: "dataset-add needs \"path\": an absolute path") }
        let formatText = formatName ?? (path.hasSuffix(".npz") ? "npz" : "csv")
        guard let format = DatasetFormat(rawValue: formatText) else {
            return DatasetAddResponse(ok: false, message: "unknown format \(formatText); known: csv, npz")
        }
        let data: LabeledData
        let bytes: [UInt8]
        do {
            bytes = try POSIXFile.read(path, limit: Int.max)
            data = try DatasetFile.decode(bytes, format: format)
        } catch {
            return DatasetAddResponse(ok: false, message: "\(path): \(error)")
        }
        var existing = (try? store.datasets()) ?? []
        existing.removeAll { $0.name == name }
        guard existing.count < DatasetTags.datasetsMax else {
            return DatasetAddResponse(ok: false, message: "this peer holds \(DatasetTags.datasetsMax) datasets already (DatasetTags.datasetsMax)")
        }
        let record = DatasetRecord(name: name, path: path, format: format.rawValue, bytes: UInt64(bytes.count),
                                   samples: UInt64(data.count), features: UInt64(data.featureCount),
                                   classes: UInt64(data.classCount), addedAt: UnixClock.now())
        // A replaced dataset's arrivals go with it (the new file is what the name holds now).
        do { DatasetAppend.removeFiles(try store.saveDataset(record)) } catch {
            return DatasetAddResponse(ok: false, message: "cannot save the dataset: \(error)")
        }
        let announced = announceStoreTags()
        return DatasetAddResponse(ok: announced.ok, message: "dataset \(name): \(data.count) samples, \(data.featureCount) features, "
                                  + "\(data.classCount) classes (\(announced.message))", dataset: Dataset(record))
    }

    private func datasetRemove(_ name: String) -> OutcomeResponse {
        guard let store = runner.store else { return OutcomeResponse(ok: false, message: "this peer has no store") }
        guard let arrivals = try? store.removeDataset(named: name) else { return OutcomeResponse(ok: false, message: "no dataset \(name)") }
        DatasetAppend.removeFiles(arrivals)
        let announced = announceStoreTags()
        return OutcomeResponse(ok: announced.ok, message: "dataset \(name) removed (\(announced.message))")
    }

    /// Replaces this peer's dataset and model tags with the registered datasets and imported
    /// models (other tags stay).
    func announceStoreTags() -> ControlAnswer {
        guard let me = members().first(where: \.isLocal) else { return ControlAnswer(ok: false, message: "no local member") }
        let tags = me.tags.filter { !$0.key.hasPrefix(DatasetTags.prefix) && !$0.key.hasPrefix(ModelTags.prefix) }
            .merging(DatasetTags.tags(declaring: (try? runner.store?.datasets()) ?? [])) { _, declared in declared }
            .merging(ModelTags.tags(declaring: (try? runner.store?.importedModels()) ?? [])) { _, declared in declared }
        return control(.setTags(tags))
    }

    private func datasetList() -> DatasetListResponse {
        var declared: [DeclaredDataset] = []
        for member in members() where member.state == .alive || member.isLocal {
            for dataset in DatasetTags.declared(in: member.tags) {
                declared.append(DeclaredDataset(peer: member.name, name: dataset.name, format: dataset.format,
                                                bytes: dataset.bytes, samples: dataset.samples))
            }
        }
        let arrivals = (try? runner.store?.arrivalCounts()) ?? [:]
        return DatasetListResponse(datasets: ((try? runner.store?.datasets()) ?? []).map { Dataset($0, arrivals: arrivals[$0.name] ?? 0) },
                                   declared: declared)
    }

    // MARK: Logs

    private func taskLogs(_ reference: String, worker wanted: String?) -> [UInt8] {
        guard let task = task(reference) else { return LocalAPI.line(ErrorResponse(.noTask, "no task \(reference)")) }
        let directory = TaskRunner.logDirectory(runner.dataDirectory, task: task.id)
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".log") }.sorted()
        var logs: [TaskLogsResponse.Log] = []
        for file in files {
            let worker = String(file.dropLast(4))
            if let wanted, wanted != worker { continue }
            let path = "\(directory)/\(file)"
            let text = String(decoding: WorkerLog.tail(path: path, limit: WorkerLimits.logTailBytesMax), as: UTF8.self)
            logs.append(TaskLogsResponse.Log(worker: worker, path: path, text: text))
        }
        return LocalAPI.line(TaskLogsResponse(task: task.id.text, name: task.name, logs: logs))
    }

    /// The task a reference names: its id, an id prefix (8+ hex) or its name (the latest
    /// submitted of that name).
    func task(_ reference: String) -> TaskSummary? {
        tasks().filter { $0.id.text == reference || $0.name == reference
            || (reference.count >= 8 && $0.id.text.hasPrefix(reference.lowercased())) }
            .max { $0.submittedAt < $1.submittedAt }
    }

    // MARK: Checks

    static func isLabel(_ name: String) -> Bool {
        let scalars = name.unicodeScalars
        guard (1...63).contains(scalars.count), scalars.first != "-", scalars.last != "-" else { return false }
        return scalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }
}

extension Dataset {
    init(_ record: DatasetRecord, arrivals: UInt64 = 0) {
        self.init(name: record.name, path: record.path, format: record.format, bytes: record.bytes, samples: record.samples,
                  features: record.features, classes: record.classes, addedAt: record.addedAt, arrivals: arrivals)
    }
}
