import StarlingCrypto
import StarlingWire

/// A node's identity: its Ed25519 public key. Printed everywhere as 64 lowercase hex characters.
public struct NodeID: Hashable, Sendable, Comparable, CustomStringConvertible, WireCodable {
    public let publicKey: PublicKey

    public init(_ publicKey: PublicKey) { self.publicKey = publicKey }

    /// Parses the canonical text form (hex of the 32-byte key; upper case is accepted too).
    public init(text: String) throws {
        let trimmed = text.trimmingWhitespace()
        guard trimmed.utf8.count == PublicKey.byteCount * 2,
              let bytes = try? Hex.decode(trimmed)
        else {
            throw TrustError.invalidNodeID(text)
        }
        publicKey = try PublicKey(bytes: bytes)
    }

    public var text: String { Hex.encode(publicKey.bytes) }
    public var description: String { text }
    /// The first 8 hex characters, for log lines and tables where the full ID is too wide.
    public var short: String { String(text.prefix(8)) }

    public static func < (lhs: NodeID, rhs: NodeID) -> Bool { lhs.publicKey < rhs.publicKey }

    public func encode(to writer: inout WireWriter) { writer.writeFixed(publicKey.bytes) }

    public init(from reader: inout WireReader) throws {
        publicKey = try PublicKey(bytes: reader.readFixed(PublicKey.byteCount))
    }
}

extension PublicKey: WireCodable {
    public func encode(to writer: inout WireWriter) { writer.writeFixed(bytes) }
    public init(from reader: inout WireReader) throws {
        try self.init(bytes: reader.readFixed(PublicKey.byteCount))
    }
}

extension Signature: WireCodable {
    public func encode(to writer: inout WireWriter) { writer.writeFixed(bytes) }
    public init(from reader: inout WireReader) throws {
        try self.init(bytes: reader.readFixed(Signature.byteCount))
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
