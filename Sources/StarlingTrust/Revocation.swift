import StarlingCrypto
import StarlingWire

/// The authority's statement that a node key is no longer trusted, from `revokedAt` on. Gossiped
/// to every peer; a revoked key is dropped everywhere and never readmitted.
public struct Revocation: Hashable, Sendable, WireCodable {
    public static let signingContext = Array("starling/revocation/v1".utf8)

    public let authority: PublicKey
    public let node: NodeID
    public let revokedAt: UInt64
    public let reason: String
    public let signature: Signature

    init(signer: SigningKey, node: NodeID, revokedAt: UInt64, reason: String) {
        self.authority = signer.publicKey
        self.node = node
        self.revokedAt = revokedAt
        self.reason = reason
        self.signature = signer.sign(Self.signedBytes(authority: authority, node: node, revokedAt: revokedAt, reason: reason))
    }

    static func signedBytes(authority: PublicKey, node: NodeID, revokedAt: UInt64, reason: String) -> [UInt8] {
        var writer = WireWriter(capacity: 128)
        writer.writeFixed(signingContext)
        writer.write(authority)
        writer.write(node)
        writer.writeVarint(revokedAt)
        writer.writeString(reason)
        return writer.bytes
    }

    public var signedBytes: [UInt8] {
        Self.signedBytes(authority: authority, node: node, revokedAt: revokedAt, reason: reason)
    }

    public func verify(authority expected: PublicKey) throws(TrustError) {
        guard authority == expected else {
            throw .wrongAuthority(expected: Hex.encode(expected.bytes), actual: Hex.encode(authority.bytes))
        }
        guard authority.isValidSignature(signature, for: signedBytes) else { throw .badSignature }
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(authority)
        writer.write(node)
        writer.writeVarint(revokedAt)
        writer.writeString(reason)
        writer.write(signature)
    }

    public init(from reader: inout WireReader) throws {
        authority = try reader.read()
        node = try reader.read()
        revokedAt = try reader.readVarint()
        reason = try reader.readString(field: "revocation reason", limit: TrustLimits.reasonBytesMax)
        signature = try reader.read()
    }
}

/// The revocations a peer knows, verified against its authority on insertion.
public struct RevocationList: Sendable, Equatable {
    public private(set) var byNode: [NodeID: Revocation] = [:]

    public init() {}

    /// Adds a revocation after checking its signature. Keeps the earliest time when a node is
    /// revoked twice, so the merge is commutative.
    public mutating func insert(_ revocation: Revocation, authority: PublicKey) throws(TrustError) {
        try revocation.verify(authority: authority)
        if let existing = byNode[revocation.node], existing.revokedAt <= revocation.revokedAt { return }
        byNode[revocation.node] = revocation
    }

    public func revocation(of node: NodeID) -> Revocation? { byNode[node] }
    public var count: Int { byNode.count }
}
