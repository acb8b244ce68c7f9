import CSodium

/// An Ed25519 public key: a node's identity, or the cluster authority's.
public struct PublicKey: Hashable, Sendable, Comparable {
    public static let byteCount = Int(crypto_sign_PUBLICKEYBYTES)
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) throws {
        guard bytes.count == Self.byteCount else {
            throw CryptoError.wrongLength(what: "public key", expected: Self.byteCount, actual: bytes.count)
        }
        self.bytes = bytes
    }

    /// Checks a detached signature. Costs ~60 µs here: verify a relayed claim once and cache it.
    public func isValidSignature(_ signature: Signature, for message: [UInt8]) -> Bool {
        Sodium.ensureInitialized()
        return crypto_sign_verify_detached(
            signature.bytes, message, UInt64(message.count), bytes) == 0
    }

    public static func < (lhs: PublicKey, rhs: PublicKey) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    /// Keys are uniformly random, so eight of their bytes hash as well as all 32, four times faster
    /// (member tables are keyed by them; the simulator looks them up 10^7 times a second).
    /// Equality still compares every byte.
    public func hash(into hasher: inout Hasher) {
        var prefix: UInt64 = 0
        for index in 0..<8 { prefix = prefix << 8 | UInt64(bytes[index]) }
        hasher.combine(prefix)
    }
}

/// A detached Ed25519 signature.
public struct Signature: Hashable, Sendable {
    public static let byteCount = Int(crypto_sign_BYTES)
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) throws {
        guard bytes.count == Self.byteCount else {
            throw CryptoError.wrongLength(what: "signature", expected: Self.byteCount, actual: bytes.count)
        }
        self.bytes = bytes
    }
}

/// An Ed25519 key pair. Built from a 32-byte seed, so key files store only the seed and tests can
/// make keys deterministically.
public struct SigningKey: Sendable {
    public static let seedByteCount = Int(crypto_sign_SEEDBYTES)

    public let publicKey: PublicKey
    /// The 32-byte seed the key pair derives from.
    public let seed: SecretBytes
    /// libsodium's 64-byte secret key (seed followed by public key).
    private let secretKey: SecretBytes

    public init(seed: [UInt8]) throws {
        guard seed.count == Self.seedByteCount else {
            throw CryptoError.wrongLength(what: "key seed", expected: Self.seedByteCount, actual: seed.count)
        }
        Sodium.ensureInitialized()
        var publicBytes = [UInt8](repeating: 0, count: PublicKey.byteCount)
        var secretBytes = [UInt8](repeating: 0, count: Int(crypto_sign_SECRETKEYBYTES))
        guard crypto_sign_seed_keypair(&publicBytes, &secretBytes, seed) == 0 else {
            throw CryptoError.invalidKey(what: "key seed")
        }
        self.publicKey = try PublicKey(bytes: publicBytes)
        self.seed = SecretBytes(seed)
        self.secretKey = SecretBytes(secretBytes)
        sodium_memzero(&secretBytes, secretBytes.count)
    }

    /// A new key pair from the given generator (`SecureRandom` in production).
    public static func generate<R: RandomNumberGenerator>(using generator: inout R) -> SigningKey {
        var seed = randomBytes(count: seedByteCount, using: &generator)
        defer { sodium_memzero(&seed, seed.count) }
        // A 32-byte seed is always a valid Ed25519 seed.
        return try! SigningKey(seed: seed)
    }

    public static func generate() -> SigningKey {
        var generator = SecureRandom()
        return generate(using: &generator)
    }

    public func sign(_ message: [UInt8]) -> Signature {
        var signature = [UInt8](repeating: 0, count: Signature.byteCount)
        secretKey.withPointer { secret in
            _ = crypto_sign_detached(
                &signature, nil, message, UInt64(message.count),
                secret)
        }
        return try! Signature(bytes: signature)
    }

    /// The X25519 secret scalar matching this Ed25519 key, for pairwise key agreement.
    func curve25519SecretKey() -> SecretBytes {
        var scalar = [UInt8](repeating: 0, count: Int(crypto_scalarmult_curve25519_BYTES))
        secretKey.withPointer { secret in
            _ = crypto_sign_ed25519_sk_to_curve25519(&scalar, secret)
        }
        defer { sodium_memzero(&scalar, scalar.count) }
        return SecretBytes(scalar)
    }
}
