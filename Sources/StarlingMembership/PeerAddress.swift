import StarlingWire

/// Where a peer listens: host and port. The host is kept as text (an IPv4 or IPv6 literal, or a
/// simulator name); drivers resolve it. Text form `host:port`, `[v6]:port` for IPv6.
public struct PeerAddress: Hashable, Sendable, Comparable, CustomStringConvertible, WireCodable {
    public static let hostBytesMax = 255

    public let host: String
    public let port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case invalid(String)
        public var description: String {
            switch self {
            case let .invalid(text): return "'\(text)' is not an address (expected host:port, or [ipv6]:port)"
            }
        }
    }

    public init(parsing text: String) throws {
        let host: Substring, portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw ParseError.invalid(text)
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { throw ParseError.invalid(text) }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, host.utf8.count <= Self.hostBytesMax, let port = UInt16(portText), port != 0 else {
            throw ParseError.invalid(text)
        }
        self.init(host: String(host), port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public static func < (lhs: PeerAddress, rhs: PeerAddress) -> Bool {
        (lhs.host, lhs.port) < (rhs.host, rhs.port)
    }

    public func encode(to writer: inout WireWriter) {
        writer.writeString(host)
        writer.write(port)
    }

    public init(from reader: inout WireReader) throws {
        host = try reader.readString(field: "address host", limit: Self.hostBytesMax)
        port = try reader.readUInt16()
        guard !host.isEmpty, port != 0 else { throw WireError.invalidField("address must have a host and a non-zero port") }
    }
}
