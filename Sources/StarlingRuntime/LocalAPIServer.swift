import StarlingLocalAPI
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The local API: a Unix socket at DIR/starling.sock (mode 0600) for the CLI and, later, workers.
/// One JSON request line in, one JSON response line out, then the connection closes
/// (`LocalAPIResponder`; the messages are StarlingLocalAPI's). Most answers are written at once; a command that waits on the network
/// (`LocalAPIAnswer.later`) keeps its client, with a longer deadline, until it answers.
///
/// Only one peer may serve a data directory: a socket someone answers on refuses the start; a
/// socket nobody answers on is left over from a killed peer and is removed.
final class LocalAPIServer {
    let path: String
    private let listener: StreamListener
    private let counters: RuntimeCounters
    private let writeBudget: ByteBudget
    /// Answers one request line (the runtime reads the machine's members and counters).
    private let respond: ([UInt8]) -> LocalAPIAnswer

    private struct Client {
        let connection: StreamConnection
        var line: [UInt8] = []
        var answered = false
    }

    /// An inference worker's `worker-serve` hello: the connection is handed over, kept open, to
    /// this handler (with any bytes read after the hello line); without one, the hello is refused.
    var onServeHello: ((ServeHello, StreamConnection, [UInt8]) -> Void)?

    private var clients: [Int: Client] = [:]
    private var nextClient = 0
    private var isClosed = false

    init(loop: EventLoop, dataDirectory: String, counters: RuntimeCounters, writeBudget: ByteBudget,
         respond: @escaping ([UInt8]) -> LocalAPIAnswer) throws {
        path = LocalAPI.socketPath(dataDirectory: dataDirectory)
        self.counters = counters
        self.writeBudget = writeBudget
        self.respond = respond
        if let problem = UnixSocket.lengthProblem(path) { throw RuntimeError(problem) }
        switch UnixSocket.state(of: path) {
        case .absent:
            break
        case .stale:
            guard unlink(path) == 0 || errno == ENOENT else {
                throw RuntimeError("\(path): cannot remove the stale socket: \(UnixSocket.errorText())")
            }
        case .listening:
            throw RuntimeError("\(path): another peer is already running with data directory \(dataDirectory); "
                + "stop it first (or use another --data-dir)")
        case .notASocket:
            throw RuntimeError("\(path): exists and is not a socket; move it away (the peer's local API lives there)")
        }
        // Created with mode 0600 from the start (umask), then chmod in case the umask was ignored:
        // the socket answers questions about the cluster, for this user only.
        let previousMask = umask(0o177)
        defer { umask(previousMask) }
        listener = try StreamListener(loop: loop, pipePath: path)
        guard chmod(path, 0o600) == 0 else {
            listener.close()
            unlink(path)
            throw RuntimeError("\(path): cannot set mode 0600: \(UnixSocket.errorText())")
        }
        listener.onConnection = { [unowned self] in self.accept() }
    }

    /// Stops listening, drops clients and removes the socket file.
    func close() {
        guard !isClosed else { return }
        isClosed = true
        listener.close()
        for (_, client) in clients { client.connection.close() }
        clients.removeAll()
        unlink(path)
    }

    private func accept() {
        guard let connection = listener.accept(writeBudget: writeBudget) else {
            counters.increment("local_api.accept_errors")
            return
        }
        guard clients.count < RuntimeLimits.localConnectionsMax else {
            counters.increment("local_api.refused.connection_limit")
            connection.close()
            return
        }
        let id = nextClient
        nextClient += 1
        clients[id] = Client(connection: connection)
        connection.onEvent = { [unowned self] event in self.event(id, event) }
        connection.setDeadline(after: LocalAPILimits.requestTimeout)
        connection.startReading()
    }

    private func event(_ id: Int, _ event: StreamConnection.Event) {
        guard var client = clients[id] else { return }
        switch event {
        case let .received(bytes) where !client.answered:
            if let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) {
                client.line.append(contentsOf: bytes[..<newline])
                clients[id] = client
                if handOver(id, after: Array(bytes[(newline + 1)...])) { return }
                answer(id)
            } else {
                client.line.append(contentsOf: bytes)
                clients[id] = client
                if client.line.count > LocalAPILimits.requestBytesMax {
                    counters.increment("local_api.closed.too_large")
                    drop(id)
                }
            }
        case .endOfStream where !client.answered && !client.line.isEmpty:
            answer(id)  // a request without its newline, then end of stream: still a request.
        case .received:
            break
        case .wrote:
            client.connection.shutdown()
        case .shutDown:
            drop(id)
        case .endOfStream, .failed:
            if !client.answered { counters.increment("local_api.closed.early") }
            drop(id)
        case .deadlinePassed:
            counters.increment("local_api.closed.timeout")
            drop(id)
        case .connected:
            break
        }
    }

    private func answer(_ id: Int) {
        guard var client = clients[id] else { return }
        client.answered = true
        clients[id] = client
        client.connection.stopReading()
        counters.increment("local_api.requests")
        switch respond(client.line) {
        case let .now(line):
            write(line, to: id)
        case let .later(within, start):
            counters.increment("local_api.answered_later")
            client.connection.setDeadline(after: within)
            // The client may be gone by then (deadline, peer stopping): the answer is dropped.
            start { [weak self] line in self?.write(line, to: id) }
        }
    }

    /// Hands a `worker-serve` connection to `onServeHello`: no longer this server's client, no
    /// deadline. The hello is told apart by its `"request"` key (commands have `"command"`).
    private func handOver(_ id: Int, after rest: [UInt8]) -> Bool {
        guard let onServeHello, let client = clients[id], Self.mayBeServeHello(client.line),
              let hello = try? LocalAPI.decode(ServeHello.self, from: client.line) else { return false }
        clients[id] = nil
        counters.increment("local_api.serving_connections")
        client.connection.stopReading()
        client.connection.onEvent = nil
        client.connection.clearDeadline()
        onServeHello(hello, client.connection, rest)
        return true
    }

    private static let requestKey = Array(#""request""#.utf8)

    private static func mayBeServeHello(_ line: [UInt8]) -> Bool {
        guard line.count < 4_096 else { return false }
        return line.indices.contains { line[$0...].starts(with: requestKey) }
    }

    private func write(_ line: [UInt8], to id: Int) {
        guard !isClosed, let client = clients[id] else { return }
        switch client.connection.write(line) {
        case .queued:
            break
        case .overBudget, .failed:
            counters.increment("local_api.dropped.write")
            drop(id)
        }
    }

    private func drop(_ id: Int) {
        clients.removeValue(forKey: id)?.connection.close()
    }
}
