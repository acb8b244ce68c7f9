import StarlingMembership
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The CLI's side of the local API: connect to DIR/starling.sock, send one request line, read the
/// response line. Blocking, and independent of any event loop (the CLI runs no loop for this).
public enum LocalClient {
    /// The raw JSON response line (without its newline) to `{"command": command}`.
    public static func request(_ command: String, dataDirectory: String,
                               timeout: Duration = RuntimeLimits.localRequestTimeout) throws -> [UInt8] {
        try request(line: LocalAPIProtocol.requestLine(command), dataDirectory: dataDirectory, timeout: timeout)
    }

    /// The raw JSON response line to a prepared request line.
    public static func request(line requestLine: [UInt8], dataDirectory: String,
                               timeout: Duration = RuntimeLimits.localRequestTimeout) throws -> [UInt8] {
        try request(line: requestLine, socketPath: LocalAPIProtocol.socketPath(dataDirectory: dataDirectory),
                    dataDirectory: dataDirectory, timeout: timeout)
    }

    /// The raw JSON response line from the peer listening at `socketPath` (a worker knows the socket,
    /// not the data directory).
    public static func request(line requestLine: [UInt8], socketPath path: String, dataDirectory: String? = nil,
                               timeout: Duration = RuntimeLimits.localRequestTimeout) throws -> [UInt8] {
        let dataDirectory = dataDirectory ?? POSIXPath.parent(of: path)
        try UnixSocket.checkLength(path)
        let descriptor: Int32
        switch UnixSocket.connect(to: path) {
        case let .success(connected):
            descriptor = connected
        case let .failure(error) where error.code == ENOENT:
            throw RuntimeError("no peer is running with data directory \(dataDirectory) (\(path) not found); "
                + "start one with `starling peer --data-dir \(dataDirectory) ...`")
        case let .failure(error) where error.code == ECONNREFUSED:
            throw RuntimeError("no peer is running with data directory \(dataDirectory) (\(path) is left over "
                + "from a peer that stopped; nobody answers on it); start one with `starling peer --data-dir \(dataDirectory) ...`")
        case let .failure(error):
            throw RuntimeError("\(path): cannot connect: \(UnixSocket.errorText(error.code))")
        }
        defer { close(descriptor) }
        let deadline = UnixSocket.monotonicMilliseconds() + timeout.nanoseconds / 1_000_000
        do {
            try UnixSocket.writeAll(descriptor, requestLine, deadline: deadline)
            let line = try UnixSocket.readLine(descriptor, limit: RuntimeLimits.localResponseBytesMax, deadline: deadline)
            guard !line.isEmpty else { throw RuntimeError("\(path): the peer closed the connection without answering") }
            return line
        } catch let error as UnixSocket.ConnectError {
            throw RuntimeError("\(path): \(error.code == ETIMEDOUT ? "the peer did not answer in time" : UnixSocket.errorText(error.code))")
        }
    }
}

enum POSIXPath {
    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
