/// A refusal of the inference endpoint: the HTTP status and a message naming what is wrong, sent
/// as the protocol's `{"error": "..."}`.
public struct InferenceAPIError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Status: Int, Sendable {
        case badRequest = 400, notFound = 404, payloadTooLarge = 413, tooManyRequests = 429, unavailable = 503
    }

    public let status: Status
    public let message: String

    public init(_ status: Status, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status.rawValue): \(message)" }

    /// The protocol's error body.
    public var body: ErrorBody { ErrorBody(error: message) }

    public struct ErrorBody: Codable, Equatable, Sendable {
        public var error: String

        public init(error: String) { self.error = error }
    }
}
