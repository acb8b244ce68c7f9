import CLibUV
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The peer's UDP socket: gossip and probes, datagrams of at most `RuntimeLimits.datagramBytesMax`.
///
/// Sends use `uv_udp_try_send`: a datagram the kernel cannot take at once is dropped and counted, as
/// the network would drop it. SWIM tolerates loss, and there is no user-space send queue to bound.
final class UDPSocket: UVHandleOwner {
    private let handle: UnsafeMutablePointer<uv_udp_t>
    private let counters: RuntimeCounters
    /// Where the socket is bound (with the actual port when asked for port 0).
    let localAddress: SocketAddress
    var onDatagram: (([UInt8], SocketAddress) -> Void)?
    private(set) var isClosed = false

    init(loop: EventLoop, bindTo address: SocketAddress, counters: RuntimeCounters) throws {
        self.counters = counters
        let handle = UVHandle.allocate(uv_udp_t.self)
        self.handle = handle
        let status = uv_udp_init(loop.raw, handle)
        guard status == 0 else {
            UVHandle.release(handle)
            throw RuntimeError.libuv("cannot create a UDP socket", status)
        }
        var bound = address
        var failure: RuntimeError?
        let bindStatus = address.withSockaddr { uv_udp_bind(handle, $0, 0) }
        if bindStatus != 0 {
            failure = .libuv("cannot bind UDP \(address)", bindStatus)
        } else {
            var name = sockaddr_storage()
            var length = Int32(MemoryLayout<sockaddr_storage>.size)
            let nameStatus = withUnsafeMutablePointer(to: &name) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { uv_udp_getsockname(handle, $0, &length) }
            }
            if nameStatus == 0, let actual = withUnsafePointer(to: &name, {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress($0) }
            }) {
                bound = actual
            }
        }
        localAddress = bound
        if let failure {
            UVHandle.close(handle)
            isClosed = true
            throw failure
        }
        UVHandle.attach(self, to: handle)
        let receiveStatus = uv_udp_recv_start(handle, { handle, _, buffer in
            let loop = EventLoop.of(handle!.pointee.loop)
            buffer!.pointee = uv_buf_init(
                loop.receiveBuffer.baseAddress!.assumingMemoryBound(to: CChar.self), UInt32(loop.receiveBuffer.count))
        }, { handle, count, buffer, sender, flags in
            UVHandle.owner(of: handle, as: UDPSocket.self)?.received(count: count, buffer: buffer, from: sender, flags: flags)
        })
        guard receiveStatus == 0 else {
            close()
            throw RuntimeError.libuv("cannot receive on UDP \(address)", receiveStatus)
        }
    }

    /// Sends one datagram now, or drops it (counted) if it is too large or the kernel refuses it.
    func send(_ bytes: [UInt8], to destination: SocketAddress) {
        guard !isClosed else { return }
        guard bytes.count <= RuntimeLimits.datagramBytesMax else {
            counters.increment("udp.send.dropped.too_large")
            return
        }
        // A dual-stack IPv6 socket reaches IPv4 peers through their mapped address.
        let target = localAddress.isIPv6 ? destination.mappedToIPv6 : destination
        let status = bytes.withUnsafeBytes { raw -> Int32 in
            var buffer = uv_buf_init(
                UnsafeMutablePointer(mutating: raw.baseAddress?.assumingMemoryBound(to: CChar.self)), UInt32(raw.count))
            return target.withSockaddr { uv_udp_try_send(handle, &buffer, 1, $0) }
        }
        if status >= 0 {
            counters.increment("udp.sent")
        } else if status == UVStatus.wouldBlock {
            counters.increment("udp.send.dropped.would_block")
        } else {
            counters.increment("udp.send.dropped.error")
        }
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        onDatagram = nil
        UVHandle.close(handle)
    }

    private func received(count: Int, buffer: UnsafePointer<uv_buf_t>?, from sender: UnsafePointer<sockaddr>?, flags: UInt32) {
        // The buffer is the loop's shared one: nothing to free here, whatever the outcome.
        guard !isClosed else { return }
        if count < 0 {
            counters.increment("udp.receive.errors")
            return
        }
        // count == 0 with no sender means "nothing more to read"; with a sender, an empty datagram.
        guard let source = SocketAddress(sender) else { return }
        guard flags & UInt32(UV_UDP_PARTIAL.rawValue) == 0, count <= RuntimeLimits.datagramBytesMax else {
            counters.increment("udp.receive.dropped.too_large")
            return
        }
        let bytes = [UInt8](UnsafeRawBufferPointer(start: buffer?.pointee.base, count: count))
        counters.increment("udp.received")
        onDatagram?(bytes, source)
    }
}
