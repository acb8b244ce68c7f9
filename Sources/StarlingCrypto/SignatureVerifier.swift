/// Checks Ed25519 signatures. Injected rather than called directly because a verification costs
/// about 60 µs: the runtime and the simulator pass a `SignatureCache` so each signed record is
/// verified once per process, however many peers receive it.
public protocol SignatureVerifier {
    func isValid(_ signature: Signature, for message: [UInt8], by key: PublicKey) -> Bool
}

/// Verifies every time, with no cache: for tests and one-off checks.
public struct DirectSignatureVerifier: SignatureVerifier, Sendable {
    public init() {}

    public func isValid(_ signature: Signature, for message: [UInt8], by key: PublicKey) -> Bool {
        key.isValidSignature(signature, for: message)
    }
}
