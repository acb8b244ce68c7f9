import CLibUV

/// A libuv timer with a Swift action: the runtime's internal deadlines (stream timeouts, the leave
/// grace period, the machine-timer alarm).
final class LoopTimer: UVHandleOwner {
    private let handle: UnsafeMutablePointer<uv_timer_t>
    private let loop: EventLoop
    private var action: (() -> Void)?
    private(set) var isClosed = false

    init(loop: EventLoop) throws {
        self.loop = loop
        handle = UVHandle.allocate(uv_timer_t.self)
        let status = uv_timer_init(loop.raw, handle)
        guard status == 0 else {
            UVHandle.release(handle)
            throw RuntimeError.libuv("cannot create a timer", status)
        }
        UVHandle.attach(self, to: handle)
    }

    /// Runs `action` once after `delay` (rounded up to libuv's millisecond), then every `repeating`
    /// if given. Replaces any pending start.
    func start(after delay: Duration, repeating: Duration? = nil, _ action: @escaping () -> Void) {
        guard !isClosed else { return }
        self.action = action
        // libuv measures from the loop's cached time; refresh it so a long callback before this call
        // does not make the timer fire early.
        uv_update_time(loop.raw)
        uv_timer_start(handle, { timer in
            UVHandle.owner(of: timer, as: LoopTimer.self)?.fire()
        }, Self.milliseconds(delay), repeating.map(Self.milliseconds) ?? 0)
    }

    func stop() {
        guard !isClosed else { return }
        uv_timer_stop(handle)
        action = nil
    }

    /// Does not keep the loop running on its own.
    func unreference() { if !isClosed { uv_unref(UVHandle.generic(handle)) } }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        action = nil
        UVHandle.close(handle)
    }

    private func fire() {
        guard !isClosed else { return }
        action?()
    }

    /// Whole milliseconds, rounded up so a timer never fires before its delay.
    static func milliseconds(_ duration: Duration) -> UInt64 {
        let nanoseconds = duration.nanoseconds
        guard nanoseconds > 0 else { return 0 }
        return UInt64(nanoseconds / 1_000_000) + (nanoseconds % 1_000_000 == 0 ? 0 : 1)
    }
}
