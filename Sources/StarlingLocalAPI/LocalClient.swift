#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A client of a peer's local API: connect to its socket, send one request line, read the answer
/// line. Blocking, and independent of any event loop (the CLI and the workers run none).
///
///     let tasks = try LocalClient(dataDirectory: dir).send(.tasks, as: TasksResponse.self).tasks
///
/// `send` throws `ErrorResponse` when the peer refuses the request (act on its `code`), and
/// `LocalClientError` when no answer came or it was not the one expected.
public struct LocalClient: Sendable {
    public let socketPath: String
    /// Named in the errors ("no peer is running with data directory …").
    public let dataDirectory: String

    public init(dataDirectory: String) {
        socketPath = LocalAPI.socketPath(dataDirectory: dataDirectory)
        self.dataDirectory = dataDirectory
    }

    /// A worker knows the socket, not the data directory.
    public init(socketPath: String) {
        self.socketPath = socketPath
        dataDirectory = Self.parent(of: socketPath)
    }

    /// The peer's answer to `request`, decoded as `Answer`.
    public func send<Answer: Decodable>(_ request: LocalRequest, as answer: Answer.Type,
                                        timeout: Duration = LocalAPILimits.requestTimeout) throws -> Answer {
        try Self.decode(answer, from: exchange(request.line, timeout: timeout))
    }

    /// The raw answer line (without its newline) to `request`, for a caller that prints it.
    public func line(_ request: LocalRequest, timeout: Duration = LocalAPILimits.requestTimeout) throws(LocalClientError) -> [UInt8] {
        try exchange(request.line, timeout: timeout)
    }

    /// An answer line decoded as `Answer`; an `{"error":…}` line is thrown as `ErrorResponse`.
    public static func decode<Answer: Decodable>(_ answer: Answer.Type, from line: [UInt8]) throws -> Answer {
        if let refusal = try? LocalAPI.decode(ErrorResponse.self, from: line) { throw refusal }
        do {
            return try LocalAPI.decode(answer, from: line)
        } catch {
            throw LocalClientError(.badAnswer, "the peer's answer is not what was expected (\(error)): "
                + String(decoding: line.prefix(200), as: UTF8.self))
        }
    }

    /// Sends a prepared request line (newline included) and returns the answer line. Tests send
    /// malformed lines through it; everything else goes through `send`.
    public func exchange(_ requestLine: [UInt8], timeout: Duration = LocalAPILimits.requestTimeout) throws(LocalClientError) -> [UInt8] {
        let path = socketPath
        if let problem = UnixSocket.lengthProblem(path) { throw LocalClientError(.failed, problem) }
        let descriptor: Int32
        switch UnixSocket.connect(to: path) {
        case let .success(connected):
            descriptor = connected
        case let .failure(error) where error.code == ENOENT:
            throw LocalClientError(.noPeer, "no peer is running with data directory \(dataDirectory) (\(path) not found); "
                + "start one with `starling peer --data-dir \(dataDirectory) ...`")
        case let .failure(error) where error.code == ECONNREFUSED:
            throw LocalClientError(.noPeer, "no peer is running with data directory \(dataDirectory) (\(path) is left over "
                + "from a peer that stopped; nobody answers on it); start one with `starling peer --data-dir \(dataDirectory) ...`")
        case let .failure(error):
            throw LocalClientError(.failed, "\(path): cannot connect: \(UnixSocket.errorText(error.code))")
        }
        defer { close(descriptor) }
        let (seconds, attoseconds) = timeout.components
        let deadline = UnixSocket.monotonicMilliseconds() + seconds * 1000 + attoseconds / 1_000_000_000_000_000
        let line: [UInt8]
        do {
            try UnixSocket.writeAll(descriptor, requestLine, deadline: deadline)
            line = try UnixSocket.readLine(descriptor, limit: LocalAPILimits.responseBytesMax, deadline: deadline)
        } catch {
            if error.code == ETIMEDOUT { throw LocalClientError(.timedOut, "\(path): the peer did not answer in time") }
            throw LocalClientError(.failed, "\(path): \(UnixSocket.errorText(error.code))")
        }
        guard !line.isEmpty else { throw LocalClientError(.failed, "\(path): the peer closed the connection without answering") }
        return line
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

/// No answer came from the peer, or not the one expected.
public struct LocalClientError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// Nobody serves the socket: no file, or one left by a peer that stopped.
        case noPeer
        case timedOut
        /// Connecting, sending or reading failed otherwise.
        case failed
        /// The answer was not JSON, or not the answer to that request.
        case badAnswer
    }

    public let kind: Kind
    public let description: String

    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}
