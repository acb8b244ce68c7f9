import Foundation
import NIOCore
import NIOHTTP1
import StarlingInferenceAPI

/// One connection's requests, one at a time (NIO's `HTTPServerPipelineHandler`, before this
/// handler, holds back a pipelined request until the answer before it is written): check the
/// limits as the request arrives, read its body up to `requestBytesMax`, decode it (JSON or
/// Triton's binary form), hand the call to the backend, and write the backend's reply, or the
/// server's own 503 when the reply does not come in time. It only moves bytes; the messages'
/// encoding is StarlingInferenceAPI's.
final class InferenceHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum Phase {
        /// Between requests.
        case idle
        /// Reading the body of a routed request.
        case reading(HTTPRequestHead, InferenceRoute, ByteBuffer)
        /// Dropping the body of a request whose answer is already known; it goes out at the end.
        case skipping(HTTPRequestHead, InferenceHTTPAnswer)
        /// Waiting for the backend's reply to call `call`.
        case waiting(HTTPRequestHead, call: Int, InferenceRoute, InferRequest?, timer: Scheduled<Void>)
        /// Answered with `closes`: whatever still arrives is dropped until the connection closes.
        case closing
    }

    private let state: InferenceHTTPState
    private let backend: any InferenceBackend
    /// False when the connection came past `connectionsMax`: every request gets 503 and the close.
    private let admitted: Bool
    private var phase = Phase.idle
    private var calls = 0
    private var context: ChannelHandlerContext?

    init(state: InferenceHTTPState, backend: any InferenceBackend, admitted: Bool) {
        self.state = state
        self.backend = backend
        self.admitted = admitted
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case let .waiting(_, _, _, _, timer) = phase {
            timer.cancel()
            state.endCall()
        }
        phase = .closing
        if admitted { state.closeConnection() }
        self.context = nil
        context.fireChannelInactive()
    }

    // MARK: Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(head): receive(head, context: context)
        case var .body(part): receive(&part, context: context)
        case .end: receiveEnd(context: context)
        }
    }

    private func receive(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard case .idle = phase else { return }
        state.count("http.requests")
        guard admitted else {
            var answer = InferenceHTTPAnswer.error(.serviceUnavailable, "\(state.settings.connectionsMax) connections are open; try again later",
                                                   reason: "connections")
            answer.closes = true
            return write(answer, for: head, context: context)
        }
        if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > state.settings.requestBytesMax {
            return write(tooLarge(length), for: head, context: context)
        }
        switch InferenceRoute.match(method: head.method, uri: head.uri) {
        case let .failure(.notFound(path)):
            phase = .skipping(head, .notFound(path))
        case let .failure(.methodNotAllowed(path, allowed)):
            phase = .skipping(head, .methodNotAllowed(head.method, path, allowed: allowed))
        case let .success(route):
            if let encoding = head.headers.first(name: "content-encoding"), encoding.lowercased() != "identity" {
                phase = .skipping(head, .error(.unsupportedMediaType,
                                               "Content-Encoding \(encoding) is not served; send the body uncompressed",
                                               reason: "content_encoding"))
            } else {
                phase = .reading(head, route, context.channel.allocator.buffer(capacity: 0))
            }
        }
    }

    private func receive(_ part: inout ByteBuffer, context: ChannelHandlerContext) {
        guard case .reading(let head, let route, var body) = phase else { return }
        guard body.readableBytes + part.readableBytes <= state.settings.requestBytesMax else {
            return write(tooLarge(nil), for: head, context: context)
        }
        phase = .closing // drops the old reference, so the body grows in place
        body.writeBuffer(&part)
        phase = .reading(head, route, body)
    }

    private func receiveEnd(context: ChannelHandlerContext) {
        switch phase {
        case let .skipping(head, answer):
            write(answer, for: head, context: context)
        case let .reading(head, route, body):
            dispatch(route, head: head, body: body, context: context)
        case .idle, .waiting, .closing:
            break
        }
    }

    private func tooLarge(_ length: Int?) -> InferenceHTTPAnswer {
        let size = length.map { "a body of \($0) bytes" } ?? "a body past \(state.settings.requestBytesMax) bytes"
        var answer = InferenceHTTPAnswer.error(.payloadTooLarge, "\(size); at most \(state.settings.requestBytesMax)",
                                               reason: "body_too_large")
        answer.closes = true
        return answer
    }

    // MARK: Calling the backend

    private func dispatch(_ route: InferenceRoute, head: HTTPRequestHead, body: ByteBuffer, context: ChannelHandlerContext) {
        switch route {
        case .live:
            write(.ok, for: head, context: context)
        case .serverMetadata:
            write(.serverMetadata(), for: head, context: context)
        case .ready:
            call(.ready, route: route, request: nil, head: head, context: context)
        case let .modelMetadata(model), let .modelReady(model):
            call(.metadata(model: model), route: route, request: nil, head: head, context: context)
        case let .infer(model):
            do throws(InferenceAPIError) {
                let request = try Self.request(head: head, body: body)
                call(.infer(model: model, request), route: route, request: request, head: head, context: context)
            } catch {
                write(.refused(error, reason: "bad_request"), for: head, context: context)
            }
        }
    }

    /// The inference request in `body`: the binary extension's when the header says so, else JSON.
    private static func request(head: HTTPRequestHead, body: ByteBuffer) throws(InferenceAPIError) -> InferRequest {
        let bytes = Array(body.readableBytesView)
        guard let field = head.headers.first(name: BinaryTensorData.headerLengthField) else {
            return try InferenceJSON.request(from: Data(bytes))
        }
        guard let headerLength = Int(field.trimmingCharacters(in: .whitespaces)) else {
            throw InferenceAPIError(.badRequest, "\(BinaryTensorData.headerLengthField) \(field) is not a byte count")
        }
        return try BinaryTensorData.request(body: bytes, headerLength: headerLength)
    }

    private func call(_ call: InferenceCall, route: InferenceRoute, request: InferRequest?, head: HTTPRequestHead,
                      context: ChannelHandlerContext) {
        guard state.startCall() else {
            return write(.error(.tooManyRequests, "\(state.settings.callsInFlightMax) calls are in flight; try again later",
                                reason: "in_flight"), for: head, context: context)
        }
        calls += 1
        let id = calls
        let loop = context.eventLoop
        let timeout = TimeAmount.nanoseconds(Self.nanoseconds(state.settings.callTimeout))
        let timer = loop.assumeIsolated().scheduleTask(in: timeout) { [self] in self.expire(id) }
        phase = .waiting(head, call: id, route, request, timer: timer)
        let handler = NIOLoopBound(self, eventLoop: loop)
        let state = self.state
        backend.handle(call) { outcome in
            // Hop back to the connection's loop; after shutdown began there is nobody to answer.
            if !state.execute(on: loop, { handler.value.finish(id, outcome) }) {
                state.count("http.late_replies")
            }
        }
    }

    /// The backend's reply to call `id`: written, unless that call already timed out or the
    /// connection closed.
    private func finish(_ id: Int, _ outcome: InferenceOutcome) {
        guard case let .waiting(head, current, route, request, timer) = phase, current == id, let context else {
            state.count("http.late_replies")
            return
        }
        timer.cancel()
        state.endCall()
        write(InferenceHTTPAnswer.answer(outcome, to: route, request: request), for: head, context: context)
    }

    private func expire(_ id: Int) {
        guard case let .waiting(head, current, _, _, _) = phase, current == id, let context else { return }
        state.endCall()
        let seconds = Double(Self.nanoseconds(state.settings.callTimeout)) / 1e9
        write(.error(.serviceUnavailable, "the backend did not answer within \(seconds) s", reason: "timeout"),
              for: head, context: context)
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    // MARK: Writing

    private func write(_ answer: InferenceHTTPAnswer, for head: HTTPRequestHead, context: ChannelHandlerContext) {
        let keepAlive = head.isKeepAlive && !answer.closes
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: answer.headerLength == nil ? "application/json" : "application/octet-stream")
        headers.add(name: "content-length", value: String(answer.body.count))
        if let headerLength = answer.headerLength {
            headers.add(name: BinaryTensorData.headerLengthField, value: String(headerLength))
        }
        if let allowed = answer.allow { headers.add(name: "allow", value: allowed.rawValue) }
        if !keepAlive { headers.add(name: "connection", value: "close") }
        else if head.version == .http1_0 { headers.add(name: "connection", value: "keep-alive") }

        state.count("http.responses.\(answer.status.code / 100)xx")
        if let reason = answer.refusal { state.count("http.refused.\(reason)") }
        phase = keepAlive ? .idle : .closing
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: answer.status, headers: headers))),
                      promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: answer.body)))), promise: nil)
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    // MARK: Errors and idleness

    /// NIO's decoder refuses malformed HTTP and heads past `headerBytesMax`; the decoder closes
    /// the connection right after, so the answer is written now, if none is under way.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.close(promise: nil)
            return
        }
        let head: HTTPRequestHead
        switch phase {
        case .idle: head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")
        case let .reading(requestHead, _, _), let .skipping(requestHead, _): head = requestHead
        case .waiting, .closing:
            context.close(promise: nil)
            return
        }
        if case .idle = phase { state.count("http.requests") } // else its head was counted
        var answer = parserError == .headerOverflow
            ? InferenceHTTPAnswer.error(.requestHeaderFieldsTooLarge,
                                        "the request line and headers pass \(state.settings.headerBytesMax) bytes", reason: "header_too_large")
            : InferenceHTTPAnswer.error(.badRequest, "malformed HTTP: \(parserError)", reason: "malformed_http")
        answer.closes = true
        write(answer, for: head, context: context)
    }

    /// `IdleStateHandler`'s read timeout: close unless a call is under way (it has its own timeout).
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        if case .waiting = phase { return }
        state.count("http.closed_idle")
        context.close(promise: nil)
    }
}
