import Foundation

/// The local API of a peer (docs/runtime.md, "Local API"): a Unix socket at DIR/starling.sock; a
/// client writes one JSON request line (`LocalRequest`), reads one JSON answer line, and the peer
/// closes the connection. This target holds every message as a Codable value and the blocking
/// client (`LocalClient`), shared by the CLI, the runtime (which answers) and the worker Libs'
/// Swift side (`StarlingWorker`); it depends on no other Starling target, so ids and hashes are
/// lowercase hex strings here.
///
/// Foundation's JSON coders are fine here: this is driver code, not a pure core.
public enum LocalAPI {
    public static let socketFileName = "starling.sock"

    public static func socketPath(dataDirectory: String) -> String {
        dataDirectory.hasSuffix("/") ? dataDirectory + socketFileName : "\(dataDirectory)/\(socketFileName)"
    }

    /// A message as one line: JSON with sorted keys, then a newline.
    public static func line<Value: Encodable>(_ value: Value) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // The messages are plain values of strings, integers, booleans and finite numbers (the
        // runtime drops non-finite metrics before it answers), so encoding them cannot fail.
        var bytes = [UInt8]((try? encoder.encode(value)) ?? Data(#"{"code":"internal","error":"cannot encode the answer"}"#.utf8))
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    /// Decodes one line (a request, or an answer); the errors of `LocalRequest` and `WorkerJob`
    /// come through as they are, the JSON coder's own as `Invalid` naming what is wrong.
    public static func decode<Value: Decodable>(_ type: Value.Type, from line: [UInt8]) throws(Invalid) -> Value {
        do {
            return try JSONDecoder().decode(type, from: Data(line))
        } catch let error as Invalid {
            throw error
        } catch let error as DecodingError where error.isAtTheTop {
            // Foundation's decoder also reports a number out of its field's range (-1 for a count)
            // as invalid JSON, at the top.
            throw Invalid("expected one JSON object (valid JSON, each number in its field's range), got: "
                + String(decoding: line.prefix(120), as: UTF8.self))
        } catch let error as DecodingError {
            throw Invalid(Self.describe(error, decoding: "\(type)"))
        } catch {
            throw Invalid("cannot decode \(type): \(error)")
        }
    }

    /// A message that could not be decoded, and why; `code` is what the peer answers a request
    /// refused for it.
    public struct Invalid: Error, Equatable, Sendable, CustomStringConvertible {
        public let code: ErrorCode
        public let description: String
        public init(_ description: String, code: ErrorCode = .badRequest) {
            self.code = code
            self.description = description
        }
    }

    static func describe(_ error: DecodingError, decoding what: String) -> String {
        func path(_ context: DecodingError.Context, _ key: CodingKey? = nil) -> String {
            ((context.codingPath + (key.map { [$0] } ?? [])).map { $0.intValue.map(String.init) ?? $0.stringValue })
                .joined(separator: ".")
        }
        switch error {
        case let .keyNotFound(key, context): return "\(what) needs \"\(path(context, key))\""
        case let .typeMismatch(type, context): return "\(what): \"\(path(context))\" is not a \(type)"
        case let .valueNotFound(type, context): return "\(what): \"\(path(context))\" is null, not a \(type)"
        case let .dataCorrupted(context): return "\(what): \"\(path(context))\": \(context.debugDescription)"
        @unknown default: return "\(what): \(error)"
        }
    }
}

extension DecodingError {
    /// The line is not JSON, or its top is not the object expected.
    var isAtTheTop: Bool {
        switch self {
        case let .dataCorrupted(context), let .typeMismatch(_, context), let .valueNotFound(_, context):
            context.codingPath.isEmpty
        case .keyNotFound:
            false
        @unknown default:
            false
        }
    }
}
