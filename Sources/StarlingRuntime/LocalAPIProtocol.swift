import Foundation
import StarlingCrypto
import StarlingPeer
import StarlingTasks

/// The local API's messages: one JSON object per line each way.
///
///     → {"command":"members"}    ← {"members":[{"name":…,"node":…,"address":…,"state":…,
///                                               "incarnation":…,"tags":{…},"local":…}]}
///     → {"command":"counters"}   ← {"counters":{"name":count,…}}
///     → {"command":"keyring","operation":"install|use|remove|list","key":"BASE64"}
///                                ← {"ok":…,"message":"…","fields":{"operation":"N",…}}
///     → {"command":"keyring-status","id":N}
///                                ← {"ok":…,"message":"…","fields":{"done":"true",…}}
///     → {"command":"tasks"}      ← {"tasks":[{"id":"<64 hex>","name":…,"kind":…,"phase":…,
///                                             "coordinator":"<64 hex>","epoch":…,"round":…,…}]}
///                                  (`Task`: every task the peer holds, in id order)
///     → {"command":"task-submit","spec":"BASE64"}
///                                ← {"ok":…,"message":"…","fields":{"id":"<64 hex>","name":"…"}}
///                                  (the spec's canonical bytes, `TaskSpec.wireBytes`; the peer's
///                                  certificate must carry `submit`)
///     → {"command":"task-cancel","task":"ID|PREFIX|NAME","reason":"…"}
///                                ← {"ok":…,"message":"…","fields":{"id":"<64 hex>"}}
///     → anything else            ← {"error":"…"}
///
/// In `Task`, ids, NodeIDs and model hashes are full lowercase hex, times unix seconds; a field
/// with no value (no coordinator yet, no announced round) is left out.
///
/// Foundation's JSON coders are fine here: the runtime is a driver, not a pure core.
public enum LocalAPIProtocol {
    public static let socketFileName = "starling.sock"
    public static let commands = ["members", "counters", "keyring", "keyring-status", "tasks", "task-submit", "task-cancel"]

    public static func socketPath(dataDirectory: String) -> String {
        dataDirectory.hasSuffix("/") ? dataDirectory + socketFileName : "\(dataDirectory)/\(socketFileName)"
    }

    /// A member as the local API reports it.
    public struct Member: Codable, Equatable, Sendable {
        public var name: String
        /// The full NodeID (64 hex characters).
        public var node: String
        public var address: String
        /// alive, suspect, dead or left.
        public var state: String
        public var incarnation: UInt64
        public var tags: [String: String]
        /// True for the peer that answered.
        public var local: Bool

        public init(_ view: MemberView) {
            name = view.name
            node = view.node.text
            address = view.address.description
            state = view.state.description
            incarnation = view.incarnation
            tags = view.tags
            local = view.isLocal
        }
    }

    public struct MembersResponse: Codable, Equatable, Sendable {
        public var members: [Member]
    }

    public struct CountersResponse: Codable, Equatable, Sendable {
        public var counters: [String: UInt64]
    }

    public struct ErrorResponse: Codable, Equatable, Sendable, Error {
        public var error: String
    }

    /// A task as the local API reports it (`TaskSummary`, every id in full hex).
    public struct Task: Codable, Equatable, Sendable {
        public struct Participant: Codable, Equatable, Sendable {
            public var worker: String
            public var node: String
            public var nodeName: String?
            /// The worker's latest report: ready, training, submitted, failed or left (absent: none yet).
            public var state: String?
            public var round: UInt64?
            public var message: String?
        }

        public struct Round: Codable, Equatable, Sendable {
            public var round: UInt64
            public var epoch: UInt64
            public var coordinator: String
            public var modelHash: String
            public var participants: [String]
            public var metrics: [String: Double]?
            public var sampleCount: UInt64?
        }

        public var id: String
        public var name: String
        public var kind: String
        /// pending, running, completed, failed or cancelled.
        public var phase: String
        public var submitter: String
        public var submitterName: String?
        public var submittedAt: UInt64
        /// The current lease: holder, its name when known, epoch, expiry (unix seconds), whether it stands.
        public var coordinator: String?
        public var coordinatorName: String?
        public var epoch: UInt64?
        public var leaseExpiresAt: UInt64?
        public var leaseValid: Bool
        /// The last committed round (0: none yet) and the task's number of rounds.
        public var round: UInt64
        public var rounds: UInt64
        /// The round announced and not committed yet, and its deadline (unix seconds).
        public var announcedRound: UInt64?
        public var roundDeadline: UInt64?
        public var participants: [Participant]
        /// The surviving line of rounds, in order.
        public var committed: [Round]
        public var superseded: Int
        public var stale: Int
        public var lastError: String?
        public var cancelReason: String?
        /// Why the task failed (phase failed): the round, and each worker short of an update.
        public var failure: String?
        /// Updates a round needs, and attempts of the announced round used so far out of the most.
        public var minNodeNumber: Int?
        public var roundAttempts: Int?
        public var roundAttemptsMax: Int?
        /// Entries the peer holds for the task.
        public var entries: Int

        public init(_ summary: TaskSummary) {
            id = summary.id.text
            name = summary.name
            kind = summary.kind
            phase = summary.phase
            submitter = summary.submitter.text
            submitterName = summary.submitterName
            submittedAt = summary.submittedAt
            coordinator = summary.coordinator?.text
            coordinatorName = summary.coordinatorName
            epoch = summary.epoch
            leaseExpiresAt = summary.leaseExpiresAt
            leaseValid = summary.leaseValid
            round = summary.round
            rounds = summary.rounds
            announcedRound = summary.announcedRound
            roundDeadline = summary.roundDeadline
            participants = summary.participants.map {
                Participant(worker: $0.worker, node: $0.node.text, nodeName: $0.nodeName, state: $0.state, round: $0.round,
                            message: $0.message)
            }
            committed = summary.committed.map {
                Round(round: $0.round, epoch: $0.epoch, coordinator: $0.coordinator.text, modelHash: $0.modelHash.hex,
                      participants: $0.participants, metrics: $0.metrics, sampleCount: $0.sampleCount)
            }
            superseded = summary.superseded
            stale = summary.stale
            lastError = summary.lastError
            cancelReason = summary.cancelReason
            failure = summary.failure
            minNodeNumber = summary.minNodeNumber
            roundAttempts = summary.roundAttempts
            roundAttemptsMax = summary.roundAttemptsMax
            entries = summary.entries
        }
    }

    public struct TasksResponse: Codable, Equatable, Sendable {
        public var tasks: [Task]
    }

    public struct ControlResponse: Codable, Equatable, Sendable {
        public var ok: Bool
        public var message: String
        public var fields: [String: String]
    }

    struct Request: Decodable {
        var command: String
        var operation: String?
        var key: String?
        var id: UInt64?
        var spec: String?
        var task: String?
        var reason: String?
    }

    /// A task-submit request line: the spec's canonical bytes (`TaskSpec.wireBytes`) as base64.
    public static func taskSubmitLine(specBytes: [UInt8]) -> [UInt8] {
        encode(["command": "task-submit", "spec": Base64.encode(specBytes)])
    }

    /// A task-cancel request line: the task by full id, id prefix (8+ hex) or name.
    public static func taskCancelLine(task: String, reason: String?) -> [UInt8] {
        var object = ["command": "task-cancel", "task": task]
        if let reason { object["reason"] = reason }
        return encode(object)
    }

    /// A keyring request line (newline included).
    public static func keyringRequestLine(operation: String, key: String?) -> [UInt8] {
        var object = ["command": "keyring", "operation": operation]
        if let key { object["key"] = key }
        return encode(object)
    }

    public static func keyringStatusLine(id: UInt64) -> [UInt8] {
        var bytes = [UInt8]("{\"command\":\"keyring-status\",\"id\":\(id)}".utf8)
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    private static func controlRequest(_ request: Request) -> Result<ControlRequest, ErrorResponse> {
        if request.command == "task-submit" {
            guard let text = request.spec, let bytes = try? Base64.decode(text), !bytes.isEmpty else {
                return .failure(ErrorResponse(error: "task-submit needs \"spec\": base64 of the spec's canonical bytes"))
            }
            return .success(.submitTask(specBytes: bytes))
        }
        if request.command == "task-cancel" {
            guard let task = request.task, !task.isEmpty else {
                return .failure(ErrorResponse(error: "task-cancel needs \"task\": an id, an id prefix of 8+ hex characters, or a name"))
            }
            return .success(.cancelTask(task, reason: request.reason ?? ""))
        }
        if request.command == "keyring-status" {
            guard let id = request.id else { return .failure(ErrorResponse(error: "keyring-status needs an \"id\"")) }
            return .success(.keyringStatus(id))
        }
        let operation = request.operation ?? ""
        if operation == "list" { return .success(.keyring(.list)) }
        guard ["install", "use", "remove"].contains(operation) else {
            return .failure(ErrorResponse(error: "keyring needs \"operation\": install, use, remove or list"))
        }
        guard let text = request.key, let bytes = try? Base64.decode(text), let key = try? SymmetricKey(bytes: bytes) else {
            return .failure(ErrorResponse(error: "keyring \(operation) needs \"key\": base64 of 32 bytes"))
        }
        switch operation {
        case "install": return .success(.keyring(.install(key)))
        case "use": return .success(.keyring(.use(key)))
        default: return .success(.keyring(.remove(key)))
        }
    }

    /// The request line for a command (newline included).
    public static func requestLine(_ command: String) -> [UInt8] {
        encode(["command": command])
    }

    /// The answer to one request line (newline included). Never fails: bad requests get an error.
    /// Only an extension (the task runner's commands) answers later.
    static func respond(to line: [UInt8], members: () -> [MemberView], counters: () -> [String: UInt64],
                        tasks: () -> [TaskSummary] = { [] },
                        control: (ControlRequest) -> ControlAnswer = { _ in ControlAnswer(ok: false, message: "no control plane") },
                        extensions: (String, [UInt8]) -> LocalAPIAnswer? = { _, _ in nil }) -> LocalAPIAnswer {
        guard let request = try? JSONDecoder().decode(Request.self, from: Data(line)) else {
            return .now(encode(ErrorResponse(error: #"expected one JSON object with a "command" string, such as {"command":"members"}"#)))
        }
        switch request.command {
        case "members":
            let sorted = members().sorted { ($0.name, $0.node.text) < ($1.name, $1.node.text) }
            return .now(encode(MembersResponse(members: sorted.map(Member.init))))
        case "counters":
            return .now(encode(CountersResponse(counters: counters())))
        case "tasks":
            return .now(encode(TasksResponse(tasks: tasks().map(Task.init))))
        case "keyring", "keyring-status", "task-submit", "task-cancel":
            switch controlRequest(request) {
            case let .success(controlRequest):
                let answer = control(controlRequest)
                return .now(encode(ControlResponse(ok: answer.ok, message: answer.message, fields: answer.fields)))
            case let .failure(error):
                return .now(encode(error))
            }
        default:
            if let answer = extensions(request.command, line) { return answer }
            return .now(encode(ErrorResponse(error: "unknown command '\(request.command)'; known commands: "
                + (commands + TaskRunnerCommands.commands).joined(separator: ", "))))
        }
    }

    private static func encode<Value: Encodable>(_ value: Value) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding these plain structs cannot fail.
        var bytes = [UInt8]((try? encoder.encode(value)) ?? Data(#"{"error":"cannot encode the response"}"#.utf8))
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }
}

/// The answer to one request line: at once, or later from a command that waits on the network
/// (`model-export` fetching the model it writes), the client kept connected meanwhile.
enum LocalAPIAnswer {
    case now([UInt8])
    /// `start` runs at once with the function that sends the answer line (once); the client is
    /// dropped unanswered if that takes longer than `within`.
    case later(within: Duration, start: (@escaping ([UInt8]) -> Void) -> Void)

    /// The answer line of `.now` (nil for `.later`).
    var line: [UInt8]? { if case let .now(line) = self { line } else { nil } }
}
