/// A request the peer refused: `{"error":"…","code":"…"}`. The message is for people; a client
/// that must act on the kind of refusal reads `code`, never the text.
public struct ErrorResponse: Error, Codable, Equatable, Sendable, CustomStringConvertible {
    public var error: String
    /// Nil when the peer gave none or a code this version does not know (a newer peer).
    public var code: ErrorCode?

    public init(_ code: ErrorCode, _ error: String) {
        self.code = code
        self.error = error
    }

    public var description: String { error }

    enum CodingKeys: String, CodingKey { case error, code }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        error = try container.decode(String.self, forKey: .error)
        code = (try? container.decodeIfPresent(String.self, forKey: .code)).flatMap(ErrorCode.init(rawValue:))
    }
}

/// Why a request was refused.
public enum ErrorCode: String, Codable, CaseIterable, Sendable {
    /// Not a JSON object, no `command`, or a field missing or of the wrong type.
    case badRequest = "bad-request"
    case unknownCommand = "unknown-command"
    /// This peer runs no such worker for that task (any more): a worker asking is done.
    case noWorker = "no-worker"
    case wrongToken = "wrong-token"
    /// No task of that name, id or id prefix is known to the peer.
    case noTask = "no-task"
    /// No service of that name is served (as an edge) on this peer.
    case noService = "no-service"
    /// The service cannot answer now (its worker is starting, or too many requests are in progress).
    case unavailable
    /// The peer could not encode its answer (never expected).
    case internalError = "internal"
}
