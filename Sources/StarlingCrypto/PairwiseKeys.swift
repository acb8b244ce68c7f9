import CSodium

/// Symmetric keys shared by exactly two nodes, derived from their Ed25519 identities.
///
/// Both identities are converted to X25519 and combined with libsodium's `crypto_kx`, which hashes
/// the shared secret together with both public keys. The node whose public key sorts first takes
/// the "client" side, so both ends derive the same pair without talking. Each direction gets its own
/// key. This is what makes per-packet authentication cheap: one AEAD or MAC instead of one
/// Ed25519 signature per packet.
public struct PairwiseKeys: Sendable {
    /// Key for what this node sends to the other.
    public let sending: SymmetricKey
    /// Key for what the other node sends to this one.
    public let receiving: SymmetricKey

    public init(local: SigningKey, remote: PublicKey) throws {
        Sodium.ensureInitialized()
        guard local.publicKey != remote else { throw CryptoError.invalidKey(what: "pairwise peer (same as self)") }
        var localCurvePublic = [UInt8](repeating: 0, count: Int(crypto_kx_PUBLICKEYBYTES))
        var remoteCurvePublic = [UInt8](repeating: 0, count: Int(crypto_kx_PUBLICKEYBYTES))
        guard crypto_sign_ed25519_pk_to_curve25519(&localCurvePublic, local.publicKey.bytes) == 0,
              crypto_sign_ed25519_pk_to_curve25519(&remoteCurvePublic, remote.bytes) == 0
        else { throw CryptoError.invalidKey(what: "remote public key") }

        let localCurveSecret = local.curve25519SecretKey()
        var receive = [UInt8](repeating: 0, count: Int(crypto_kx_SESSIONKEYBYTES))
        var send = [UInt8](repeating: 0, count: Int(crypto_kx_SESSIONKEYBYTES))
        defer {
            sodium_memzero(&receive, receive.count)
            sodium_memzero(&send, send.count)
        }
        let status = localCurveSecret.withPointer { secretPointer -> Int32 in
            if local.publicKey < remote {
                return crypto_kx_client_session_keys(&receive, &send, localCurvePublic, secretPointer, remoteCurvePublic)
            } else {
                return crypto_kx_server_session_keys(&receive, &send, localCurvePublic, secretPointer, remoteCurvePublic)
            }
        }
        // libsodium refuses public keys of small order; a peer that sends one is not a peer.
        guard status == 0 else { throw CryptoError.invalidKey(what: "remote public key (weak point)") }
        sending = try SymmetricKey(bytes: send)
        receiving = try SymmetricKey(bytes: receive)
    }
}
