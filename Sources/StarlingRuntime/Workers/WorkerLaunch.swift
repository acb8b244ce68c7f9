import Foundation
import StarlingCrypto
import StarlingPeer
import StarlingStore
import StarlingTasks

/// How a training worker is started (docs/workers.md): the command from its boot file, and the
/// environment the Lib reads.
///
/// - `builtin:logreg`, `builtin:mlp`: `starling worker builtin KIND` (the peer's own executable);
/// - a path ending in `.py`: the peer's Python (`starling peer --python`, else `$STARLING_PYTHON`,
///   else `python3`) with the path;
/// - any other path: run as it is.
///
/// With a launcher (the `starling` executable), every command goes through
/// `starling exec-worker -- COMMAND...`, which asks the kernel to kill the worker when the peer
/// dies (PR_SET_PDEATHSIG) before it executes the command: no orphan even after `kill -9`.
struct WorkerLaunch {
    struct Command: Equatable {
        var arguments: [String]
        var environment: [String]
        var directory: String?
        /// The interpreter, for a Python worker.
        var python: String? = nil
    }

    /// The `starling` executable, or nil when the runtime runs inside another program (tests).
    let launcher: String?
    let socketPath: String
    let workDirectory: String
    /// What relative paths are relative to: the peer's working directory.
    let baseDirectory: String
    /// The interpreter that runs `.py` workers.
    let python: String

    /// Every path a worker is given is absolute: the worker runs in its `trainScriptDir`, where a
    /// path relative to the peer's working directory would name another file (or none).
    /// `python`: the interpreter the peer chose (`WorkerPython`); nil for `$STARLING_PYTHON`, else
    /// `python3`.
    init(launcher: String?, socketPath: String, workDirectory: String, python: String? = nil,
         baseDirectory: String = FileManager.default.currentDirectoryPath) {
        self.launcher = launcher
        self.python = python ?? WorkerPython.choose(flag: nil).command
        self.baseDirectory = baseDirectory
        self.socketPath = Self.absolute(socketPath, in: baseDirectory)
        self.workDirectory = Self.absolute(workDirectory, in: baseDirectory)
    }

    /// `path` as an absolute path: relative ones are taken relative to `directory`; `.` and `..`
    /// are removed, symbolic links kept (a virtual environment's `bin/python` is one, and only
    /// works by that name).
    static func absolute(_ path: String, in directory: String) -> String {
        let joined = path.hasPrefix("/") ? path : (directory.hasSuffix("/") ? directory : directory + "/") + path
        return URL(fileURLWithPath: joined).standardized.path
    }

    /// `order.worker` is a training worker's name, or the aggregation worker's for the task's
    /// central evaluator: the first training worker's script, started with `STARLING_ROLE=evaluate`
    /// on the evaluation dataset (docs/workers.md, "Central evaluation").
    ///
    /// A dataset with `arrivals` (`dataset append`) is handed over whole: its rows (the file's,
    /// then each arrival's) are written as one CSV file into the worker's work directory, which
    /// `STARLING_DATASET_PATH` names. Without arrivals the worker reads the registered file.
    func command(for order: TrainingWork, token: String, dataset: DatasetRecord?, arrivals: [DatasetArrival] = []) throws -> Command {
        guard let federated = order.spec.federatedTask else { throw RuntimeError("task \(order.spec.name) is not federated") }
        let evaluator = order.worker == federated.aggregationWorker.name
        guard let worker = evaluator ? federated.trainingWorkers.first
                : federated.trainingWorkers.first(where: { $0.name == order.worker }) else {
            throw RuntimeError("\(order.worker) is not a training worker of task \(order.spec.name)")
        }
        let datasetName = evaluator ? federated.aggregationWorker.evaluationDataset?.name ?? "" : worker.dataset.name
        guard let dataset else {
            throw RuntimeError("dataset \(datasetName) is not registered on this peer "
                + "(starling dataset add \(datasetName) --path FILE)")
        }
        let (program, python, directory) = try program(for: worker.script, directoryField: "trainScriptDir")
        let workDirectory = "\(self.workDirectory)/\(order.task.text.prefix(16))/\(order.worker)"
        try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
        var environment = environment(order, worker: worker, token: token, dataset: try Self.whole(dataset, arrivals: arrivals, in: workDirectory),
                                      workDirectory: workDirectory)
        environment.append("STARLING_ROLE=\(evaluator ? "evaluate" : "train")")
        return Command(arguments: program, environment: environment.sorted(), directory: directory, python: python)
    }

    /// The dataset as one file a worker reads: the registered one, or with arrivals, all its rows
    /// written to `dataset-NAME.csv` in `workDirectory` (written again at each start of the worker,
    /// so a restarted worker sees the arrivals since).
    static func whole(_ dataset: DatasetRecord, arrivals: [DatasetArrival], in workDirectory: String) throws -> DatasetRecord {
        guard !arrivals.isEmpty else { return dataset }
        var whole = dataset
        whole.path = "\(workDirectory)/dataset-\(dataset.name).csv"
        whole.format = "csv"
        try DatasetRows.materialize(dataset, arrivals: arrivals, to: whole.path)
        return whole
    }

    private func environment(_ order: TrainingWork, worker: TrainingWorker, token: String, dataset: DatasetRecord,
                             workDirectory: String) -> [String] {
        var variables = environment(task: order.task, taskName: order.spec.name, worker: order.worker, token: token,
                                    workDirectory: workDirectory)
        variables["STARLING_DATASET"] = dataset.name
        variables["STARLING_DATASET_PATH"] = dataset.path
        variables["STARLING_DATASET_FORMAT"] = dataset.format
        variables["STARLING_MODEL_NAME"] = order.spec.federatedTask?.aggregationWorker.model?.name ?? ""
        variables["STARLING_SEED"] = String(order.seed)
        variables["STARLING_PARAMETERS"] = Self.parametersJSON(order.spec, worker: worker)
        return variables.map { "\($0.key)=\($0.value)" }.sorted()
    }

    /// What every worker's environment holds: the peer's own, less any `STARLING_` variable, and
    /// where the worker reaches its peer, who it is, and where it may write.
    private func environment(task: TaskID, taskName: String, worker: String, token: String, workDirectory: String) -> [String: String] {
        var variables = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("STARLING_") }
        variables["STARLING_SOCKET"] = socketPath
        variables["STARLING_TASK"] = task.text
        variables["STARLING_TASK_NAME"] = taskName
        variables["STARLING_WORKER"] = worker
        variables["STARLING_WORKER_TOKEN"] = token
        variables["STARLING_WORK_DIR"] = workDirectory
        return variables
    }

    /// A new worker's token: 16 random bytes as hex, which its requests must carry.
    static func newToken() -> String {
        var random = SecureRandom()
        return Hex.encode((0..<16).map { _ in UInt8.random(in: 0...255, using: &random) })
    }

    /// An inference worker (docs/workers.md, "Inference workers"): the worker spec's script, started
    /// like a training worker's, with `STARLING_ROLE` (edge or cloud) and `STARLING_SERVICE`, no
    /// dataset, and the spec's parameters.
    func serveCommand(task: TaskID, spec: TaskSpec, role: String, worker: WorkerSpec, modelName: String, token: String) throws -> Command {
        let (program, python, directory) = try program(for: worker.script, directoryField: "scriptDir")
        let workDirectory = "\(self.workDirectory)/\(task.text.prefix(16))/\(role)"
        try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
        var variables = environment(task: task, taskName: spec.name, worker: role, token: token, workDirectory: workDirectory)
        variables["STARLING_SERVICE"] = spec.name
        variables["STARLING_ROLE"] = role
        variables["STARLING_DATASET"] = ""
        variables["STARLING_DATASET_PATH"] = ""
        variables["STARLING_DATASET_FORMAT"] = ""
        variables["STARLING_MODEL_NAME"] = modelName
        variables["STARLING_SEED"] = "0"
        variables["STARLING_PARAMETERS"] = Self.parametersJSON(worker.parameters)
        return Command(arguments: program, environment: variables.map { "\($0.key)=\($0.value)" }.sorted(),
                       directory: directory, python: python)
    }

    /// What runs a worker's script, in which directory (nil: the peer's), and the Python for a
    /// `.py` one. A relative script directory is relative to the peer's working directory; a
    /// relative boot file to the script directory (the spec refuses one without it).
    private func program(for script: ScriptSpec, directoryField: String) throws -> (program: [String], python: String?, directory: String?) {
        var program: [String]
        var python: String?
        var directory = script.directory.map { Self.absolute($0, in: baseDirectory) }
        let scriptBase = directory ?? baseDirectory
        switch script.bootFile {
        case let .builtin(kind):
            guard let launcher else { throw RuntimeError("built-in workers need the starling executable") }
            program = [launcher, "worker", "builtin", kind.rawValue]
            directory = nil
        case let .python(path):
            python = self.python
            program = [self.python, Self.absolute(path, in: scriptBase)]
        case let .executable(path):
            program = [Self.absolute(path, in: scriptBase)]
        }
        if let directory, !FileManager.default.fileExists(atPath: directory) {
            throw RuntimeError("\(directoryField) \(directory) does not exist on this peer")
        }
        if let launcher { program = [launcher, "exec-worker", "--"] + program }
        return (program, python, directory)
    }

    /// A worker of an IncrementalLearningJob's stage (docs/workers.md, "Incremental learning"):
    /// the stage's worker spec, with `STARLING_ROLE` (`train`), the slice of data the stage
    /// wrote, the deployed model's name and the spec's parameters.
    func jobCommand(task: TaskID, spec: TaskSpec, worker: WorkerSpec, role: String, name: String, token: String,
                    dataset: DatasetRecord, seed: UInt64) throws -> Command {
        let (program, python, directory) = try program(for: worker.script, directoryField: "scriptDir")
        let workDirectory = "\(self.workDirectory)/\(task.text.prefix(16))/\(name)"
        try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
        var variables = environment(task: task, taskName: spec.name, worker: name, token: token, workDirectory: workDirectory)
        variables["STARLING_ROLE"] = role
        variables["STARLING_DATASET"] = dataset.name
        variables["STARLING_DATASET_PATH"] = dataset.path
        variables["STARLING_DATASET_FORMAT"] = dataset.format
        variables["STARLING_MODEL_NAME"] = spec.incrementalLearningJob?.deploySpec.model.name ?? ""
        variables["STARLING_SEED"] = String(seed)
        variables["STARLING_PARAMETERS"] = Self.parametersJSON(worker.parameters)
        return Command(arguments: program, environment: variables.map { "\($0.key)=\($0.value)" }.sorted(),
                       directory: directory, python: python)
    }

    /// An evaluation worker of an IncrementalLearningJob (docs/workers.md, "Evaluation workers
    /// (IncrementalLearningJob)"): a job worker (`jobCommand`) with `STARLING_ROLE=eval` on the CSV of
    /// this peer's evaluation rows, plus `STARLING_EVAL_MODELS` (a JSON object, model name →
    /// absolute safetensors path) and `STARLING_EVAL_OUTPUT` (the result file to write).
    func evalCommand(task: TaskID, spec: TaskSpec, worker: WorkerSpec, name: String, token: String, dataset: DatasetRecord,
                     models: [String: String], outputPath: String, seed: UInt64) throws -> Command {
        var command = try jobCommand(task: task, spec: spec, worker: worker, role: "eval", name: name, token: token,
                                     dataset: dataset, seed: seed)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let paths = models.mapValues { Self.absolute($0, in: baseDirectory) }
        let modelsJSON = (try? encoder.encode(paths)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        command.environment += ["STARLING_EVAL_MODELS=\(modelsJSON)",
                                "STARLING_EVAL_OUTPUT=\(Self.absolute(outputPath, in: baseDirectory))"]
        command.environment.sort()
        return command
    }

    /// A worker spec's own parameters as one JSON object, read as `parametersJSON` reads them.
    static func parametersJSON(_ parameters: [Parameter]) -> String {
        json(Dictionary(parameters.map { ($0.key, WorkerValue($0.value)) }) { _, last in last })
    }

    /// The worker's parameters as one JSON object (`WorkerParameters`): numbers as numbers,
    /// booleans as booleans, other text as strings, a key given without a value as null.
    static func parametersJSON(_ spec: TaskSpec, worker: TrainingWorker) -> String {
        guard let federated = spec.federatedTask else { return "{}" }
        return json(WorkerParameters.values(for: worker, of: federated))
    }

    private static func json(_ values: [String: WorkerValue]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(values.mapValues(JSONWorkerValue.init)) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A parameter value as JSON (a wrapper, so the pure core's type gains no Codable conformance here).
private struct JSONWorkerValue: Encodable {
    let value: WorkerValue

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch value {
        case let .integer(number): try container.encode(number)
        case let .number(number): try container.encode(number)
        case let .boolean(flag): try container.encode(flag)
        case let .text(text): try container.encode(text)
        case .none: try container.encodeNil()
        }
    }
}
