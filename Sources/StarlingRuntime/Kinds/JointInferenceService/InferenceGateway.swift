import CLibUV
import Foundation
import StarlingPeer

/// What a caller on another thread (the HTTP endpoint's) may ask the loop's data plane.
public enum GatewayCall: Sendable {
    case infer(service: String, values: [Float], rows: Int, features: Int,
               reply: @Sendable (Result<InferOutcome, InferRefusal>) -> Void)
    case describe(service: String, reply: @Sendable (ServiceDescription?) -> Void)
}

/// A served service as the HTTP endpoint describes it (`GET /v2/models/NAME`).
public struct ServiceDescription: Sendable, Equatable {
    public let name: String
    /// The edge worker serves a model now.
    public let ready: Bool
    /// The deployment version it serves (0: none yet).
    public let version: UInt64
}

/// The door from other threads into the loop's data plane: calls are queued under a lock and the
/// loop is woken with `uv_async_send` (the only libuv call that is safe from another thread); the
/// loop takes them all at once and answers through each call's `reply`, which may run on the loop's
/// thread (callers hop back to their own). After the runtime stops, calls are answered "unavailable"
/// at once.
public final class InferenceGateway: @unchecked Sendable {
    private let lock = NSLock()
    private var pending: [GatewayCall] = []
    private var closed = false
    /// The loop's side; touched on the loop's thread only.
    private let mailbox: GatewayMailbox

    init(loop: EventLoop, receive: @escaping (GatewayCall) -> Void) throws {
        mailbox = try GatewayMailbox(loop: loop)
        mailbox.drain = { [unowned self] in
            for call in self.take() { receive(call) }
        }
    }

    /// Queues a call for the loop (any thread).
    public func submit(_ call: GatewayCall) {
        lock.lock()
        guard !closed else {
            lock.unlock()
            return Self.refuse(call)
        }
        pending.append(call)
        mailbox.wake()
        lock.unlock()
    }

    /// Loop thread: no more calls; those queued are answered "unavailable".
    func close() {
        lock.lock()
        closed = true
        let left = pending
        pending = []
        lock.unlock()
        mailbox.close()
        for call in left { Self.refuse(call) }
    }

    private func take() -> [GatewayCall] {
        lock.lock()
        defer { lock.unlock() }
        let calls = pending
        pending = []
        return calls
    }

    private static func refuse(_ call: GatewayCall) {
        switch call {
        case let .infer(_, _, _, _, reply): reply(.failure(.unavailable("the peer is stopping")))
        case let .describe(_, reply): reply(nil)
        }
    }
}

/// The libuv async handle behind `InferenceGateway` (woken from any thread, drained on the loop).
final class GatewayMailbox: UVHandleOwner {
    private let handle: UnsafeMutablePointer<uv_async_t>
    private var isClosed = false
    var drain: (() -> Void)?

    init(loop: EventLoop) throws {
        handle = UVHandle.allocate(uv_async_t.self)
        let status = uv_async_init(loop.raw, handle) { async in
            UVHandle.owner(of: async, as: GatewayMailbox.self)?.drain?()
        }
        guard status == 0 else {
            UVHandle.release(handle)
            throw RuntimeError.libuv("cannot create an async handle", status)
        }
        UVHandle.attach(self, to: handle)
        // Waiting for calls must not keep a stopping loop alive.
        uv_unref(UVHandle.generic(handle))
    }

    /// Any thread, under the gateway's lock (so never after `close`).
    func wake() { uv_async_send(handle) }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        drain = nil
        UVHandle.close(handle)
    }
}
