import StarlingCrypto
import StarlingLocalAPI
import StarlingPeer
import StarlingTasks

/// Answers the local API's requests (the messages are StarlingLocalAPI's types; docs/runtime.md,
/// "Local API"): members, counters and tasks from the machine, the keyring and task commands
/// through its control plane, the rest through an extension (the task runner's commands,
/// `TaskRunnerCommands`).
enum LocalAPIResponder {
    /// The answer to one request line (newline included). Never fails: a request that cannot be
    /// decoded or is refused gets an `ErrorResponse` with its code.
    static func respond(to line: [UInt8], members: () -> [MemberView], counters: () -> [String: UInt64],
                        tasks: () -> [TaskReport] = { [] },
                        control: (ControlRequest) -> ControlAnswer = { _ in ControlAnswer(ok: false, message: "no control plane") },
                        extensions: (LocalRequest) -> LocalAPIAnswer? = { _ in nil }) -> LocalAPIAnswer {
        let request: LocalRequest
        do {
            request = try LocalAPI.decode(LocalRequest.self, from: line)
        } catch {
            return .now(LocalAPI.line(ErrorResponse(error.code, error.description)))
        }
        switch request {
        case .members:
            let sorted = members().sorted { ($0.name, $0.node.text) < ($1.name, $1.node.text) }
            return .now(LocalAPI.line(MembersResponse(members: sorted.map(Member.init))))
        case .counters:
            return .now(LocalAPI.line(CountersResponse(counters: counters())))
        case .tasks:
            return .now(LocalAPI.line(TasksResponse(tasks: tasks())))
        case .keyring, .keyringStatus, .taskSubmit, .taskCancel:
            switch controlRequest(request) {
            case let .success(controlRequest):
                let answer = control(controlRequest)
                return .now(LocalAPI.line(ControlResponse(ok: answer.ok, message: answer.message, fields: answer.fields)))
            case let .failure(error):
                return .now(LocalAPI.line(error))
            }
        default:
            if let answer = extensions(request) { return answer }
            return .now(LocalAPI.line(ErrorResponse(.unknownCommand, "this peer does not serve \(request.command.rawValue) "
                + "(it has no data directory, so no task runner)")))
        }
    }

    /// The machine's control request for a keyring or task command (their bytes decoded).
    private static func controlRequest(_ request: LocalRequest) -> Result<ControlRequest, ErrorResponse> {
        switch request {
        case let .taskSubmit(spec):
            guard let bytes = try? Base64.decode(spec), !bytes.isEmpty else {
                return .failure(ErrorResponse(.badRequest, "task-submit needs \"spec\": base64 of the spec's canonical bytes"))
            }
            return .success(.submitTask(specBytes: bytes))
        case let .taskCancel(task, reason):
            guard !task.isEmpty else {
                return .failure(ErrorResponse(.badRequest, "task-cancel needs \"task\": an id, an id prefix of 8+ hex characters, or a name"))
            }
            return .success(.cancelTask(task, reason: reason ?? ""))
        case let .keyringStatus(id):
            return .success(.keyringStatus(id))
        case .keyring(.list, _):
            return .success(.keyring(.list))
        case let .keyring(operation, key):
            guard let text = key, let bytes = try? Base64.decode(text), let key = try? SymmetricKey(bytes: bytes) else {
                return .failure(ErrorResponse(.badRequest, "keyring \(operation.rawValue) needs \"key\": base64 of 32 bytes"))
            }
            switch operation {
            case .install: return .success(.keyring(.install(key)))
            case .use: return .success(.keyring(.use(key)))
            case .remove, .list: return .success(.keyring(.remove(key)))
            }
        default:
            preconditionFailure("\(request.command.rawValue) is not a control request")
        }
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
