import CLibUV
import StarlingMembership
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One libuv loop, run on the thread that calls `run`.
///
/// Not thread-safe, by design: a peer is one loop on one thread, and every handle, callback and
/// machine input happens there. Several runtimes may share one loop (tests do); several loops may
/// run on several threads, each owning its handles.
public final class EventLoop {
    let raw: UnsafeMutablePointer<uv_loop_t>
    /// The receive buffer of every socket on this loop. libuv calls a handle's allocation callback
    /// right before its read callback on this one thread, and the read callback copies what it
    /// keeps, so one buffer serves all reads: nothing is allocated or freed per datagram.
    let receiveBuffer: UnsafeMutableRawBufferPointer
    public private(set) var isClosed = false

    public init() throws {
        raw = UVHandle.allocate(uv_loop_t.self)
        let status = uv_loop_init(raw)
        guard status == 0 else {
            UVHandle.release(raw)
            throw RuntimeError.libuv("cannot create an event loop", status)
        }
        receiveBuffer = .allocate(byteCount: RuntimeLimits.receiveBufferBytes, alignment: 16)
        raw.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    }

    deinit { close() }

    /// The loop an owned handle belongs to, from inside a callback.
    static func of(_ loop: UnsafeMutablePointer<uv_loop_t>?) -> EventLoop {
        Unmanaged<EventLoop>.fromOpaque(loop!.pointee.data!).takeUnretainedValue()
    }

    /// Monotonic time from `uv_hrtime` (nanoseconds since an arbitrary origin): the `now` of every
    /// machine input.
    public var now: Instant { Instant(nanoseconds: Int64(truncatingIfNeeded: uv_hrtime())) }

    /// Runs until no active handle is left (or `stop`).
    public func run() {
        precondition(!isClosed, "the loop is closed")
        uv_run(raw, UV_RUN_DEFAULT)
    }

    /// Runs until `condition` holds or `timeout` passes; true when the condition held. For tests and
    /// tools that wait on something the loop produces. A 10 ms tick re-checks the condition, so it
    /// may also depend on other threads.
    @discardableResult
    public func run(until condition: () -> Bool, timeout: Duration) -> Bool {
        precondition(!isClosed, "the loop is closed")
        let deadline = now + timeout
        guard let tick = try? LoopTimer(loop: self) else { return condition() }
        defer { tick.close() }
        tick.start(after: .milliseconds(10), repeating: .milliseconds(10)) {}
        while !condition() {
            if now >= deadline { return false }
            uv_run(raw, UV_RUN_ONCE)
        }
        return true
    }

    /// Makes a running `run()` return after the current iteration.
    public func stop() { uv_stop(raw) }

    /// Closes every handle still open (`uv_walk` + `uv_close`), runs the loop until their close
    /// callbacks have run, then closes the loop and frees it. Safe to call twice.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        uv_walk(raw, { handle, _ in
            guard let handle else { return }
            // Through the owner when there is one, so it marks itself closed (a runtime released
            // after its loop must not close the same handles again).
            if let data = handle.pointee.data,
               let owner = Unmanaged<AnyObject>.fromOpaque(data).takeUnretainedValue() as? UVHandleOwner {
                owner.close()
            }
            UVHandle.close(handle)
        }, nil)
        while uv_run(raw, UV_RUN_DEFAULT) != 0 {}
        let status = uv_loop_close(raw)
        assert(status == 0, "uv_loop_close: \(UVStatus.text(status))")
        UVHandle.release(raw)
        receiveBuffer.deallocate()
    }
}
