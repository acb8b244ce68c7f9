import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import StarlingInferenceAPI

/// One answer as the client read it.
struct TestResponse: Sendable {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The `{"error": ...}` message, or nil when the body is not one.
    var error: String? { try? JSONDecoder().decode(InferenceAPIError.ErrorBody.self, from: Data(body)).error }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try JSONDecoder().decode(type, from: Data(body)) }
}

struct TestClientError: Error, CustomStringConvertible {
    var description: String
}

/// A raw HTTP/1.1 client over NIO's own encoder and decoder, so a test can send what a real client
/// would not (a head without its body, a body in slow chunks, requests back to back) and see each
/// answer and the close.
final class TestHTTPClient: Sendable {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    let channel: any Channel
    private let collector: NIOLoopBound<ResponseCollector>

    init(port: Int) async throws {
        // The collector is taken as the initializer adds it: the server may close the connection
        // (a refusal, an idle timeout) before a later lookup in the pipeline.
        let slot = CollectorSlot()
        let channel = try await ClientBootstrap(group: Self.group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let collector = ResponseCollector()
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(collector)
                    slot.collector = collector
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        self.channel = channel
        self.collector = try await channel.eventLoop.submit {
            NIOLoopBound(slot.collector!, eventLoop: channel.eventLoop)
        }.get()
    }

    /// Hands the collector from the channel initializer to `init`, both on the channel's loop.
    private final class CollectorSlot: @unchecked Sendable {
        var collector: ResponseCollector?
    }

    /// Sends a request's head, then `body` (in one part, or `chunks`), then its end unless `end` is false.
    func send(_ method: HTTPMethod, _ uri: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
              chunks: [[UInt8]] = [], end: Bool = true) {
        var fields = HTTPHeaders(headers)
        if let body, !fields.contains(name: "content-length") { fields.add(name: "content-length", value: String(body.count)) }
        if body == nil, chunks.isEmpty, !fields.contains(name: "content-length") { fields.add(name: "content-length", value: "0") }
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: fields)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        for part in (body.map { [$0] } ?? []) + chunks {
            channel.writeAndFlush(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: part))), promise: nil)
        }
        if end { channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil) } else { channel.flush() }
    }

    /// The next answer, or an error when the connection closes first or none comes in `seconds`.
    func response(within seconds: Int64 = 20) async throws -> TestResponse {
        let collector = self.collector
        let loop = channel.eventLoop
        return try await loop.flatSubmit {
            let promise = loop.makePromise(of: TestResponse.self)
            collector.value.await(promise)
            loop.assumeIsolated().scheduleTask(in: .seconds(seconds)) {
                promise.fail(TestClientError(description: "no answer within \(seconds) s"))
            }
            return promise.futureResult
        }.get()
    }

    func request(_ method: HTTPMethod, _ uri: String, headers: [(String, String)] = [], body: [UInt8]? = nil) async throws -> TestResponse {
        send(method, uri, headers: headers, body: body)
        return try await response()
    }

    /// Whether the server closed the connection (within `seconds`).
    func closed(within seconds: Int64 = 5) async -> Bool {
        let loop = channel.eventLoop
        let timeout = loop.scheduleTask(in: .seconds(seconds)) { }
        let closed: Bool = await withCheckedContinuation { continuation in
            loop.execute {
                let once = NIOLoopBoundBox(false, eventLoop: loop)
                self.channel.closeFuture.whenComplete { _ in
                    if !once.value { once.value = true; continuation.resume(returning: true) }
                }
                timeout.futureResult.whenSuccess {
                    if !once.value { once.value = true; continuation.resume(returning: false) }
                }
            }
        }
        timeout.cancel()
        return closed
    }

    func close() {
        channel.close(promise: nil)
    }
}

/// Gathers each answer's parts and hands whole answers out in order.
final class ResponseCollector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    private var head: HTTPResponseHead?
    private var body: [UInt8] = []
    private var ready: [TestResponse] = []
    private var waiting: [EventLoopPromise<TestResponse>] = []
    private var closed = false

    func await(_ promise: EventLoopPromise<TestResponse>) {
        if !ready.isEmpty { promise.succeed(ready.removeFirst()) }
        else if closed { promise.fail(TestClientError(description: "the connection closed")) }
        else { waiting.append(promise) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(head): self.head = head
        case var .body(part): body += part.readBytes(length: part.readableBytes) ?? []
        case .end:
            guard let head else { return }
            let response = TestResponse(status: head.status, headers: head.headers, body: body)
            self.head = nil
            body = []
            if waiting.isEmpty { ready.append(response) } else { waiting.removeFirst().succeed(response) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        for promise in waiting { promise.fail(TestClientError(description: "the connection closed")) }
        waiting = []
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
