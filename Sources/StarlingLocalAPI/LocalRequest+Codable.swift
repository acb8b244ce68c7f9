/// A request is one flat JSON object: `command`, then its fields (a worker request's identity
/// and its payload side by side), the keys docs/runtime.md and docs/workers.md show.
extension LocalRequest: Codable {
    struct Key: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(command.rawValue, forKey: Key("command"))
        func put(_ pairs: KeyValuePairs<String, String?>) throws {
            for (name, value) in pairs { try container.encodeIfPresent(value, forKey: Key(name)) }
        }
        switch self {
        case .members, .counters, .tasks, .datasetList, .modelList:
            break
        case let .keyring(operation, key): try put(["operation": operation.rawValue, "key": key])
        case let .keyringStatus(id): try container.encode(id, forKey: Key("id"))
        case let .taskSubmit(spec): try put(["spec": spec])
        case let .taskCancel(task, reason): try put(["task": task, "reason": reason])
        case let .workerPoll(identity): try identity.encode(to: encoder)
        case let .workerSubmit(identity, update):
            try identity.encode(to: encoder)
            try update.encode(to: encoder)
        case let .workerFail(identity, failure):
            try identity.encode(to: encoder)
            try failure.encode(to: encoder)
        case let .workerEvaluated(identity, scores):
            try identity.encode(to: encoder)
            try scores.encode(to: encoder)
        case let .datasetAdd(name, path, format): try put(["name": name, "path": path, "format": format])
        case let .datasetAppend(name, path, format): try put(["name": name, "path": path, "format": format])
        case let .datasetRemove(name): try put(["name": name])
        case let .modelImport(name, path): try put(["name": name, "path": path])
        case let .modelRemove(name): try put(["name": name])
        case let .modelExport(model, out): try put(["model": model, "out": out])
        case let .modelVersions(name): try put(["name": name])
        case let .modelRollback(name, version):
            try put(["name": name])
            try container.encodeIfPresent(version, forKey: Key("version"))
        case let .taskLogs(task, worker): try put(["task": task, "worker": worker])
        case let .infer(call): try call.encode(to: encoder)
        }
    }

    /// Throws `LocalAPI.Invalid`: code `unknown-command` for a command this version lacks, else
    /// `bad-request` naming the command and the field missing or of the wrong type.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        guard let name = try? container.decode(String.self, forKey: Key("command")) else {
            throw LocalAPI.Invalid(#"expected one JSON object with a "command" string, such as {"command":"members"}"#)
        }
        guard let command = Command(rawValue: name) else {
            throw LocalAPI.Invalid(Self.unknownCommandMessage(name), code: .unknownCommand)
        }
        do {
            self = try Self.decode(command, container, decoder)
        } catch let error as DecodingError {
            throw LocalAPI.Invalid(LocalAPI.describe(error, decoding: command.rawValue))
        }
    }

    private static func decode(_ command: Command, _ container: KeyedDecodingContainer<Key>, _ decoder: Decoder) throws -> LocalRequest {
        func text(_ name: String) throws -> String { try container.decode(String.self, forKey: Key(name)) }
        func optional(_ name: String) throws -> String? { try container.decodeIfPresent(String.self, forKey: Key(name)) }
        switch command {
        case .members: return .members
        case .counters: return .counters
        case .tasks: return .tasks
        case .datasetList: return .datasetList
        case .modelList: return .modelList
        case .keyring:
            guard let operation = KeyringOperation(rawValue: (try? text("operation")) ?? "") else {
                throw LocalAPI.Invalid("keyring needs \"operation\": "
                    + KeyringOperation.allCases.map(\.rawValue).joined(separator: ", "))
            }
            return .keyring(operation, key: try optional("key"))
        case .keyringStatus: return .keyringStatus(id: try container.decode(UInt64.self, forKey: Key("id")))
        case .taskSubmit: return .taskSubmit(spec: try text("spec"))
        case .taskCancel: return .taskCancel(task: try text("task"), reason: try optional("reason"))
        case .workerPoll: return .workerPoll(try WorkerIdentity(from: decoder))
        case .workerSubmit: return .workerSubmit(try WorkerIdentity(from: decoder), try WorkerUpdate(from: decoder))
        case .workerFail: return .workerFail(try WorkerIdentity(from: decoder), try WorkerFailure(from: decoder))
        case .workerEvaluated: return .workerEvaluated(try WorkerIdentity(from: decoder), try WorkerScores(from: decoder))
        case .datasetAdd: return .datasetAdd(name: try text("name"), path: try text("path"), format: try optional("format"))
        case .datasetAppend: return .datasetAppend(name: try text("name"), path: try text("path"), format: try optional("format"))
        case .datasetRemove: return .datasetRemove(name: try text("name"))
        case .modelImport: return .modelImport(name: try text("name"), path: try text("path"))
        case .modelRemove: return .modelRemove(name: try text("name"))
        case .modelExport: return .modelExport(model: try text("model"), out: try text("out"))
        case .modelVersions: return .modelVersions(name: try text("name"))
        case .modelRollback:
            return .modelRollback(name: try text("name"), version: try container.decodeIfPresent(UInt64.self, forKey: Key("version")))
        case .taskLogs: return .taskLogs(task: try text("task"), worker: try optional("worker"))
        case .infer: return .infer(try InferCall(from: decoder))
        }
    }
}
