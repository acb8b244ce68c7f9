import NIOCore
import NIOHTTP1
import NIOPosix

/// A keep-alive HTTP/1.1 connection for one calling thread that may block (the demo's load, a
/// tool's requests), on NIO's own encoder and decoder. It connects on first use and again after
/// the server closes the connection or a call times out.
///
/// The CLI used Foundation's URLSession before: on Linux it loads libcurl and about 25 more shared
/// libraries into every `starling` process, peers included (about 6 MB of RSS each), and it held
/// the first concurrent requests of a load back by 1-3 s.
public final class BlockingHTTPClient {
    /// One answer: its status code and body.
    public struct Response: Sendable {
        public let status: Int
        public let body: [UInt8]
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// One event-loop thread serves every client in the process.
    private static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    private let host: String
    private let port: Int
    private var channel: (any Channel)?
    private var collector: NIOLoopBound<AnswerCollector>?

    public init(host: String = "127.0.0.1", port: Int) {
        self.host = host
        self.port = port
    }

    deinit { channel?.close(promise: nil) }

    /// POSTs `body` to `path` and waits for the answer, at most `timeoutSeconds`. Must not be
    /// called on an event loop (it blocks).
    public func post(_ path: String, contentType: String, body: [UInt8], timeoutSeconds: Double) throws -> Response {
        let (channel, collector) = try connected()
        let loop = channel.eventLoop
        let hostField = "\(host):\(port)"
        let answer = loop.flatSubmit { () -> EventLoopFuture<Response> in
            let promise = loop.makePromise(of: Response.self)
            collector.value.expect(promise)
            var headers = HTTPHeaders()
            headers.add(name: "host", value: hostField)
            headers.add(name: "content-type", value: contentType)
            headers.add(name: "content-length", value: String(body.count))
            let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path, headers: headers)
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            let timeout = loop.scheduleTask(in: .nanoseconds(Int64(timeoutSeconds * 1e9))) {
                collector.value.abandon()
                promise.fail(Failure(description: "no answer within \(timeoutSeconds) s"))
                channel.close(promise: nil)  // a late answer must not be taken for the next call's
            }
            promise.futureResult.whenComplete { _ in timeout.cancel() }
            return promise.futureResult
        }
        do {
            return try answer.wait()
        } catch {
            self.channel = nil
            self.collector = nil
            channel.close(promise: nil)
            throw error as? Failure ?? Failure(description: "\(error)")
        }
    }

    /// The open connection, or a new one when there is none or the server closed it.
    private func connected() throws -> (any Channel, NIOLoopBound<AnswerCollector>) {
        if let channel, channel.isActive, let collector { return (channel, collector) }
        channel?.close(promise: nil)
        let slot = CollectorSlot()
        let channel: any Channel
        do {
            channel = try ClientBootstrap(group: Self.group)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let collector = AnswerCollector()
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(collector)
                        slot.collector = collector
                    }
                }
                .connect(host: host, port: port).wait()
        } catch {
            throw Failure(description: "cannot connect to \(host):\(port): \(error)")
        }
        let collector = try channel.eventLoop.submit { NIOLoopBound(slot.collector!, eventLoop: channel.eventLoop) }.wait()
        self.channel = channel
        self.collector = collector
        return (channel, collector)
    }

    /// Hands the collector from the channel initializer to `connected`, both on the channel's loop.
    private final class CollectorSlot: @unchecked Sendable {
        var collector: AnswerCollector?
    }
}

/// Gathers an answer's parts for the one call waiting on the connection.
private final class AnswerCollector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    private var status: Int?
    private var body: [UInt8] = []
    private var waiting: EventLoopPromise<BlockingHTTPClient.Response>?

    func expect(_ promise: EventLoopPromise<BlockingHTTPClient.Response>) {
        precondition(waiting == nil, "one call at a time on a connection")
        waiting = promise
    }

    /// The waiting call timed out: whatever arrives now is no one's answer.
    func abandon() { waiting = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(head):
            status = Int(head.status.code)
            body = []
        case var .body(part):
            body += part.readBytes(length: part.readableBytes) ?? []
        case .end:
            guard let status, let promise = waiting else { return }
            waiting = nil
            self.status = nil
            promise.succeed(.init(status: status, body: body))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        waiting?.fail(BlockingHTTPClient.Failure(description: "the server closed the connection"))
        waiting = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        waiting?.fail(BlockingHTTPClient.Failure(description: "\(error)"))
        waiting = nil
        context.close(promise: nil)
    }
}
