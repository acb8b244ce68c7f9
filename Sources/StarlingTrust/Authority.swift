import StarlingCrypto

/// The cluster authority: the offline key that admits nodes and revokes them.
public struct Authority: Sendable {
    public let signingKey: SigningKey
    public var publicKey: PublicKey { signingKey.publicKey }

    public init(signingKey: SigningKey) { self.signingKey = signingKey }

    /// Issues a certificate valid from `now` for `validFor` seconds.
    public func admit(
        _ node: NodeID, name: String, roles: Roles, now: UInt64, validFor: UInt64
    ) throws(TrustError) -> Certificate {
        if let problem = NodeName.problem(with: name) { throw .invalidName(name, reason: problem) }
        guard !roles.isEmpty else { throw .invalidValidity("a certificate needs at least one role") }
        guard validFor > 0, validFor <= TrustLimits.validityMax else {
            throw .invalidValidity("validity must be between 1 second and \(TrustLimits.validityMax / 86_400) days")
        }
        guard node.publicKey != publicKey else {
            throw .invalidName(name, reason: "the authority key must not be used as a node key")
        }
        let (notAfter, overflow) = now.addingReportingOverflow(validFor)
        guard !overflow else { throw .invalidValidity("the window ends after the year 292277026596") }
        return Certificate(signer: signingKey, node: node, name: name, roles: roles, notBefore: now, notAfter: notAfter)
    }

    public func revoke(_ node: NodeID, now: UInt64, reason: String = "") throws(TrustError) -> Revocation {
        guard reason.utf8.count <= TrustLimits.reasonBytesMax else {
            throw .invalidValidity("the reason is longer than \(TrustLimits.reasonBytesMax) bytes")
        }
        return Revocation(signer: signingKey, node: node, revokedAt: now, reason: reason)
    }
}
