#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An inference worker's end of its long-lived connection to the peer (`ServeMessages`): blocking
/// line reads and writes over one stream socket, with the bytes after a line kept for the next
/// read (the peer may write several jobs before it reads an answer). Used by the Swift Lib's serving
/// loop; tests hand it one end of a `socketpair`.
public final class ServeConnection {
    private let descriptor: Int32
    private var buffered: [UInt8] = []
    /// Where the next search for a newline starts in `buffered`.
    private var scanned = 0
    private var closed = false

    /// Takes ownership of a connected stream socket (closed with this connection).
    public init(descriptor: Int32) {
        precondition(descriptor >= 0, "a connection needs an open socket")
        self.descriptor = descriptor
    }

    deinit { close() }

    /// Connects to the peer's socket and says hello; the peer's answer is the first line to read.
    /// Throws `LocalClientError` (`noPeer` when nobody serves the socket, so a caller can try again).
    public static func open(socketPath: String, hello: ServeHello) throws(LocalClientError) -> ServeConnection {
        if let problem = UnixSocket.lengthProblem(socketPath) { throw LocalClientError(.failed, problem) }
        switch UnixSocket.connect(to: socketPath) {
        case let .success(descriptor):
            let connection = ServeConnection(descriptor: descriptor)
            try connection.write(hello.line)
            return connection
        case let .failure(error) where error.code == ENOENT || error.code == ECONNREFUSED:
            throw LocalClientError(.noPeer, "\(socketPath): nobody serves it (\(UnixSocket.errorText(error.code)))")
        case let .failure(error):
            throw LocalClientError(.failed, "\(socketPath): cannot connect: \(UnixSocket.errorText(error.code))")
        }
    }

    /// The next line without its newline, waiting as long as it takes; nil at the end of the
    /// stream (a last line without a newline is still returned). A line longer than
    /// `LocalAPILimits.serveLineBytesMax` is an error.
    public func readLine() throws(LocalClientError) -> [UInt8]? {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            if let newline = buffered[scanned...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(buffered[..<newline])
                buffered.removeSubrange(...newline)
                scanned = 0
                return line
            }
            scanned = buffered.count
            guard buffered.count <= LocalAPILimits.serveLineBytesMax else {
                throw LocalClientError(.badAnswer, "the peer sent a line longer than \(LocalAPILimits.serveLineBytesMax) bytes")
            }
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress!, $0.count, 0) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                if errno == ECONNRESET { return takeRest() }
                throw LocalClientError(.failed, "reading from the peer: \(UnixSocket.errorText())")
            }
            if count == 0 { return takeRest() }
            buffered.append(contentsOf: chunk[..<count])
        }
    }

    private func takeRest() -> [UInt8]? {
        guard !buffered.isEmpty else { return nil }
        defer { buffered = []; scanned = 0 }
        return buffered
    }

    /// Writes a line (newline included) within `LocalAPILimits.serveAnswerTimeout`.
    public func write(_ line: [UInt8]) throws(LocalClientError) {
        let (seconds, attoseconds) = LocalAPILimits.serveAnswerTimeout.components
        let deadline = UnixSocket.monotonicMilliseconds() + seconds * 1000 + attoseconds / 1_000_000_000_000_000
        do {
            try UnixSocket.writeAll(descriptor, line, deadline: deadline)
        } catch {
            if error.code == ETIMEDOUT { throw LocalClientError(.timedOut, "the peer has not read an answer for \(LocalAPILimits.serveAnswerTimeout)") }
            throw LocalClientError(.failed, "writing to the peer: \(UnixSocket.errorText(error.code))")
        }
    }

    /// Closes the socket (once; also on deinit).
    public func close() {
        guard !closed else { return }
        closed = true
        _ = Glibc.close(descriptor)
    }
}
