import CLibUV

/// A listening stream socket: the peer's TCP listener, or the local API's Unix socket.
///
/// On each pending connection it calls `onConnection` with itself; the owner must `accept` it then
/// (libuv stops watching the socket until the pending connection is taken), even to close it at
/// once when over a limit.
final class StreamListener: UVHandleOwner {
    let kind: StreamConnection.Kind
    private let handle: UnsafeMutablePointer<uv_stream_t>
    private let loop: EventLoop
    var onConnection: (() -> Void)?
    private(set) var isClosed = false

    /// A TCP listener on `address`.
    init(loop: EventLoop, tcp address: SocketAddress) throws {
        self.loop = loop
        kind = .tcp
        let tcp = UVHandle.allocate(uv_tcp_t.self)
        let status = uv_tcp_init(loop.raw, tcp)
        guard status == 0 else {
            UVHandle.release(tcp)
            throw RuntimeError.libuv("cannot create a TCP socket", status)
        }
        handle = UVHandle.stream(tcp)
        UVHandle.attach(self, to: handle)
        // libuv reports EADDRINUSE from bind only at listen; both are checked.
        let bindStatus = address.withSockaddr { uv_tcp_bind(tcp, $0, 0) }
        guard bindStatus == 0 else {
            close()
            throw RuntimeError.libuv("cannot bind TCP \(address)", bindStatus)
        }
        try listen(describing: "TCP \(address)")
    }

    /// A Unix-domain listener at `path` (which must not exist).
    init(loop: EventLoop, pipePath path: String) throws {
        self.loop = loop
        kind = .pipe
        let pipe = UVHandle.allocate(uv_pipe_t.self)
        let status = uv_pipe_init(loop.raw, pipe, 0)
        guard status == 0 else {
            UVHandle.release(pipe)
            throw RuntimeError.libuv("cannot create a Unix socket", status)
        }
        handle = UVHandle.stream(pipe)
        UVHandle.attach(self, to: handle)
        let bindStatus = uv_pipe_bind(pipe, path)
        guard bindStatus == 0 else {
            close()
            throw RuntimeError.libuv("cannot bind the local API socket \(path)", bindStatus)
        }
        try listen(describing: path)
    }

    private func listen(describing name: String) throws {
        let status = uv_listen(handle, RuntimeLimits.listenBacklog) { server, status in
            guard status == 0 else { return }
            UVHandle.owner(of: server, as: StreamListener.self)?.onConnection?()
        }
        guard status == 0 else {
            close()
            throw RuntimeError.libuv("cannot listen on \(name)", status)
        }
    }

    /// Takes the pending connection into a new stream connection; nil if that failed.
    func accept(writeBudget: ByteBudget) -> StreamConnection? {
        guard !isClosed, let connection = try? StreamConnection(loop: loop, kind: kind, writeBudget: writeBudget) else {
            return nil
        }
        guard connection.accept(from: handle) == 0 else {
            connection.close()
            return nil
        }
        return connection
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        onConnection = nil
        UVHandle.close(handle)
    }
}
