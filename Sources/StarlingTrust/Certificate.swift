import StarlingCrypto
import StarlingWire

/// The authority's statement that a node key belongs to the cluster, under a name, with roles, for
/// a validity window.
///
/// The signature covers a domain-separation context followed by the canonical encoding of every
/// other field, so a certificate's signature can never be replayed as some other signed object.
public struct Certificate: Hashable, Sendable, WireCodable {
    public static let signingContext = Array("starling/certificate/v1".utf8)

    public let authority: PublicKey
    public let node: NodeID
    public let name: String
    public let roles: Roles
    /// Seconds since the epoch, inclusive.
    public let notBefore: UInt64
    /// Seconds since the epoch, inclusive.
    public let notAfter: UInt64
    public let signature: Signature

    /// Signs a new certificate; use `Authority.admit`, which checks the inputs.
    init(signer: SigningKey, node: NodeID, name: String, roles: Roles, notBefore: UInt64, notAfter: UInt64) {
        self.authority = signer.publicKey
        self.node = node
        self.name = name
        self.roles = roles
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.signature = signer.sign(Self.signedBytes(
            authority: authority, node: node, name: name, roles: roles, notBefore: notBefore, notAfter: notAfter))
    }

    static func signedBytes(
        authority: PublicKey, node: NodeID, name: String, roles: Roles, notBefore: UInt64, notAfter: UInt64
    ) -> [UInt8] {
        var writer = WireWriter(capacity: 160)
        writer.writeFixed(signingContext)
        writer.write(authority)
        writer.write(node)
        writer.writeString(name)
        writer.write(roles)
        writer.writeVarint(notBefore)
        writer.writeVarint(notAfter)
        return writer.bytes
    }

    /// The bytes the signature covers.
    public var signedBytes: [UInt8] {
        Self.signedBytes(authority: authority, node: node, name: name, roles: roles, notBefore: notBefore, notAfter: notAfter)
    }

    public var hasValidSignature: Bool { authority.isValidSignature(signature, for: signedBytes) }

    /// Checks everything a peer checks before it lets `node` in: issuer, signature, window (with
    /// `TrustLimits.clockSkewSeconds` of tolerance at both ends), revocations, and required roles.
    public func verify(
        authority expected: PublicKey, now: UInt64, revocations: RevocationList = RevocationList(),
        requiring required: Roles = []
    ) throws(TrustError) {
        guard authority == expected else {
            throw .wrongAuthority(expected: Hex.encode(expected.bytes), actual: Hex.encode(authority.bytes))
        }
        guard hasValidSignature else { throw .badSignature }
        let skew = TrustLimits.clockSkewSeconds
        guard now >= notBefore || notBefore - now <= skew else { throw .notYetValid(notBefore: notBefore, now: now) }
        guard now <= notAfter || now - notAfter <= skew else { throw .expired(notAfter: notAfter, now: now) }
        if let revocation = revocations.revocation(of: node) { throw .revoked(at: revocation.revokedAt) }
        guard roles.isSuperset(of: required) else { throw .missingRole(required.subtracting(roles)) }
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(authority)
        writer.write(node)
        writer.writeString(name)
        writer.write(roles)
        writer.writeVarint(notBefore)
        writer.writeVarint(notAfter)
        writer.write(signature)
    }

    public init(from reader: inout WireReader) throws {
        authority = try reader.read()
        node = try reader.read()
        name = try reader.readString(field: "certificate name", limit: TrustLimits.nodeNameBytesMax)
        roles = try reader.read()
        notBefore = try reader.readVarint()
        notAfter = try reader.readVarint()
        signature = try reader.read()
        if let problem = NodeName.problem(with: name) { throw WireError.invalidField("certificate name: \(problem)") }
        guard notBefore <= notAfter else { throw WireError.invalidField("certificate window ends before it starts") }
    }
}

/// Rules for node names, shared by the authority (when admitting) and decoders (when reading).
public enum NodeName {
    public static func problem(with name: String) -> String? {
        if name.isEmpty { return "empty" }
        if name.utf8.count > TrustLimits.nodeNameBytesMax { return "longer than \(TrustLimits.nodeNameBytesMax) bytes" }
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
        return allowed ? nil : "use only letters, digits, '.', '-' and '_'"
    }
}
