import StarlingCrypto

extension SignatureCache {
    /// The shared box of a signed claim whose signature is valid, or nil: every peer using this
    /// cache holds the same box for the same claim.
    public func verifiedBox(_ signed: SignedClaim) -> ClaimBox? {
        verifiedBox(signed.signature, for: signed.signedBytes, by: signed.claim.author.publicKey) { ClaimBox(signed) }
    }
}
