import CLibUV
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process started with `uv_spawn`: stdin from /dev/null, stdout and stderr read through
/// pipes and handed to `onOutput` (with which of the two it came from), `onExit` called once with
/// its status. The pipes and the process
/// handle follow `UVHandle`'s memory convention.
final class ChildProcess: UVHandleOwner {
    private(set) var pid: Int32 = 0
    private let process: UnsafeMutablePointer<uv_process_t>
    private var pipes: [UnsafeMutablePointer<uv_pipe_t>] = []
    private var onOutput: ((_ bytes: [UInt8], _ isStandardError: Bool) -> Void)?
    private var onExit: ((_ status: Int64, _ signal: Int32) -> Void)?
    private(set) var hasExited = false
    private var isClosed = false
    private var openPipes = 0
    private var exitStatus: (Int64, Int32)?

    /// Starts `arguments[0]` (a path, or a name searched in PATH) in `directory` with exactly
    /// `environment` (KEY=VALUE strings).
    init(loop: EventLoop, arguments: [String], environment: [String], directory: String?,
         onOutput: @escaping (_ bytes: [UInt8], _ isStandardError: Bool) -> Void, onExit: @escaping (_ status: Int64, _ signal: Int32) -> Void) throws {
        precondition(!arguments.isEmpty, "a process needs a program")
        // libuv learns of exits through SIGCHLD. A peer started by a program that blocks it (Foundation's
        // Process passes its thread's mask on; test runners block most signals) would never hear of
        // a worker's exit: unblock it on the loop's thread.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGCHLD)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        let process = UVHandle.allocate(uv_process_t.self)
        self.process = process
        self.onOutput = onOutput
        self.onExit = onExit
        var created: [UnsafeMutablePointer<uv_pipe_t>] = []
        for _ in 0..<2 {
            let pipe = UVHandle.allocate(uv_pipe_t.self)
            let status = uv_pipe_init(loop.raw, pipe, 0)
            guard status == 0 else {
                UVHandle.release(pipe)
                created.forEach { UVHandle.close($0) }
                UVHandle.release(process)
                throw RuntimeError.libuv("cannot create a pipe for a worker", status)
            }
            created.append(pipe)
        }
        pipes = created
        let cArguments = arguments.map { strdup($0) } + [nil]
        let cEnvironment = environment.map { strdup($0) } + [nil]
        defer {
            cArguments.forEach { free($0) }
            cEnvironment.forEach { free($0) }
        }
        var stdio = [uv_stdio_container_t](repeating: uv_stdio_container_t(), count: 3)
        stdio[0].flags = UV_IGNORE
        for index in 0..<2 {
            stdio[index + 1].flags = uv_stdio_flags(rawValue: UV_CREATE_PIPE.rawValue | UV_WRITABLE_PIPE.rawValue)
            stdio[index + 1].data.stream = UVHandle.stream(created[index])
        }
        let status: Int32 = cArguments.withUnsafeBufferPointer { argv in
            cEnvironment.withUnsafeBufferPointer { envp in
                stdio.withUnsafeMutableBufferPointer { containers in
                    withOptionalCString(directory) { cwd in
                        var options = uv_process_options_t()
                        options.exit_cb = { handle, status, signal in
                            UVHandle.owner(of: handle, as: ChildProcess.self)?.exited(status: status, signal: signal)
                        }
                        options.file = UnsafePointer(argv[0])
                        options.args = UnsafeMutablePointer(mutating: argv.baseAddress)
                        options.env = UnsafeMutablePointer(mutating: envp.baseAddress)
                        options.cwd = cwd
                        options.stdio_count = 3
                        options.stdio = containers.baseAddress
                        return uv_spawn(loop.raw, process, &options)
                    }
                }
            }
        }
        guard status == 0 else {
            created.forEach { UVHandle.close($0) }
            // A failed uv_spawn still initialised the handle: it must be closed, not freed.
            UVHandle.close(process)
            throw RuntimeError.libuv("cannot start \(arguments[0])", status)
        }
        pid = process.pointee.pid
        UVHandle.attach(self, to: process)
        for pipe in created {
            UVHandle.attach(self, to: pipe)
            openPipes += 1
            uv_read_start(UVHandle.stream(pipe), { handle, suggested, buffer in
                guard let handle, let buffer else { return }
                let loop = EventLoop.of(handle.pointee.loop)
                buffer.pointee = uv_buf_init(loop.receiveBuffer.baseAddress!.assumingMemoryBound(to: CChar.self),
                                             UInt32(min(suggested, loop.receiveBuffer.count)))
            }, { stream, count, buffer in
                guard let owner = UVHandle.owner(of: stream, as: ChildProcess.self) else { return }
                if count > 0, let base = buffer?.pointee.base {
                    owner.output(UnsafeRawBufferPointer(start: base, count: count), from: stream!)
                } else if count < 0 {
                    owner.pipeClosed(stream!)
                }
            })
        }
    }

    /// Sends a signal (SIGTERM to ask, SIGKILL to insist); nothing once the process has exited.
    func kill(_ signal: Int32) {
        guard !hasExited, !isClosed else { return }
        uv_process_kill(process, signal)
    }

    /// Kills the process if it still runs, and closes every handle (no callback after this).
    func close() {
        guard !isClosed else { return }
        if !hasExited { uv_process_kill(process, SIGKILL) }
        isClosed = true
        onOutput = nil
        onExit = nil
        pipes.forEach { UVHandle.close($0) }
        UVHandle.close(process)
    }

    private func output(_ bytes: UnsafeRawBufferPointer, from stream: UnsafeMutablePointer<uv_stream_t>) {
        let isStandardError = pipes.count > 1 && UVHandle.stream(pipes[1]) == stream
        onOutput?(Array(bytes), isStandardError)
    }

    private func pipeClosed(_ stream: UnsafeMutablePointer<uv_stream_t>) {
        uv_read_stop(stream)
        openPipes -= 1
        reportExitIfDone()
    }

    private func exited(status: Int64, signal: Int32) {
        hasExited = true
        exitStatus = (status, signal)
        reportExitIfDone()
    }

    /// The exit is reported after both pipes are drained, so the last lines a crashing worker
    /// printed are in its log before the exit is.
    private func reportExitIfDone() {
        guard let (status, signal) = exitStatus, openPipes <= 0 || isClosed else { return }
        let callback = onExit
        onExit = nil
        callback?(status, signal)
    }
}

private func withOptionalCString<Result>(_ text: String?, _ body: (UnsafePointer<CChar>?) -> Result) -> Result {
    guard let text else { return body(nil) }
    return text.withCString { body($0) }
}
