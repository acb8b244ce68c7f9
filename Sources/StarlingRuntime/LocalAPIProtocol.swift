import Foundation
import StarlingCrypto
import StarlingPeer

/// The local API's messages: one JSON object per line each way.
///
///     → {"command":"members"}    ← {"members":[{"name":…,"node":…,"address":…,"state":…,
///                                               "incarnation":…,"tags":{…},"local":…}]}
///     → {"command":"counters"}   ← {"counters":{"name":count,…}}
///     → {"command":"keyring","operation":"install|use|remove|list","key":"BASE64"}
///                                ← {"ok":…,"message":"…","fields":{"operation":"N",…}}
///     → {"command":"keyring-status","id":N}
///                                ← {"ok":…,"message":"…","fields":{"done":"true",…}}
///     → anything else            ← {"error":"…"}
///
/// Foundation's JSON coders are fine here: the runtime is a driver, not a pure core.
public enum LocalAPIProtocol {
    public static let socketFileName = "starling.sock"
    public static let commands = ["members", "counters", "keyring", "keyring-status"]

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
    static func respond(to line: [UInt8], members: () -> [MemberView], counters: () -> [String: UInt64],
                        control: (ControlRequest) -> ControlAnswer = { _ in ControlAnswer(ok: false, message: "no control plane") }) -> [UInt8] {
        guard let request = try? JSONDecoder().decode(Request.self, from: Data(line)) else {
            return encode(ErrorResponse(error: #"expected one JSON object with a "command" string, such as {"command":"members"}"#))
        }
        switch request.command {
        case "members":
            let sorted = members().sorted { ($0.name, $0.node.text) < ($1.name, $1.node.text) }
            return encode(MembersResponse(members: sorted.map(Member.init)))
        case "counters":
            return encode(CountersResponse(counters: counters()))
        case "keyring", "keyring-status":
            switch controlRequest(request) {
            case let .success(controlRequest):
                let answer = control(controlRequest)
                return encode(ControlResponse(ok: answer.ok, message: answer.message, fields: answer.fields))
            case let .failure(error):
                return encode(error)
            }
        default:
            return encode(ErrorResponse(error: "unknown command '\(request.command)'; known commands: "
                + commands.joined(separator: ", ")))
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
