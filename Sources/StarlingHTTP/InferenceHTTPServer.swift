import NIOCore
import NIOHTTP1
import NIOPosix
import StarlingInferenceAPI

/// The Open Inference Protocol v2 HTTP endpoint (KServe / Triton REST) on its own SwiftNIO
/// threads, handing calls to a backend (docs/runtime.md, "HTTP endpoint"). It binds in `init`
/// and serves until `shutdown`.
public final class InferenceHTTPServer: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let state: InferenceHTTPState

    /// The bound port (`port` 0 in `init` picks a free one).
    public let port: Int

    /// Binds `host:port` now and serves on `threads` NIO threads; throws when the address cannot
    /// be bound (the threads are stopped again).
    public init(host: String, port: Int, backend: any InferenceBackend, threads: Int = 1,
                settings: InferenceHTTPSettings = InferenceHTTPSettings()) throws {
        precondition(threads >= 1, "an HTTP server needs a thread")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let state = InferenceHTTPState(settings: settings)
        let decoderLimits = {
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderListSize = settings.headerBytesMax
            limits.maxHeaderFieldSize = settings.headerBytesMax
            return limits
        }()
        let idle = TimeAmount.nanoseconds(InferenceHTTPHandler.nanoseconds(settings.idleTimeout))
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                let admitted = state.openConnection()
                return channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(IdleStateHandler(readTimeout: idle))
                    try pipeline.configureHTTPServerPipeline(withErrorHandling: false, withEncoderConfiguration: .init(),
                                                             withDecoderLimitConfiguration: decoderLimits)
                    try pipeline.addHandler(InferenceHTTPHandler(state: state, backend: backend, admitted: admitted))
                }
            }
        do {
            let channel = try bootstrap.bind(host: host, port: port).wait()
            guard let bound = channel.localAddress?.port else {
                preconditionFailure("a bound TCP listener has a port")
            }
            self.channel = channel
            self.port = bound
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
        self.group = group
        self.state = state
    }

    /// Requests (`http.requests`), answers by status class (`http.responses.2xx`, ...), refusals by
    /// reason (`http.refused.REASON`), late backend replies, and the calls and connections open now.
    public func counters() -> [String: UInt64] {
        state.snapshot()
    }

    /// Closes the listener and every connection (a call still waiting gets no answer; its late
    /// reply is dropped), then joins the threads. A second call does nothing. It blocks, so it is
    /// called from the owner's thread, never from a NIO thread (a backend's `handle`): NIO
    /// refuses to join a loop from itself. The owner must call it; nothing stops the threads else.
    public func shutdown() {
        guard state.stop() else { return }
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }
}
