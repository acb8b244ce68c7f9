import StarlingBlobs
import StarlingMembership
import StarlingPeer

/// Request/response over TCP, one exchange per connection, for one runtime.
///
/// Outbound (`sendRequest`): connect, write one frame, read one frame, close; exactly one
/// `responseReceived` per request, success or the reason it failed. Inbound: accept, read one
/// frame within `inboundReadTimeout`, hand it to the machine (`requestReceived`), write the frame it
/// answers with (`sendReply`), shut down, close.
///
/// Everything a remote peer could make us hold is bounded (`RuntimeLimits`): connections each way,
/// time per phase, bytes buffered for reading and queued for writing. What goes over is refused and
/// counted under `tcp.*`.
final class StreamExchanges {
    private let loop: EventLoop
    private let counters: RuntimeCounters
    private let listener: StreamListener
    private let writeBudget: ByteBudget
    private let readBudget: ByteBudget
    /// Hands an input to the machine (the runtime queues it; never re-entrant).
    private let deliver: (PeerInput) -> Void

    /// Outbound exchanges are the machine's (by its `ExchangeID`) or a callback's (blobs).
    private enum OutboundKey: Hashable {
        case machine(ExchangeID)
        case callback(UInt64)
    }

    private struct Outbound {
        let connection: StreamConnection
        /// Where the one result goes.
        let report: (Result<[UInt8], ExchangeFailure>) -> Void
        var decoder = FrameDecoder()
        /// Bytes of `readBudget` this exchange holds.
        var reservedBytes = 0
        let destination: PeerAddress
    }

    private enum InboundPhase { case reading, awaitingReply, writing }

    private struct Inbound {
        let connection: StreamConnection
        let peer: PeerAddress
        var decoder = FrameDecoder()
        var reservedBytes = 0
        var phase = InboundPhase.reading
    }

    private var outbound: [OutboundKey: Outbound] = [:]
    private var nextCallbackID: UInt64 = 1
    /// Blob requests (`BlobSealing.isBlobRequest`) go here instead of to the machine, when set.
    var blobRequestHandler: ((_ request: [UInt8], _ reply: @escaping ([UInt8]) -> Void) -> Void)?
    /// Inference requests (`InferenceSealing.isInferRequest`) go here instead of to the machine, when set.
    var inferRequestHandler: ((_ request: [UInt8], _ reply: @escaping ([UInt8]) -> Void) -> Void)?
    private var inbound: [ReplyID: Inbound] = [:]
    private var nextReplyID: UInt64 = 1
    private(set) var isClosed = false

    init(loop: EventLoop, listenOn address: SocketAddress, counters: RuntimeCounters,
         writeBudget: ByteBudget, readBudget: ByteBudget, deliver: @escaping (PeerInput) -> Void) throws {
        self.loop = loop
        self.counters = counters
        self.writeBudget = writeBudget
        self.readBudget = readBudget
        self.deliver = deliver
        listener = try StreamListener(loop: loop, tcp: address)
        listener.onConnection = { [unowned self] in self.accept() }
    }

    var inboundCount: Int { inbound.count }
    var outboundCount: Int { outbound.count }

    /// Closes the listener and every connection; no further input is delivered (the machine is
    /// stopping, so pending requests get no response).
    func close() {
        guard !isClosed else { return }
        isClosed = true
        listener.close()
        for (_, exchange) in outbound {
            readBudget.release(exchange.reservedBytes)
            exchange.connection.close()
        }
        for (_, exchange) in inbound {
            readBudget.release(exchange.reservedBytes)
            exchange.connection.close()
        }
        outbound.removeAll()
        inbound.removeAll()
    }

    // MARK: Outbound

    func request(_ id: ExchangeID, _ body: [UInt8], to destination: PeerAddress, timeout: Duration) {
        guard !isClosed else { return }
        start(.machine(id), body, to: destination, timeout: timeout) { [unowned self] in
            self.deliver(.responseReceived(id, $0))
        }
    }

    /// The same exchange for the runtime's own users (blobs): `completion` runs exactly once, on the
    /// loop, at once when the request is refused (or this is closed).
    func request(_ body: [UInt8], to destination: PeerAddress, timeout: Duration,
                 completion: @escaping (Result<[UInt8], ExchangeFailure>) -> Void) {
        guard !isClosed else { return completion(.failure(.closed("the runtime is stopping"))) }
        let key = OutboundKey.callback(nextCallbackID)
        nextCallbackID += 1
        start(key, body, to: destination, timeout: timeout, report: completion)
    }

    private func start(_ id: OutboundKey, _ body: [UInt8], to destination: PeerAddress, timeout: Duration,
                       report: @escaping (Result<[UInt8], ExchangeFailure>) -> Void) {
        func refuse(_ counter: String, _ failure: ExchangeFailure) {
            counters.increment("tcp.outbound.refused.\(counter)")
            report(.failure(failure))
        }
        guard outbound[id] == nil else {
            return refuse("duplicate_id", .closed("a request with this exchange id is already in flight"))
        }
        guard body.count <= RuntimeLimits.frameBytesMax else { return refuse("too_large", .tooLarge) }
        guard let address = try? SocketAddress(destination) else {
            return refuse("not_literal", .unreachable("\(destination) is not an IP address literal"))
        }
        guard outbound.count < RuntimeLimits.outboundConnectionsMax else {
            return refuse("connection_limit", .unreachable(
                "local limit: \(RuntimeLimits.outboundConnectionsMax) outbound requests already in flight"))
        }
        let connection: StreamConnection
        do {
            connection = try StreamConnection(loop: loop, kind: .tcp, writeBudget: writeBudget)
        } catch {
            return refuse("error", .unreachable("\(error)"))
        }
        outbound[id] = Outbound(connection: connection, report: report, destination: destination)
        counters.increment("tcp.outbound.started")
        connection.onEvent = { [unowned self] event in self.outboundEvent(id, event) }
        connection.setDeadline(after: timeout)
        connection.connect(to: address)
        // libuv queues a write made while the connect is pending and sends it once connected.
        switch connection.write(FrameCodec.prefix(forBodyOf: body.count), body) {
        case .queued:
            break
        case .overBudget:
            finish(id, .failure(.unreachable(
                "local limit: \(RuntimeLimits.writeQueuedBytesMax) bytes already queued for writing")),
                counter: "write_queue_full")
        case .failed:
            break  // the connect failed at once; its failure is reported on the next turn.
        }
    }

    private func outboundEvent(_ id: OutboundKey, _ event: StreamConnection.Event) {
        guard var exchange = outbound[id] else { return }
        switch event {
        case .connected:
            exchange.connection.startReading()
        case let .received(bytes):
            guard readBudget.reserve(bytes.count) else {
                return finish(id, .failure(.closed("local limit: read buffers are full")), counter: "read_buffer_full")
            }
            exchange.reservedBytes += bytes.count
            do {
                let frame = try exchange.decoder.append(bytes)
                outbound[id] = exchange
                if let frame { finish(id, .success(frame), counter: nil) }
            } catch {
                outbound[id] = exchange
                finish(id, .failure(.tooLarge), counter: "too_large")
            }
        case .endOfStream:
            finish(id, .failure(.closed("\(exchange.destination) closed the connection before responding")),
                   counter: "closed")
        case let .failed(.connect, status):
            finish(id, .failure(.unreachable("\(exchange.destination): \(UVStatus.text(status))")), counter: "unreachable")
        case let .failed(operation, status):
            finish(id, .failure(.closed("\(exchange.destination): \(operation.rawValue) failed: \(UVStatus.text(status))")),
                   counter: "closed")
        case .deadlinePassed:
            finish(id, .failure(.timedOut), counter: "timed_out")
        case .wrote, .shutDown:
            break
        }
    }

    private func finish(_ id: OutboundKey, _ result: Result<[UInt8], ExchangeFailure>, counter: String?) {
        guard let exchange = outbound.removeValue(forKey: id) else { return }
        readBudget.release(exchange.reservedBytes)
        exchange.connection.close()
        counters.increment(counter.map { "tcp.outbound.failed.\($0)" } ?? "tcp.outbound.completed")
        exchange.report(result)
    }

    // MARK: Inbound

    private func accept() {
        guard let connection = listener.accept(writeBudget: writeBudget) else {
            counters.increment("tcp.inbound.accept_errors")
            return
        }
        guard inbound.count < RuntimeLimits.inboundConnectionsMax else {
            counters.increment("tcp.inbound.refused.connection_limit")
            connection.close()
            return
        }
        guard let peer = connection.remoteAddress?.peerAddress else {
            counters.increment("tcp.inbound.accept_errors")
            connection.close()
            return
        }
        let id = ReplyID(nextReplyID)
        nextReplyID += 1
        inbound[id] = Inbound(connection: connection, peer: peer)
        counters.increment("tcp.inbound.accepted")
        connection.onEvent = { [unowned self] event in self.inboundEvent(id, event) }
        connection.setDeadline(after: RuntimeLimits.inboundReadTimeout)
        connection.startReading()
    }

    private func inboundEvent(_ id: ReplyID, _ event: StreamConnection.Event) {
        guard var exchange = inbound[id] else { return }
        switch event {
        case let .received(bytes) where exchange.phase == .reading:
            guard readBudget.reserve(bytes.count) else { return drop(id, counter: "read_buffer_full") }
            exchange.reservedBytes += bytes.count
            let frame: [UInt8]?
            do {
                frame = try exchange.decoder.append(bytes)
            } catch {
                inbound[id] = exchange
                return drop(id, counter: "too_large")
            }
            guard let frame else {
                inbound[id] = exchange
                return
            }
            readBudget.release(exchange.reservedBytes)
            exchange.reservedBytes = 0
            exchange.phase = .awaitingReply
            inbound[id] = exchange
            exchange.connection.stopReading()
            exchange.connection.setDeadline(after: RuntimeLimits.inboundReplyTimeout)
            counters.increment("tcp.inbound.requests")
            if let blobRequestHandler, BlobSealing.isBlobRequest(frame) {
                return blobRequestHandler(frame) { [weak self] body in self?.reply(id, body) }
            }
            if let inferRequestHandler, InferenceSealing.isInferRequest(frame) {
                return inferRequestHandler(frame) { [weak self] body in self?.reply(id, body) }
            }
            deliver(.requestReceived(id, frame, from: exchange.peer))
        case .received:
            break  // bytes after the request frame: ignored (one frame per connection).
        case .endOfStream:
            drop(id, counter: exchange.phase == .reading ? "peer_closed" : "peer_closed_before_reply")
        case .failed:
            drop(id, counter: "error")
        case .deadlinePassed:
            switch exchange.phase {
            case .reading: drop(id, counter: "read_timeout")
            case .awaitingReply: drop(id, counter: "reply_timeout")
            case .writing: drop(id, counter: "write_timeout")
            }
        case .wrote:
            exchange.connection.shutdown()
        case .shutDown:
            inbound.removeValue(forKey: id)
            exchange.connection.close()
            counters.increment("tcp.inbound.replied")
        case .connected:
            break
        }
    }

    /// Answers an inbound request. A reply to an id that is unknown, already answered, timed out or
    /// closed is dropped and counted.
    func reply(_ id: ReplyID, _ body: [UInt8]) {
        guard !isClosed else { return }
        guard var exchange = inbound[id], exchange.phase == .awaitingReply else {
            counters.increment("tcp.reply.dropped.unknown_id")
            return
        }
        guard body.count <= RuntimeLimits.frameBytesMax else {
            counters.increment("tcp.reply.dropped.too_large")
            return drop(id, counter: nil)
        }
        switch exchange.connection.write(FrameCodec.prefix(forBodyOf: body.count), body) {
        case .queued:
            exchange.phase = .writing
            inbound[id] = exchange
            exchange.connection.setDeadline(after: RuntimeLimits.replyWriteTimeout)
        case .overBudget:
            counters.increment("tcp.reply.dropped.write_queue_full")
            drop(id, counter: nil)
        case .failed:
            counters.increment("tcp.reply.dropped.error")
            drop(id, counter: nil)
        }
    }

    private func drop(_ id: ReplyID, counter: String?) {
        guard let exchange = inbound.removeValue(forKey: id) else { return }
        readBudget.release(exchange.reservedBytes)
        exchange.connection.close()
        if let counter { counters.increment("tcp.inbound.closed.\(counter)") }
    }
}

extension StreamExchanges: BlobTransport {
    func sendBlobRequest(_ body: [UInt8], to destination: PeerAddress, timeout: Duration,
                         completion: @escaping (Result<[UInt8], ExchangeFailure>) -> Void) {
        request(body, to: destination, timeout: timeout, completion: completion)
    }

    var queuedWriteBytes: Int { writeBudget.used }
}
