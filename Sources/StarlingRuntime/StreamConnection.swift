import CLibUV
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One stream connection (TCP, or a Unix socket for the local API): connect or accept, read, write,
/// shut down, close, with one deadline. It moves bytes only; framing belongs to its owner.
///
/// Every event reaches the owner through `onEvent`, on the loop thread, and none after `close()`:
/// an owner that closes a connection is done with it.
final class StreamConnection: UVHandleOwner {
    enum Event {
        case connected
        case received([UInt8])
        /// The other side closed its end (or a read failed): no more bytes will come.
        case endOfStream
        /// A libuv status for a failed connect, read, write or shutdown.
        case failed(Operation, Int32)
        /// Everything queued so far was handed to the kernel.
        case wrote
        /// The shutdown asked for (after the last write) completed.
        case shutDown
        case deadlinePassed
    }

    enum Operation: String { case connect, read, write, shutdown }

    enum Kind { case tcp, pipe }

    let kind: Kind
    private let handle: UnsafeMutablePointer<uv_stream_t>
    private let deadline: LoopTimer
    private let writeBudget: ByteBudget
    /// Sizes of writes in flight, oldest first (libuv completes a stream's writes in order), so
    /// each completion returns its bytes to the shared budget.
    private var writesInFlight: [Int] = []
    var onEvent: ((Event) -> Void)?
    private(set) var isClosed = false

    init(loop: EventLoop, kind: Kind, writeBudget: ByteBudget) throws {
        self.kind = kind
        self.writeBudget = writeBudget
        let status: Int32
        switch kind {
        case .tcp:
            let tcp = UVHandle.allocate(uv_tcp_t.self)
            status = uv_tcp_init(loop.raw, tcp)
            handle = UVHandle.stream(tcp)
        case .pipe:
            let pipe = UVHandle.allocate(uv_pipe_t.self)
            status = uv_pipe_init(loop.raw, pipe, 0)
            handle = UVHandle.stream(pipe)
        }
        guard status == 0 else {
            UVHandle.release(handle)
            throw RuntimeError.libuv("cannot create a stream", status)
        }
        do {
            deadline = try LoopTimer(loop: loop)
        } catch {
            UVHandle.close(handle)
            throw error
        }
        UVHandle.attach(self, to: handle)
    }

    /// The address of the other end of a TCP connection.
    var remoteAddress: SocketAddress? {
        guard !isClosed, kind == .tcp else { return nil }
        var name = sockaddr_storage()
        var length = Int32(MemoryLayout<sockaddr_storage>.size)
        return withUnsafeMutablePointer(to: &name) { storage in
            storage.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                let tcp = UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_tcp_t.self)
                return uv_tcp_getpeername(tcp, pointer, &length) == 0 ? SocketAddress(UnsafePointer(pointer)) : nil
            }
        }
    }

    /// Starts a TCP connect; `.connected` or `.failed(.connect, …)` follows.
    func connect(to address: SocketAddress) {
        precondition(kind == .tcp)
        let request = UVHandle.allocate(uv_connect_t.self)
        let tcp = UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_tcp_t.self)
        let status = address.withSockaddr { pointer in
            uv_tcp_connect(request, tcp, pointer) { request, status in
                let stream = request!.pointee.handle
                UVHandle.release(request!)
                UVHandle.owner(of: stream, as: StreamConnection.self)?.connectCompleted(status)
            }
        }
        if status != 0 {
            UVHandle.release(request)
            // Report on the next turn, never from inside the caller's call.
            failLater(.connect, status)
        }
    }

    /// Takes the pending connection of `listener`. Returns a libuv status.
    func accept(from listener: UnsafeMutablePointer<uv_stream_t>) -> Int32 {
        uv_accept(listener, handle)
    }

    func startReading() {
        guard !isClosed else { return }
        let status = uv_read_start(handle, { handle, _, buffer in
            let loop = EventLoop.of(handle!.pointee.loop)
            buffer!.pointee = uv_buf_init(
                loop.receiveBuffer.baseAddress!.assumingMemoryBound(to: CChar.self), UInt32(loop.receiveBuffer.count))
        }, { stream, count, buffer in
            // The buffer is the loop's shared one: nothing to free.
            UVHandle.owner(of: stream, as: StreamConnection.self)?.readCompleted(count, buffer)
        })
        if status != 0 { failLater(.read, status) }
    }

    func stopReading() {
        guard !isClosed else { return }
        uv_read_stop(handle)
    }

    enum WriteResult: Equatable { case queued, overBudget, failed(Int32) }

    /// Queues the concatenation of `parts` (a length prefix and a body, say) as one write.
    func write(_ parts: [UInt8]...) -> WriteResult {
        guard !isClosed else { return .failed(UVStatus.cancelled) }
        let total = parts.reduce(0) { $0 + $1.count }
        guard writeBudget.reserve(total) else { return .overBudget }
        // One allocation holds the request and a copy of the bytes; the callback frees both.
        let headerBytes = MemoryLayout<uv_write_t>.stride
        guard let block = calloc(1, headerBytes + max(total, 1)) else { fatalError("out of memory for a write") }
        let request = block.bindMemory(to: uv_write_t.self, capacity: 1)
        var offset = headerBytes
        for part in parts where !part.isEmpty {
            part.withUnsafeBytes { (block + offset).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            offset += part.count
        }
        var buffer = uv_buf_init((block + headerBytes).assumingMemoryBound(to: CChar.self), UInt32(total))
        let status = uv_write(request, handle, &buffer, 1) { request, status in
            let stream = request!.pointee.handle
            UVHandle.release(request!)
            UVHandle.owner(of: stream, as: StreamConnection.self)?.writeCompleted(status)
        }
        guard status == 0 else {
            free(block)
            writeBudget.release(total)
            return .failed(status)
        }
        writesInFlight.append(total)
        return .queued
    }

    /// Half-closes after the queued writes: the other side reads them, then end of stream.
    func shutdown() {
        guard !isClosed else { return }
        let request = UVHandle.allocate(uv_shutdown_t.self)
        let status = uv_shutdown(request, handle) { request, status in
            let stream = request!.pointee.handle
            UVHandle.release(request!)
            UVHandle.owner(of: stream, as: StreamConnection.self)?.shutdownCompleted(status)
        }
        if status != 0 {
            UVHandle.release(request)
            failLater(.shutdown, status)
        }
    }

    /// `.deadlinePassed` after `delay`, unless set again or closed first.
    func setDeadline(after delay: Duration) {
        deadline.start(after: delay) { [weak self] in
            guard let self, !self.isClosed else { return }
            self.onEvent?(.deadlinePassed)
        }
    }

    /// No deadline any more (a connection kept open for as long as its owner wants).
    func clearDeadline() { deadline.stop() }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        onEvent = nil
        deadline.close()
        UVHandle.close(handle)
    }

    // MARK: Callbacks

    private func connectCompleted(_ status: Int32) {
        guard !isClosed else { return }
        onEvent?(status == 0 ? .connected : .failed(.connect, status))
    }

    private func readCompleted(_ count: Int, _ buffer: UnsafePointer<uv_buf_t>?) {
        guard !isClosed else { return }
        if count > 0 {
            onEvent?(.received([UInt8](UnsafeRawBufferPointer(start: buffer?.pointee.base, count: count))))
        } else if count == Int(UVStatus.endOfFile) {
            uv_read_stop(handle)
            onEvent?(.endOfStream)
        } else if count < 0 {
            uv_read_stop(handle)
            onEvent?(.failed(.read, Int32(count)))
        }
    }

    private func writeCompleted(_ status: Int32) {
        // Runs even after close (libuv cancels pending writes): the budget must get its bytes back.
        if !writesInFlight.isEmpty { writeBudget.release(writesInFlight.removeFirst()) }
        guard !isClosed else { return }
        if status != 0 {
            onEvent?(.failed(.write, status))
        } else if writesInFlight.isEmpty {
            onEvent?(.wrote)
        }
    }

    private func shutdownCompleted(_ status: Int32) {
        guard !isClosed else { return }
        onEvent?(status == 0 ? .shutDown : .failed(.shutdown, status))
    }

    private func failLater(_ operation: Operation, _ status: Int32) {
        deadline.start(after: .zero) { [weak self] in
            guard let self, !self.isClosed else { return }
            self.onEvent?(.failed(operation, status))
        }
    }
}
