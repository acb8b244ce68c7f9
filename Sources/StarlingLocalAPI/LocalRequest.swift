/// A request line of the local API: `{"command":NAME, …fields}`. The runtime answers each with
/// the type named on its case (`ErrorResponse` for a request it refuses).
public enum LocalRequest: Equatable, Sendable {
    /// ← `MembersResponse`
    case members
    /// ← `CountersResponse`
    case counters
    /// ← `ControlResponse` (`fields.operation`: the id to follow with `keyringStatus`). `key` is
    /// base64 of 32 bytes; `list` takes none.
    case keyring(KeyringOperation, key: String?)
    /// ← `ControlResponse` (`fields.done`: "true" once every member applied the operation)
    case keyringStatus(id: UInt64)
    /// ← `TasksResponse`
    case tasks
    /// ← `ControlResponse` (`fields.id`, `fields.name`). `spec`: base64 of the spec's canonical bytes.
    case taskSubmit(spec: String)
    /// ← `ControlResponse` (`fields.id`). `task`: an id, an id prefix of 8+ hex characters, or a name.
    case taskCancel(task: String, reason: String?)
    /// ← `WorkerJob`
    case workerPoll(WorkerIdentity)
    /// ← `OutcomeResponse`
    case workerSubmit(WorkerIdentity, WorkerUpdate)
    /// ← `OutcomeResponse`
    case workerFail(WorkerIdentity, WorkerFailure)
    /// ← `OutcomeResponse`
    case workerEvaluated(WorkerIdentity, WorkerScores)
    /// ← `DatasetAddResponse`. `path` is absolute; `format` csv or npz (default: from the extension).
    case datasetAdd(name: String, path: String, format: String?)
    /// ← `DatasetAppendResponse`: samples added to the registered dataset `name` (an arrival).
    /// `path` is absolute; `format` csv or npz (default: from the extension).
    case datasetAppend(name: String, path: String, format: String?)
    /// ← `DatasetListResponse`
    case datasetList
    /// ← `OutcomeResponse`
    case datasetRemove(name: String)
    /// ← `ModelListResponse`
    case modelList
    /// ← `ModelImportResponse`. `path` is absolute.
    case modelImport(name: String, path: String)
    /// ← `OutcomeResponse`
    case modelRemove(name: String)
    /// ← `ModelExportResponse`, possibly only after a fetch (`LocalAPILimits.modelExportTimeout`).
    /// `model`: a task name or id, or a model hash prefix; `out`: an absolute path.
    case modelExport(model: String, out: String)
    /// ← `ModelVersionsResponse`. `name`: an IncrementalLearningJob's id, id prefix or name, or the
    /// model name it deploys.
    case modelVersions(name: String)
    /// ← `ControlResponse` (`fields.id`, `fields.version`). `version`: the one to serve again;
    /// absent: the current version's parent.
    case modelRollback(name: String, version: UInt64?)
    /// ← `TaskLogsResponse`
    case taskLogs(task: String, worker: String?)
    /// ← `InferAnswer`: examples scored by a service this peer serves as an edge.
    case infer(InferCall)

    /// The `command` of each request, in the order error messages list them.
    public enum Command: String, CaseIterable, Sendable {
        case members, counters, keyring
        case keyringStatus = "keyring-status"
        case tasks
        case taskSubmit = "task-submit"
        case taskCancel = "task-cancel"
        case workerPoll = "worker-poll"
        case workerSubmit = "worker-submit"
        case workerFail = "worker-fail"
        case workerEvaluated = "worker-evaluated"
        case datasetAdd = "dataset-add"
        case datasetAppend = "dataset-append"
        case datasetList = "dataset-list"
        case datasetRemove = "dataset-remove"
        case modelList = "model-list"
        case modelImport = "model-import"
        case modelRemove = "model-remove"
        case modelExport = "model-export"
        case modelVersions = "model-versions"
        case modelRollback = "model-rollback"
        case taskLogs = "task-logs"
        case infer
    }

    public enum KeyringOperation: String, CaseIterable, Codable, Sendable {
        case install, use, remove, list
    }

    public var command: Command {
        switch self {
        case .members: .members
        case .counters: .counters
        case .keyring: .keyring
        case .keyringStatus: .keyringStatus
        case .tasks: .tasks
        case .taskSubmit: .taskSubmit
        case .taskCancel: .taskCancel
        case .workerPoll: .workerPoll
        case .workerSubmit: .workerSubmit
        case .workerFail: .workerFail
        case .workerEvaluated: .workerEvaluated
        case .datasetAdd: .datasetAdd
        case .datasetAppend: .datasetAppend
        case .datasetList: .datasetList
        case .datasetRemove: .datasetRemove
        case .modelList: .modelList
        case .modelImport: .modelImport
        case .modelRemove: .modelRemove
        case .modelExport: .modelExport
        case .modelVersions: .modelVersions
        case .modelRollback: .modelRollback
        case .taskLogs: .taskLogs
        case .infer: .infer
        }
    }

    /// The request as one line, newline included.
    public var line: [UInt8] { LocalAPI.line(self) }

    /// "unknown command 'X'; known commands: …"
    public static func unknownCommandMessage(_ command: String) -> String {
        "unknown command '\(command)'; known commands: " + Command.allCases.map(\.rawValue).joined(separator: ", ")
    }
}

/// Who sends a worker request: the worker's `STARLING_TASK` (64 hex), `STARLING_WORKER` and
/// `STARLING_WORKER_TOKEN`.
public struct WorkerIdentity: Codable, Equatable, Sendable {
    public var task: String
    public var worker: String
    public var token: String

    public init(task: String, worker: String, token: String) {
        self.task = task
        self.worker = worker
        self.token = token
    }
}

/// `worker-submit`: the update of round `round` of epoch `epoch`, as a safetensors file.
public struct WorkerUpdate: Codable, Equatable, Sendable {
    public var epoch: UInt64
    public var round: UInt64
    /// The update's path (absolute).
    public var update: String
    /// Samples trained on (FedAvg's weight).
    public var numSamples: UInt64
    public var metrics: [String: Double]

    enum CodingKeys: String, CodingKey {
        case epoch, round, update, metrics
        case numSamples = "num_samples"
    }

    public init(epoch: UInt64, round: UInt64, update: String, numSamples: UInt64, metrics: [String: Double]) {
        self.epoch = epoch
        self.round = round
        self.update = update
        self.numSamples = numSamples
        self.metrics = metrics
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        epoch = try container.decode(UInt64.self, forKey: .epoch)
        round = try container.decode(UInt64.self, forKey: .round)
        update = try container.decode(String.self, forKey: .update)
        numSamples = try container.decode(UInt64.self, forKey: .numSamples)
        metrics = try container.decodeIfPresent([String: Double].self, forKey: .metrics) ?? [:]
    }
}

/// `worker-fail`: the round the worker cannot finish, and why.
public struct WorkerFailure: Codable, Equatable, Sendable {
    /// Older workers sent only the round.
    public var epoch: UInt64?
    public var round: UInt64
    public var reason: String?

    public init(epoch: UInt64?, round: UInt64, reason: String?) {
        self.epoch = epoch
        self.round = round
        self.reason = reason
    }
}

/// `worker-evaluated`: a central evaluator's scores of the model of round `round`.
public struct WorkerScores: Codable, Equatable, Sendable {
    public var epoch: UInt64
    public var round: UInt64
    public var metrics: [String: Double]

    public init(epoch: UInt64, round: UInt64, metrics: [String: Double]) {
        self.epoch = epoch
        self.round = round
        self.metrics = metrics
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        epoch = try container.decode(UInt64.self, forKey: .epoch)
        round = try container.decode(UInt64.self, forKey: .round)
        metrics = try container.decodeIfPresent([String: Double].self, forKey: .metrics) ?? [:]
    }
}
