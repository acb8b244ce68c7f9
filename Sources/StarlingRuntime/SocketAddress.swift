import CLibUV
import StarlingMembership
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 socket address (`sockaddr_storage`), made from an IP literal and never from a
/// name: name resolution happens once, up front, in `AddressResolver`, so the loop never blocks on
/// DNS and a datagram's destination is exactly what the machine named.
struct SocketAddress: Equatable, CustomStringConvertible {
    private(set) var storage = sockaddr_storage()

    enum ParseError: Error, Equatable, CustomStringConvertible {
        case notALiteral(String)
        var description: String {
            switch self {
            case let .notALiteral(host):
                return "'\(host)' is not an IPv4 or IPv6 address literal"
            }
        }
    }

    /// From an IP literal (`192.0.2.1`, `::1`, `fe80::1%eth0`) and a port.
    init(ip host: String, port: UInt16) throws(ParseError) {
        var v4 = sockaddr_in()
        if uv_ip4_addr(host, Int32(port), &v4) == 0 {
            withUnsafeMutableBytes(of: &storage) { target in
                withUnsafeBytes(of: v4) { target.copyMemory(from: $0) }
            }
            return
        }
        var v6 = sockaddr_in6()
        if !host.isEmpty, uv_ip6_addr(host, Int32(port), &v6) == 0 {
            withUnsafeMutableBytes(of: &storage) { target in
                withUnsafeBytes(of: v6) { target.copyMemory(from: $0) }
            }
            return
        }
        throw .notALiteral(host)
    }

    init(_ address: PeerAddress) throws(ParseError) {
        try self.init(ip: address.host, port: address.port)
    }

    /// From an address libuv handed us (a datagram's sender, a connection's peer).
    init?(_ pointer: UnsafePointer<sockaddr>?) {
        guard let pointer else { return nil }
        let length: Int
        switch Int32(pointer.pointee.sa_family) {
        case AF_INET: length = MemoryLayout<sockaddr_in>.size
        case AF_INET6: length = MemoryLayout<sockaddr_in6>.size
        default: return nil
        }
        withUnsafeMutableBytes(of: &storage) { target in
            target.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: length))
        }
    }

    var family: Int32 { Int32(storage.ss_family) }
    var isIPv6: Bool { family == AF_INET6 }

    var port: UInt16 {
        withSockaddr { pointer in
            UnsafeRawPointer(pointer).withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                // sin_port and sin6_port sit at the same offset, in network byte order.
                UInt16(bigEndian: $0.pointee.sin_port)
            }
        }
    }

    /// The IP as text, without brackets (`127.0.0.1`, `::1`).
    var host: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let status = withSockaddr { uv_ip_name($0, &text, text.count) }
        guard status == 0 else { return "?" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// As the machine names addresses. IPv4-mapped IPv6 addresses (a dual-stack socket's view of an
    /// IPv4 peer) are given as plain IPv4, so one peer has one name.
    var peerAddress: PeerAddress {
        let plain = unmapped
        return PeerAddress(host: plain.host, port: plain.port)
    }

    var description: String { peerAddress.description }

    /// `0.0.0.0` or `::`: fine to bind, but not an address anyone can reach us at.
    var isUnspecified: Bool {
        withSockaddr { pointer in
            if family == AF_INET {
                return UnsafeRawPointer(pointer).withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    $0.pointee.sin_addr.s_addr == 0
                }
            }
            return UnsafeRawPointer(pointer).withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                withUnsafeBytes(of: $0.pointee.sin6_addr) { $0.allSatisfy { $0 == 0 } }
            }
        }
    }

    /// `::ffff:a.b.c.d` for an IPv4 address, so a dual-stack IPv6 socket can send to it.
    var mappedToIPv6: SocketAddress {
        guard family == AF_INET else { return self }
        var v6 = sockaddr_in6()
        v6.sin6_family = sa_family_t(AF_INET6)
        withSockaddr { pointer in
            UnsafeRawPointer(pointer).withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                v6.sin6_port = v4.pointee.sin_port
                withUnsafeMutableBytes(of: &v6.sin6_addr) { bytes in
                    bytes[10] = 0xff
                    bytes[11] = 0xff
                    withUnsafeBytes(of: v4.pointee.sin_addr) { source in
                        for index in 0..<4 { bytes[12 + index] = source[index] }
                    }
                }
            }
        }
        var mapped = SocketAddress()
        withUnsafeMutableBytes(of: &mapped.storage) { target in
            withUnsafeBytes(of: v6) { target.copyMemory(from: $0) }
        }
        return mapped
    }

    /// The plain IPv4 address behind `::ffff:a.b.c.d`; any other address unchanged.
    var unmapped: SocketAddress {
        guard family == AF_INET6 else { return self }
        return withSockaddr { pointer in
            UnsafeRawPointer(pointer).withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                let bytes = withUnsafeBytes(of: v6.pointee.sin6_addr) { [UInt8]($0) }
                guard bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff else { return self }
                var v4 = sockaddr_in()
                v4.sin_family = sa_family_t(AF_INET)
                v4.sin_port = v6.pointee.sin6_port
                withUnsafeMutableBytes(of: &v4.sin_addr) { $0.copyBytes(from: bytes[12..<16]) }
                var plain = SocketAddress()
                withUnsafeMutableBytes(of: &plain.storage) { target in
                    withUnsafeBytes(of: v4) { target.copyMemory(from: $0) }
                }
                return plain
            }
        }
    }

    func withSockaddr<Result>(_ body: (UnsafePointer<sockaddr>) -> Result) -> Result {
        withUnsafeBytes(of: storage) { raw in
            body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self))
        }
    }

    private init() {}

    static func == (lhs: SocketAddress, rhs: SocketAddress) -> Bool {
        lhs.family == rhs.family && lhs.host == rhs.host && lhs.port == rhs.port
    }
}
