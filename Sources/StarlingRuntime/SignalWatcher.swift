import CLibUV
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SIGINT and SIGTERM as loop events (libuv turns the signal into a callback on the loop thread,
/// so the handler may do anything, unlike a raw signal handler).
final class SignalWatcher: UVHandleOwner {
    private var handles: [UnsafeMutablePointer<uv_signal_t>] = []
    private var onSignal: ((Int32) -> Void)?
    private var isClosed = false

    init(loop: EventLoop, signals: [Int32], onSignal: @escaping (Int32) -> Void) throws {
        self.onSignal = onSignal
        Self.unblock(signals)
        for number in signals {
            let handle = UVHandle.allocate(uv_signal_t.self)
            let status = uv_signal_init(loop.raw, handle)
            guard status == 0 else {
                UVHandle.release(handle)
                close()
                throw RuntimeError.libuv("cannot watch signal \(number)", status)
            }
            UVHandle.attach(self, to: handle)
            handles.append(handle)
            let startStatus = uv_signal_start(handle, { handle, number in
                UVHandle.owner(of: handle, as: SignalWatcher.self)?.received(number)
            }, number)
            guard startStatus == 0 else {
                close()
                throw RuntimeError.libuv("cannot watch signal \(number)", startStatus)
            }
        }
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        onSignal = nil
        for handle in handles { UVHandle.close(handle) }
    }

    private func received(_ number: Int32) {
        guard !isClosed else { return }
        onSignal?(number)
    }

    /// A process inherits its parent's blocked-signal mask: started from a thread that blocks
    /// everything (a libdispatch worker does, so Foundation's `Process` children do), SIGTERM would
    /// stay pending forever and the peer could never be asked to leave. Unblocked on the loop
    /// thread, the one that must receive them.
    private static func unblock(_ signals: [Int32]) {
        var set = sigset_t()
        sigemptyset(&set)
        for number in signals { sigaddset(&set, number) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    static func name(_ number: Int32) -> String {
        switch number {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        default: return "signal \(number)"
        }
    }

    /// Writing to a connection the other side closed raises SIGPIPE, which kills the process by
    /// default; libuv reports the write error (EPIPE) anyway, so the signal is ignored process-wide.
    static func ignoreBrokenPipes() {
        signal(SIGPIPE, SIG_IGN)
    }
}
