import Foundation
import NIOHTTP1
import StarlingInferenceAPI

/// One HTTP answer before it is written: status, body, and what the handler needs to know about it
/// (the binary extension's header length, the refusal to count, whether to close after it).
struct InferenceHTTPAnswer {
    var status: HTTPResponseStatus
    var body: [UInt8]
    /// Set for an answer in the binary tensor data form: the JSON header's length.
    var headerLength: Int? = nil
    /// For 405: the method the path answers.
    var allow: HTTPMethod? = nil
    /// Counted as `http.refused.REASON`.
    var refusal: String? = nil
    /// The connection closes after this answer (a body left unread, a limit).
    var closes = false

    static let serverName = "starling"
    static let serverVersion = "0.1.0"

    /// `{}`, Triton's body for a health check that passes.
    static let ok = InferenceHTTPAnswer(status: .ok, body: Array("{}".utf8))

    static func json(_ value: some Encodable, status: HTTPResponseStatus = .ok) -> InferenceHTTPAnswer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        // The message types always encode; a failure is a bug in them.
        return InferenceHTTPAnswer(status: status, body: Array(try! encoder.encode(value)))
    }

    /// `{"error": message}` with `status`, counted under `reason`.
    static func error(_ status: HTTPResponseStatus, _ message: String, reason: String) -> InferenceHTTPAnswer {
        var answer = json(InferenceAPIError.ErrorBody(error: message), status: status)
        answer.refusal = reason
        return answer
    }

    /// A refusal of the message layer (bad JSON, bad binary data, a backend's refusal).
    static func refused(_ error: InferenceAPIError, reason: String) -> InferenceHTTPAnswer {
        Self.error(HTTPResponseStatus(statusCode: error.status.rawValue), error.message, reason: reason)
    }

    static func notFound(_ path: String) -> InferenceHTTPAnswer {
        error(.notFound, "no route \(path); the Open Inference Protocol v2 routes are under /v2", reason: "not_found")
    }

    static func methodNotAllowed(_ method: HTTPMethod, _ path: String, allowed: HTTPMethod) -> InferenceHTTPAnswer {
        var answer = error(.methodNotAllowed, "\(path) answers \(allowed.rawValue), not \(method.rawValue)", reason: "method")
        answer.allow = allowed
        return answer
    }

    /// `GET /v2`: Triton's server metadata, naming the binary extension tritonclient relies on.
    static func serverMetadata() -> InferenceHTTPAnswer {
        json(ServerMetadata(name: serverName, version: serverVersion, extensions: ["binary_tensor_data"]))
    }

    struct ServerMetadata: Codable, Equatable {
        var name: String
        var version: String
        var extensions: [String]
    }

    /// The backend's `outcome` to `route`, for `request` when it is an inference.
    static func answer(_ outcome: InferenceOutcome, to route: InferenceRoute, request: InferRequest?) -> InferenceHTTPAnswer {
        switch (route, outcome) {
        case let (_, .refused(error)):
            return refused(error, reason: "backend")
        case let (.ready, .ready(ready)):
            return ready ? ok : error(.serviceUnavailable, "not ready", reason: "not_ready")
        case let (.modelMetadata, .metadata(metadata, _)):
            return json(metadata)
        case let (.modelReady(model), .metadata(_, ready)):
            return ready ? ok : error(.serviceUnavailable, "model \(model) is not ready", reason: "not_ready")
        case let (.infer, .inferred(response)):
            guard let request, BinaryTensorData.asksBinary(request) else { return json(response) }
            let encoded = BinaryTensorData.response(response) { BinaryTensorData.wantsBinary($0.name, in: request) }
            return InferenceHTTPAnswer(status: .ok, body: encoded.body, headerLength: encoded.headerLength)
        default:
            return error(.internalServerError, "the backend answered \(outcome.kind) to \(route)", reason: "backend_mismatch")
        }
    }
}

extension InferenceOutcome {
    /// The case's name, for a backend's mismatched answer.
    var kind: String {
        switch self {
        case .ready: return "ready"
        case .metadata: return "metadata"
        case .inferred: return "inferred"
        case .refused: return "refused"
        }
    }
}
