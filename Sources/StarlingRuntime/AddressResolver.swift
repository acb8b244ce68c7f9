import CLibUV
import StarlingMembership
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns `host:port` into an IP-literal `PeerAddress`, once, before the loop starts.
///
/// The runtime itself only ever sends to IP literals (`SocketAddress`): resolving on every datagram
/// would block or complicate the loop, and gossip must carry addresses every peer reads the same
/// way. So the CLI resolves `--listen`, `--advertise` and `--bootstrap` here, with `uv_getaddrinfo`
/// in its synchronous form (no callback), and hands the runtime literals.
public enum AddressResolver {
    /// The address itself when it is already a literal; otherwise the first address the system
    /// resolver gives for the name (IPv4 first when both exist, as most LAN peers listen on IPv4).
    public static func resolve(_ address: PeerAddress, on loop: EventLoop) throws -> PeerAddress {
        if let literal = try? SocketAddress(address) { return literal.peerAddress }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        let request = UVHandle.allocate(uv_getaddrinfo_t.self)
        defer { UVHandle.release(request) }
        let status = uv_getaddrinfo(loop.raw, request, nil, address.host, String(address.port), &hints)
        guard status == 0 else {
            throw RuntimeError("cannot resolve '\(address.host)': \(UVStatus.text(status)) "
                + "(give an IPv4 or IPv6 address, or a name the system resolver knows)")
        }
        defer { uv_freeaddrinfo(request.pointee.addrinfo) }
        var candidates: [SocketAddress] = []
        var next = request.pointee.addrinfo
        while let info = next {
            if let found = SocketAddress(UnsafePointer(info.pointee.ai_addr)) { candidates.append(found) }
            next = info.pointee.ai_next
        }
        guard let chosen = candidates.first(where: { !$0.isIPv6 }) ?? candidates.first else {
            throw RuntimeError("cannot resolve '\(address.host)': no IPv4 or IPv6 address")
        }
        return PeerAddress(host: chosen.host, port: address.port)
    }

    /// Whether `address` is an IP literal the runtime can use as is.
    public static func isLiteral(_ address: PeerAddress) -> Bool { (try? SocketAddress(address)) != nil }

    /// Whether `address` is `0.0.0.0` or `::`: good for `--listen`, useless as `--advertise`.
    public static func isUnspecified(_ address: PeerAddress) -> Bool {
        (try? SocketAddress(address))?.isUnspecified ?? false
    }
}
