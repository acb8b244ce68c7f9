import StarlingTestSupport
import StarlingCrypto
import StarlingTrust
import StarlingWire
import Testing

/// Deterministic keys and documents shared by the trust tests.
enum Fixture {
    static func signingKey(_ fill: UInt8) -> SigningKey {
        try! SigningKey(seed: [UInt8](repeating: fill, count: SigningKey.seedByteCount))
    }

    static let authority = Authority(signingKey: signingKey(0xA0))
    static let otherAuthority = Authority(signingKey: signingKey(0xA1))
    static let nodeKey = signingKey(0x01)
    static let node = NodeID(nodeKey.publicKey)
    static let otherNode = NodeID(signingKey(0x02).publicKey)

    /// 2027-01-15T08:00:00Z, far from zero so the skew window fits below it.
    static let issuedAt: UInt64 = 1_800_000_000
    static let validFor: UInt64 = 30 * 86_400

    static func certificate(
        node: NodeID = node, name: String = "node-a", roles: Roles = [.peer, .coordinator],
        by authority: Authority = authority, now: UInt64 = issuedAt, validFor: UInt64 = validFor
    ) -> Certificate {
        try! authority.admit(node, name: name, roles: roles, now: now, validFor: validFor)
    }

    static func revocation(of node: NodeID = node, at time: UInt64 = issuedAt + 10, reason: String = "key lost") -> Revocation {
        try! authority.revoke(node, now: time, reason: reason)
    }

    static func keyring(count: Int, primary: Int, seed: UInt64 = 77) -> Keyring {
        var random = DeterministicRandom(seed: seed)
        let keys = (0..<count).map { _ in SymmetricKey.generate(using: &random) }
        return try! Keyring(keys: keys, primaryIndex: count == 0 ? nil : primary)
    }

    /// One document of every kind, with a name for messages.
    static var documents: [(name: String, document: TrustDocument)] {
        [
            ("identity", .identity(nodeKey)),
            ("authoritySecret", .authoritySecret(authority.signingKey)),
            ("authorityPublic", .authorityPublic(authority.publicKey)),
            ("certificate", .certificate(certificate())),
            ("revocation", .revocation(revocation())),
            ("keyring", .keyring(keyring(count: 3, primary: 1))),
        ]
    }
}

/// Runs `body`, which must throw a `TrustError`, and returns it (nil after recording an issue).
func expectTrustError(
    _ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation
) -> TrustError? {
    do {
        try body()
        Issue.record("expected a TrustError, but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as TrustError {
        return error
    } catch {
        Issue.record("expected a TrustError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

