import Foundation
import StarlingCrypto
import StarlingLearning
import StarlingPeer
import StarlingStore
import StarlingTasks

/// The local API commands of workers, datasets, models and logs (docs/workers.md, docs/cli.md):
///
///     → {"command":"worker-poll","task":T,"worker":W,"token":K}
///        ← {"state":"wait"} | {"state":"train","epoch":E,"round":R,"model":PATH|null,"validate":B,"deadline":S} | {"state":"done"}
///     → {"command":"worker-submit",...,"epoch":E,"round":R,"update":PATH,"num_samples":N,"metrics":{...}}  ← {"ok":…,"message":…}
///     → {"command":"worker-fail",...,"epoch":E,"round":R,"reason":TEXT}                                   ← {"ok":…,"message":…}
///     (a central evaluator's poll) ← {"state":"evaluate","epoch":E,"round":R,"model":PATH}
///     → {"command":"worker-evaluated",...,"epoch":E,"round":R,"metrics":{...}}                          ← {"ok":…,"message":…}
///     → {"command":"dataset-add","name":N,"path":P,"format":"csv|npz"}   ← {"ok":…,"message":…,"dataset":{…}}
///     → {"command":"dataset-list"}        ← {"datasets":[{…}],"declared":[{"peer":…,"name":…,"format":…,"bytes":…,"samples":…}]}
///     → {"command":"dataset-remove","name":N}                             ← {"ok":…,"message":…}
///     → {"command":"model-list"|"model-import"|"model-remove"|"model-export",…}   (TaskRunnerCommands+Models.swift)
///     → {"command":"task-logs","task":ID|NAME,"worker":W?}               ← {"logs":[{"worker":…,"path":…,"text":…}]}
struct TaskRunnerCommands {
    static let commands = ["worker-poll", "worker-submit", "worker-fail", "worker-evaluated", "dataset-add", "dataset-list", "dataset-remove",
                           "model-list", "model-import", "model-remove", "model-export", "task-logs"]

    let runner: TaskRunner
    let tasks: () -> [TaskSummary]
    let members: () -> [MemberView]
    let control: (ControlRequest) -> ControlAnswer

    func respond(_ command: String, _ line: [UInt8]) -> LocalAPIAnswer? {
        guard Self.commands.contains(command) else { return nil }
        guard let request = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] else {
            return .now(Self.error("expected one JSON object"))
        }
        switch command {
        case "worker-poll": return .now(workerPoll(request))
        case "worker-submit": return .now(workerSubmit(request))
        case "worker-fail": return .now(workerFail(request))
        case "worker-evaluated": return .now(workerEvaluated(request))
        case "dataset-add": return .now(datasetAdd(request))
        case "dataset-list": return .now(datasetList())
        case "dataset-remove": return .now(datasetRemove(request))
        case "model-list": return .now(modelList())
        case "model-import": return .now(modelImport(request))
        case "model-remove": return .now(modelRemove(request))
        case "model-export": return modelExport(request)
        default: return .now(taskLogs(request))
        }
    }

    // MARK: Workers

    private func supervisor(_ request: [String: Any]) -> Result<WorkerSupervisor, RuntimeError> {
        guard let task = request["task"] as? String, let id = try? TaskID(text: task),
              let worker = request["worker"] as? String, let token = request["token"] as? String else {
            return .failure(RuntimeError("a worker request needs \"task\" (64 hex), \"worker\" and \"token\""))
        }
        guard let supervisor = runner.supervisors[TaskRunner.WorkerKey(task: id, worker: worker)] else {
            return .failure(RuntimeError("this peer runs no worker \(worker) for task \(id.short)"))
        }
        guard supervisor.token == token else { return .failure(RuntimeError("wrong token for worker \(worker)")) }
        return .success(supervisor)
    }

    private func workerPoll(_ request: [String: Any]) -> [UInt8] {
        let supervisor: WorkerSupervisor
        switch self.supervisor(request) {
        case let .success(found): supervisor = found
        case let .failure(error):
            // A worker whose task this peer no longer runs is done.
            if error.description.hasPrefix("this peer runs no worker") { return Self.json(["state": "done"]) }
            return Self.error(error.description)
        }
        switch supervisor.poll() {
        case .wait: return Self.json(["state": "wait"])
        case .done: return Self.json(["state": "done"])
        case let .evaluate(order, path):
            return Self.json(["state": "evaluate", "epoch": order.epoch, "round": order.round,
                              "model": WorkerLaunch.absolute(path, in: runner.launch.baseDirectory)])
        case let .train(order, path):
            let model = path.map { WorkerLaunch.absolute($0, in: runner.launch.baseDirectory) }
            return Self.json(["state": "train", "epoch": order.epoch, "round": order.round, "model": model ?? NSNull(),
                              "validate": order.validate, "deadline": order.deadline])
        }
    }

    private func workerSubmit(_ request: [String: Any]) -> [UInt8] {
        let supervisor: WorkerSupervisor
        switch self.supervisor(request) {
        case let .success(found): supervisor = found
        case let .failure(error): return Self.error(error.description)
        }
        guard let order = supervisor.order, Self.uint(request["epoch"]) == order.epoch,
              Self.uint(request["round"]) == order.round else {
            return Self.control(ok: false, "no round \(Self.uint(request["round"]).map(String.init) ?? "?") is owed by "
                + "\(supervisor.worker) now (late or repeated submission)")
        }
        guard let path = request["update"] as? String, let samples = Self.uint(request["num_samples"]), samples > 0 else {
            return Self.control(ok: false, "worker-submit needs \"update\" (a safetensors path) and \"num_samples\" > 0")
        }
        var metrics: [String: Double] = [:]
        for (name, value) in (request["metrics"] as? [String: Any]) ?? [:] {
            guard let number = (value as? NSNumber)?.doubleValue, number.isFinite else {
                return Self.control(ok: false, "metric \(name) is not a finite number")
            }
            metrics[name] = number
        }
        do {
            let bytes = try POSIXFile.read(path, limit: LearningLimits.modelBytesMax)
            var update = try SafeTensors.decode(bytes, requireFinite: true)
            update.metadata = ModelMetadata.forUpdate(samples: samples, metrics: metrics)
            let hash = try runner.blobs.importBytes(SafeTensors.encode(update))
            supervisor.roundFinished(.trained(task: supervisor.task, worker: supervisor.worker, epoch: order.epoch,
                                              round: order.round, update: UpdateRef(hash: hash, sampleCount: samples)))
            runner.counters.increment("workers.updates submitted")
            return Self.control(ok: true, "update \(hash.hex.prefix(12)) of round \(order.round) stored")
        } catch {
            return Self.control(ok: false, "cannot read the update \(path): \(error)")
        }
    }

    /// A central evaluator's scores of the model it was asked about.
    private func workerEvaluated(_ request: [String: Any]) -> [UInt8] {
        let supervisor: WorkerSupervisor
        switch self.supervisor(request) {
        case let .success(found): supervisor = found
        case let .failure(error): return Self.error(error.description)
        }
        guard supervisor.role == .evaluate, let order = supervisor.order, Self.uint(request["epoch"]) == order.epoch,
              Self.uint(request["round"]) == order.round else {
            return Self.control(ok: false, "no evaluation of round \(Self.uint(request["round"]).map(String.init) ?? "?") "
                + "is owed by \(supervisor.worker) now (late, repeated, or not an evaluator)")
        }
        var metrics: [String: Double] = [:]
        for (name, value) in (request["metrics"] as? [String: Any]) ?? [:] {
            guard let number = (value as? NSNumber)?.doubleValue, number.isFinite else {
                return Self.control(ok: false, "metric \(name) is not a finite number")
            }
            metrics[name] = number
        }
        supervisor.evaluationFinished()
        supervisor.log.append("--- round \(order.round) scored: "
            + metrics.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + "\n")
        runner.evaluationEnded(task: supervisor.task, epoch: order.epoch, round: order.round, outcome: .success(metrics))
        return Self.control(ok: true, "scores of round \(order.round) recorded")
    }

    private func workerFail(_ request: [String: Any]) -> [UInt8] {
        let supervisor: WorkerSupervisor
        switch self.supervisor(request) {
        case let .success(found): supervisor = found
        case let .failure(error): return Self.error(error.description)
        }
        guard let order = supervisor.order, Self.uint(request["round"]) == order.round else {
            return Self.control(ok: false, "no such round is owed by \(supervisor.worker) now")
        }
        let reason = (request["reason"] as? String) ?? "the worker gave up"
        supervisor.log.append("--- worker reported failure: \(reason)\n")
        supervisor.roundFinished(.trainingFailed(task: supervisor.task, worker: supervisor.worker, epoch: order.epoch,
                                                 round: order.round, reason: reason))
        return Self.control(ok: true, "round \(order.round) reported failed")
    }

    // MARK: Datasets

    private func datasetAdd(_ request: [String: Any]) -> [UInt8] {
        guard let store = runner.store else { return Self.control(ok: false, "this peer has no store") }
        guard let name = request["name"] as? String, Self.isLabel(name) else {
            return Self.control(ok: false, "a dataset name is a DNS-1123 label: 1-63 lowercase letters, digits and '-'")
        }
        guard let path = request["path"] as? String, path.hasPrefix("/") else {
            return Self.control(ok: false, "dataset-add needs \"path\": an absolute path")
        }
        let formatText = (request["format"] as? String) ?? (path.hasSuffix(".npz") ? "npz" : "csv")
        guard let format = DatasetFormat(rawValue: formatText) else {
            return Self.control(ok: false, "unknown format \(formatText); known: csv, npz")
        }
        let data: LabeledData
        let bytes: [UInt8]
        do {
            bytes = try POSIXFile.read(path, limit: Int.max)
            data = try DatasetFile.decode(bytes, format: format)
        } catch {
            return Self.control(ok: false, "\(path): \(error)")
        }
        var existing = (try? store.datasets()) ?? []
        existing.removeAll { $0.name == name }
        guard existing.count < DatasetTags.datasetsMax else {
            return Self.control(ok: false, "this peer holds \(DatasetTags.datasetsMax) datasets already (DatasetTags.datasetsMax)")
        }
        let record = DatasetRecord(name: name, path: path, format: format.rawValue, bytes: UInt64(bytes.count),
                                   samples: UInt64(data.count), features: UInt64(data.featureCount),
                                   classes: UInt64(data.classCount), addedAt: UnixClock.now())
        do { try store.saveDataset(record) } catch { return Self.control(ok: false, "cannot save the dataset: \(error)") }
        let announced = announceStoreTags()
        return Self.json(["ok": announced.ok, "message": "dataset \(name): \(data.count) samples, \(data.featureCount) features, "
                          + "\(data.classCount) classes (\(announced.message))", "dataset": Self.object(record)])
    }

    private func datasetRemove(_ request: [String: Any]) -> [UInt8] {
        guard let store = runner.store, let name = request["name"] as? String else {
            return Self.control(ok: false, "dataset-remove needs \"name\"")
        }
        guard (try? store.removeDataset(named: name)) == true else { return Self.control(ok: false, "no dataset \(name)") }
        let announced = announceStoreTags()
        return Self.control(ok: announced.ok, "dataset \(name) removed (\(announced.message))")
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

    private func datasetList() -> [UInt8] {
        let local = ((try? runner.store?.datasets()) ?? []).map(Self.object)
        var declared: [[String: Any]] = []
        for member in members() where member.state == .alive || member.isLocal {
            for dataset in DatasetTags.declared(in: member.tags) {
                declared.append(["peer": member.name, "name": dataset.name, "format": dataset.format,
                                 "bytes": dataset.bytes, "samples": dataset.samples])
            }
        }
        return Self.json(["datasets": local, "declared": declared])
    }

    // MARK: Logs

    private func taskLogs(_ request: [String: Any]) -> [UInt8] {
        guard let reference = request["task"] as? String else { return Self.error("task-logs needs \"task\"") }
        guard let task = task(reference) else { return Self.error("no task \(reference)") }
        let directory = TaskRunner.logDirectory(runner.dataDirectory, task: task.id)
        let wanted = request["worker"] as? String
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".log") }.sorted()
        var logs: [[String: Any]] = []
        for file in files {
            let worker = String(file.dropLast(4))
            if let wanted, wanted != worker { continue }
            let path = "\(directory)/\(file)"
            let text = String(decoding: WorkerLog.tail(path: path, limit: WorkerLimits.logTailBytesMax), as: UTF8.self)
            logs.append(["worker": worker, "path": path, "text": text])
        }
        return Self.json(["task": task.id.text, "name": task.name, "logs": logs])
    }

    /// The task a reference names: its id, an id prefix (8+ hex) or its name (the latest
    /// submitted of that name).
    func task(_ reference: String) -> TaskSummary? {
        tasks().filter { $0.id.text == reference || $0.name == reference
            || (reference.count >= 8 && $0.id.text.hasPrefix(reference.lowercased())) }
            .max { $0.submittedAt < $1.submittedAt }
    }

    // MARK: JSON

    static func isLabel(_ name: String) -> Bool {
        let scalars = name.unicodeScalars
        guard (1...63).contains(scalars.count), scalars.first != "-", scalars.last != "-" else { return false }
        return scalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    static func uint(_ value: Any?) -> UInt64? {
        guard let number = value as? NSNumber, number.doubleValue >= 0, number.doubleValue == number.doubleValue.rounded() else { return nil }
        return number.uint64Value
    }

    static func object(_ record: DatasetRecord) -> [String: Any] {
        ["name": record.name, "path": record.path, "format": record.format, "bytes": record.bytes, "samples": record.samples,
         "features": record.features, "classes": record.classes, "addedAt": record.addedAt]
    }

    static func control(ok: Bool, _ message: String) -> [UInt8] { json(["ok": ok, "message": message]) }

    static func error(_ message: String) -> [UInt8] { json(["error": message]) }

    static func json(_ object: [String: Any]) -> [UInt8] {
        var bytes = [UInt8]((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data(#"{"error":"cannot encode the response"}"#.utf8))
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }
}
