import CSodium

/// A 32-byte key for XChaCha20-Poly1305.
public struct SymmetricKey: Equatable, Sendable {
    public static let byteCount = Int(crypto_aead_xchacha20poly1305_ietf_KEYBYTES)
    public let secret: SecretBytes

    public init(bytes: [UInt8]) throws {
        guard bytes.count == Self.byteCount else {
            throw CryptoError.wrongLength(what: "symmetric key", expected: Self.byteCount, actual: bytes.count)
        }
        secret = SecretBytes(bytes)
    }

    public static func generate<R: RandomNumberGenerator>(using generator: inout R) -> SymmetricKey {
        try! SymmetricKey(bytes: randomBytes(count: byteCount, using: &generator))
    }

    public static func generate() -> SymmetricKey {
        var generator = SecureRandom()
        return generate(using: &generator)
    }

    /// A short public name for the key (first bytes of its hash), safe to print and gossip.
    public var fingerprint: String {
        let hash = secret.withBytes { ContentHash.of($0) }
        return Hex.encode(Array(hash.bytes.prefix(8)))
    }
}

/// XChaCha20-Poly1305 (IETF) sealing: `nonce (24 bytes) || ciphertext || tag (16 bytes)`.
///
/// The 192-bit nonce is random per message, so two peers using one key can never collide in
/// practice and no counter state needs to survive a restart.
public enum AEAD {
    public static let nonceByteCount = Int(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
    public static let tagByteCount = Int(crypto_aead_xchacha20poly1305_ietf_ABYTES)
    public static let overheadByteCount = nonceByteCount + tagByteCount

    public static func seal<R: RandomNumberGenerator>(
        _ plaintext: [UInt8], additionalData: [UInt8] = [], key: SymmetricKey, using generator: inout R
    ) -> [UInt8] {
        Sodium.ensureInitialized()
        let nonce = randomBytes(count: nonceByteCount, using: &generator)
        var out = [UInt8](repeating: 0, count: nonceByteCount + plaintext.count + tagByteCount)
        out.replaceSubrange(0..<nonceByteCount, with: nonce)
        var written: UInt64 = 0
        out.withUnsafeMutableBufferPointer { buffer in
            key.secret.withPointer { keyBytes in
                _ = crypto_aead_xchacha20poly1305_ietf_encrypt(
                    buffer.baseAddress! + nonceByteCount, &written,
                    plaintext, UInt64(plaintext.count),
                    additionalData, UInt64(additionalData.count),
                    nil, nonce, keyBytes)
            }
        }
        return out
    }

    public static func open(
        _ sealed: [UInt8], additionalData: [UInt8] = [], key: SymmetricKey
    ) throws -> [UInt8] {
        Sodium.ensureInitialized()
        guard sealed.count >= overheadByteCount else { throw CryptoError.decryptionFailed }
        var out = [UInt8](repeating: 0, count: sealed.count - overheadByteCount)
        var written: UInt64 = 0
        let status = sealed.withUnsafeBufferPointer { input in
            key.secret.withPointer { keyBytes in
                crypto_aead_xchacha20poly1305_ietf_decrypt(
                    &out, &written, nil,
                    input.baseAddress! + nonceByteCount, UInt64(sealed.count - nonceByteCount),
                    additionalData, UInt64(additionalData.count),
                    input.baseAddress!, keyBytes)
            }
        }
        guard status == 0 else { throw CryptoError.decryptionFailed }
        return out
    }
}
